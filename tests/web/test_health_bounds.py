"""``health_bounds``: the problem sections of ``/health`` cut to size, totals and reasons kept."""

from __future__ import annotations

import json

from license_service.metering.api_rows import HealthSections, PodProblemsRow
from license_service.web.probes.health_bounds import (
    MAX_LISTED,
    MAX_PODS_PER_NODE,
    MAX_PROBLEMS_PER_POD,
    bounded_sections,
    bounded_warnings,
    short,
)


def sections(pods: list[PodProblemsRow], **others: object) -> HealthSections:
    return {  # type: ignore[typeddict-item]
        "incompleteAnnotations": {"count": len(pods), "pods": pods},
        "unmeasuredMetrics": [],
        "unknownNodes": [],
        "warnings": [],
        **others,
    }


def broken(index: int, problems: int = 1) -> PodProblemsRow:
    return {
        "namespace": "apps",
        "name": f"pod-{index}",
        "problems": [{"annotation": "productName", "reason": "missing"}] * problems,
    }


def test_small_sections_are_kept_as_they_are() -> None:
    given = sections([broken(1), broken(2)])
    assert bounded_sections(given) == (given, [])


def test_a_long_value_is_cut_and_says_how_long_it_was() -> None:
    assert short("x" * 250) == "x" * 200 + "… (250 characters)"
    assert short("x" * 200) == "x" * 200


def test_many_pods_are_listed_up_to_the_limit_with_the_total_kept() -> None:
    bounded, notes = bounded_sections(sections([broken(index) for index in range(500)]))
    assert bounded["incompleteAnnotations"]["count"] == 500
    assert len(bounded["incompleteAnnotations"]["pods"]) == MAX_LISTED
    assert notes == [
        f"incompleteAnnotations lists {MAX_LISTED} of the 500 pods not counted (count gives "
        "them all); fix these first, or run `license-service measure` on a dump of the "
        "cluster to see every one"
    ]


def test_a_pod_with_many_problems_and_a_node_with_many_pods_are_cut_too() -> None:
    node = {
        "nodeName": "gone",
        "pods": [{"namespace": "apps", "name": f"p{index}"} for index in range(50)],
        "containersWithoutLimit": 50,
    }
    bounded, notes = bounded_sections(sections([broken(1, problems=40)], unknownNodes=[node]))
    assert len(bounded["incompleteAnnotations"]["pods"][0]["problems"]) == MAX_PROBLEMS_PER_POD
    assert len(bounded["unknownNodes"][0]["pods"]) == MAX_PODS_PER_NODE
    assert bounded["unknownNodes"][0]["containersWithoutLimit"] == 50
    assert len(notes) == 2


def test_warnings_are_cut_to_their_share_and_say_how_many_were_left_out() -> None:
    kept = bounded_warnings([f"warning {index}: " + "w" * 2000 for index in range(100)])
    assert kept[-1].startswith("… and ")
    assert kept[-1].endswith("more warnings")
    assert len(json.dumps(kept)) < 11 * 1024
    assert bounded_warnings(["one", "two"]) == ["one", "two"]
