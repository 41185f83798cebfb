"""A change in the cluster is seen at once and said to count at the next sample (issue 12.6).

Samples are the record: reports change at the sampling instants only, never between
them (an extra sample after each change would favour short-lived states in the daily
peaks and break "samples taken of those expected"). So a real server over a dump file
that is replaced says, on ``/status``, what changed since the sample shown and when
the next sample counts it; ``/health`` names that instant (``nextSampleAt``); and
``/products`` follows at that instant.
"""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Start
from tests.e2e.processes import DUMP, ServiceProcess, eventually

MQ = "IBM MQ Advanced"


def _add_mq_pod(dump: Path) -> None:
    """Replace ``dump`` (atomically) with one more IBM MQ pod: 4 VPC become 6."""
    document = json.loads(dump.read_text())
    mq_pod = next(
        item for item in document["items"] if item["metadata"]["name"] == "qm-prod-ibm-mq-1"
    )
    third = copy.deepcopy(mq_pod)
    third["metadata"]["name"] = "qm-prod-ibm-mq-2"
    third["metadata"]["uid"] = third["metadata"].get("uid", "mq-2") + "-2"
    document["items"].append(third)
    replacement = dump.with_suffix(".new")
    replacement.write_text(json.dumps(document))
    os.replace(replacement, dump)


def _get(service: ServiceProcess, path: str) -> httpx.Response:
    answer = httpx.get(f"{service.url}{path}", params={"token": service.token}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer


def _health(service: ServiceProcess) -> dict[str, Any]:
    collector: dict[str, Any] = _get(service, "/health").json()["collector"]
    return collector


def _mq(service: ServiceProcess) -> int | None:
    rows = _get(service, "/products").json()
    return next((row["metricQuantity"] for row in rows if row["name"] == MQ), None)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sampled(service: ServiceProcess) -> dict[str, Any]:
    return eventually(
        lambda: (collector := _health(service))["lastSampleAt"] and collector,
        within=15,
        what="a first sample",
    )


def test_status_says_what_changed_and_when_the_next_sample_counts_it(
    start: Start, tmp_path: Path
) -> None:
    dump = tmp_path / "cluster.json"
    dump.write_text(DUMP.read_text())
    service = start(dumps=[dump], sample_interval=300)
    collector = _sampled(service)
    next_at = _instant(collector["nextSampleAt"])
    assert next_at.timestamp() % 300 == 0
    assert next_at > datetime.now(UTC)
    if next_at - datetime.now(UTC) < timedelta(seconds=30):
        # Too close to a sampling instant for the test to see the change before it.
        eventually(
            lambda: _health(service)["lastSampleAt"] == collector["nextSampleAt"],
            within=60,
            what="the sample at the next instant",
        )
        next_at += timedelta(seconds=300)
    next_text = next_at.isoformat().replace("+00:00", "Z")
    page = _get(service, "/status").text
    assert f"next sample at {next_text}" in page
    assert "changed since" not in page

    _add_mq_pod(dump)

    page = eventually(
        lambda: "changed since" in (text := _get(service, "/status").text) and text,
        within=10,
        what="the status page saying the cluster changed",
    )
    changes = re.search(r'<p id="usage-now-changes"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert changes is not None, page
    assert f"{MQ} (VIRTUAL_PROCESSOR_CORE) 4 → 6" in changes.group(1)
    assert f"counted at the next sample, at {next_text}" in changes.group(1)
    assert _health(service)["nextSampleAt"] == next_text
    assert "Cluster dumps re-read: " in service.log()
    assert "; counted from the next sample" in service.log()
    # The record changes at samples only.
    assert _mq(service) == 4


def test_products_follow_at_the_instant_health_names(start: Start, tmp_path: Path) -> None:
    dump = tmp_path / "cluster.json"
    dump.write_text(DUMP.read_text())
    service = start(dumps=[dump], sample_interval=10)
    _sampled(service)
    assert _mq(service) == 4

    _add_mq_pod(dump)
    # The instant named once the file is re-read (every second) is the one that counts it:
    # named before, a sample due within that second could still miss the change.
    eventually(
        lambda: "Cluster dumps re-read: " in service.log(), within=10, what="the dump re-read"
    )
    next_at = _instant(_health(service)["nextSampleAt"])
    wait = (next_at - datetime.now(UTC)).total_seconds()

    eventually(lambda: _mq(service) == 6, within=wait + 10, what="the new pod in /products")
