"""The problem sections of ``/health`` cut to a size probes and pages can read every few seconds.

A cluster may hold thousands of pods with broken annotations, each value up to
1,024 characters (3,000 such pods once made a 4.9 MB ``/health`` and a 6.9 MB
``/status``, which shows the same lists). ``bounded_sections`` keeps the SPEC's
fields and shapes and bounds what they list:

- every text is cut to ``MAX_TEXT_CHARS`` characters (a warning or an error to
  ``MAX_SENTENCE_CHARS``), saying how long it was;
- each list keeps at most ``MAX_LISTED`` entries, and no more than fits its share of
  ``SECTION_BYTES`` (as JSON), so ``/health`` stays under 64 KiB whatever the cluster;
  a node lists at most ``MAX_PODS_PER_NODE`` pods, a pod ``MAX_PROBLEMS_PER_POD`` problems;
- ``incompleteAnnotations.count`` stays the total; for every list that was cut, a
  warning says how many entries it shows of how many (the last warning says how
  many warnings were left out).

Pure: the sections in, the bounded sections and the warnings about the cuts out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from license_service.metering.api_rows import (
    HealthSections,
    PodProblemsRow,
    UnknownNodeRow,
    UnmeasuredMetricRow,
)

MAX_TEXT_CHARS: Final = 200
MAX_SENTENCE_CHARS: Final = 1000
"""Warnings and errors are the service's sentences: cut later, so a reason is kept whole."""
MAX_LISTED: Final = 100
MAX_PODS_PER_NODE: Final = 20
MAX_PROBLEMS_PER_POD: Final = 20
SECTION_BYTES: Final = {
    "incompleteAnnotations": 24 * 1024,
    "unknownNodes": 10 * 1024,
    "unmeasuredMetrics": 10 * 1024,
    "warnings": 10 * 1024,
}
"""The JSON each list may take: together well under 64 KiB, with room for the rest."""
_SEE_ALL: Final = (
    "fix these first, or run `license-service measure` on a dump of the cluster to see every one"
)

T = TypeVar("T")


def short(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text``, or its first ``limit`` characters and how long it was; pure."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def short_sentence(text: str) -> str:
    """A warning or error message cut to ``MAX_SENTENCE_CHARS``; pure."""
    return short(text, MAX_SENTENCE_CHARS)


def bounded_sections(sections: HealthSections) -> tuple[HealthSections, list[str]]:
    """``sections`` bounded as the module says, and one warning per list that was cut."""
    notes: list[str] = []
    incomplete = sections["incompleteAnnotations"]
    pods = _fitting(incomplete["pods"], _short_pod, SECTION_BYTES["incompleteAnnotations"])
    if len(pods) < incomplete["count"]:
        notes.append(
            f"incompleteAnnotations lists {len(pods)} of the {incomplete['count']} pods not "
            f"counted (count gives them all); {_SEE_ALL}"
        )
    if any(len(pod["problems"]) > MAX_PROBLEMS_PER_POD for pod in incomplete["pods"]):
        notes.append(f"incompleteAnnotations lists at most {MAX_PROBLEMS_PER_POD} problems a pod")
    nodes = _fitting(sections["unknownNodes"], _short_node, SECTION_BYTES["unknownNodes"])
    if len(nodes) < len(sections["unknownNodes"]):
        notes.append(
            f"unknownNodes lists {len(nodes)} of the {len(sections['unknownNodes'])} nodes "
            f"the cluster does not list; {_SEE_ALL}"
        )
    if any(len(node["pods"]) > MAX_PODS_PER_NODE for node in sections["unknownNodes"]):
        notes.append(f"unknownNodes lists at most {MAX_PODS_PER_NODE} pods of each node")
    unmeasured = sections["unmeasuredMetrics"]
    metrics = _fitting(unmeasured, _short_metric, SECTION_BYTES["unmeasuredMetrics"])
    if len(metrics) < len(unmeasured):
        notes.append(
            f"unmeasuredMetrics lists {len(metrics)} of the {len(unmeasured)} products whose "
            f"metric pod resources cannot measure; {_SEE_ALL}"
        )
    bounded: HealthSections = {
        "incompleteAnnotations": {"count": incomplete["count"], "pods": pods},
        "unmeasuredMetrics": metrics,
        "unknownNodes": nodes,
        "warnings": sections["warnings"],
    }
    return bounded, notes


def bounded_warnings(warnings: Sequence[str]) -> list[str]:
    """``warnings`` shortened and cut to their share, the last one saying how many were left out."""
    kept = _fitting(warnings, short_sentence, SECTION_BYTES["warnings"] - 100)
    left_out = len(warnings) - len(kept)
    if left_out:
        kept.append(f"… and {left_out} more warnings")
    return kept


def _fitting(items: Sequence[T], shorten: Callable[[T], T], budget: int) -> list[T]:
    """The first items, shortened, within ``MAX_LISTED`` and ``budget`` bytes of JSON."""
    kept: list[T] = []
    used = 0
    for item in items:
        if len(kept) == MAX_LISTED:
            break
        shortened = shorten(item)
        size = len(json.dumps(shortened, ensure_ascii=False).encode()) + 2
        if kept and used + size > budget:
            break
        kept.append(shortened)
        used += size
    return kept


def _short_pod(row: PodProblemsRow) -> PodProblemsRow:
    return {
        "namespace": short(row["namespace"]),
        "name": short(row["name"]),
        "problems": [
            {"annotation": short(problem["annotation"]), "reason": short(problem["reason"])}
            for problem in row["problems"][:MAX_PROBLEMS_PER_POD]
        ],
    }


def _short_node(row: UnknownNodeRow) -> UnknownNodeRow:
    return {
        "nodeName": short(row["nodeName"]),
        "pods": [
            {"namespace": short(pod["namespace"]), "name": short(pod["name"])}
            for pod in row["pods"][:MAX_PODS_PER_NODE]
        ],
        "containersWithoutLimit": row["containersWithoutLimit"],
    }


def _short_metric(row: UnmeasuredMetricRow) -> UnmeasuredMetricRow:
    return {
        "productName": short(row["productName"]),
        "productId": short(row["productId"]),
        "metricName": short(row["metricName"]),
        "cloudpakId": short(row["cloudpakId"]) if row["cloudpakId"] is not None else None,
    }
