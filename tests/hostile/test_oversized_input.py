"""Oversized input to a real ``license-service serve``: a 4xx, no hang, bounded memory.

The server reads a cluster dump holding a pod with a 1 MiB annotation and one whose
charged-containers pattern is catastrophic for a backtracking engine, on a container
named with 50,000 ``a``: the first pod is a clear problem of its own, the
second is measured at once, every other pod is counted. Then it gets bursts of
requests no client should send (100 KB URLs, thousands of query parameters, long
paths, 100,000-character tokens, thousands of headers): each is answered with a 4xx
within the client's timeout, and the process's resident memory does not grow with
the number of such requests.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import DUMP, ServiceProcess, eventually, start_service
from tests.hostile.raw_http import RawAnswer, raw_get
from tests.soak import soak_or

MEBIBYTE = 1024 * 1024
LONG_CONTAINER = "a" * 50_000
BURSTS = soak_or(3, 25)


def pod_like(template: dict[str, Any], *, name: str, annotations: dict[str, str]) -> Any:
    pod = copy.deepcopy(template)
    pod["metadata"]["name"] = name
    pod["metadata"]["uid"] = (
        f"00000000-0000-4000-8000-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    )
    pod["metadata"]["annotations"] = annotations
    pod["metadata"].pop("managedFields", None)
    return pod


def write_oversized_dump(path: Path) -> Path:
    dump: dict[str, Any] = json.loads(DUMP.read_text())
    template = next(
        item
        for item in dump["items"]
        if item["kind"] == "Pod" and item["metadata"]["name"] == "was-liberty-0"
    )
    redos = pod_like(
        template,
        name="redos-0",
        annotations={
            "productID": "redos-product",
            "productName": "Pattern product",
            "productMetric": "VIRTUAL_PROCESSOR_CORE",
            "productChargedContainers": "(a+)+$,!(a|aa)+b,!(.*a){20}b",
        },
    )
    redos["spec"]["containers"][0]["name"] = LONG_CONTAINER
    dump["items"] += [
        pod_like(
            template,
            name="huge-annotation-0",
            annotations={
                "productID": "huge-product",
                "productName": "x" * MEBIBYTE,
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
            },
        ),
        redos,
    ]
    path.write_text(json.dumps(dump))
    return path


def products(service: ServiceProcess) -> dict[str, int]:
    rows = httpx.get(f"{service.url}/products", params={"token": service.token}).json()
    return {row["id"]: row["metricQuantity"] for row in rows}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    run_dir = tmp_path_factory.mktemp("oversized")
    started = start_service(run_dir, dumps=(write_oversized_dump(run_dir / "dump.json"),))
    try:
        eventually(lambda: products(started), within=15, what="a first sample in /products")
        yield started
    finally:
        started.stop()


def resident_kib(service: ServiceProcess) -> int:
    """The process's resident memory now (VmRSS), in KiB."""
    status = Path(f"/proc/{service.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1])


def test_a_1_mib_annotation_is_a_problem_of_its_pod_and_the_others_are_counted(
    service: ServiceProcess,
) -> None:
    counted = products(service)
    health = httpx.get(f"{service.url}/health", params={"token": service.token})

    assert "huge-product" not in counted
    assert "e7bd6a0ba1ea4e2d9e1bb7c8a7b0a1f3" in counted  # the fixture's WebSphere pods
    assert counted["redos-product"] > 0  # the patterns were matched on the long name at once
    [huge] = [
        pod
        for pod in health.json()["incompleteAnnotations"]["pods"]
        if pod["name"] == "huge-annotation-0"
    ]
    assert huge["problems"] == [
        {
            "annotation": "productName",
            "reason": f"{MEBIBYTE} characters long, more than the 1024 allowed; shorten the value",
        }
    ]
    assert len(health.content) < 64 * 1024


def oversized_requests(service: ServiceProcess) -> dict[str, Callable[[], RawAnswer]]:
    port, token = service.port, service.token
    many = "&".join(f"p{index}=1" for index in range(5_000))
    headers = {f"X-Filler-{index}": "f" * 60 for index in range(1_500)}
    return {
        "100 KB URL": lambda: raw_get(port, "/products?x=" + "y" * 100_000),
        "100 KB path": lambda: raw_get(port, "/" + "p" * 100_000),
        "9 KB query": lambda: raw_get(port, f"/products?token={token}&x=" + "y" * 9_000),
        "2 KB path": lambda: raw_get(port, "/" + "p" * 2_000),
        "1,000 parameters": lambda: raw_get(port, f"/products?token={token}&" + many[:7_000]),
        "5,000 parameters": lambda: raw_get(port, f"/products?token={token}&{many}"),
        "100,000-character URL token": lambda: raw_get(port, "/health?token=" + "t" * 100_000),
        "100,000-character bearer": lambda: raw_get(
            port, "/health", headers={"Authorization": "Bearer " + "t" * 100_000}
        ),
        "1,500 headers": lambda: raw_get(port, f"/version?token={token}", headers=headers),
    }


def test_each_oversized_request_is_answered_with_a_4xx_in_time(service: ServiceProcess) -> None:
    statuses = {}
    for name, send in oversized_requests(service).items():
        started = time.monotonic()
        statuses[name] = send().status
        assert time.monotonic() - started < 5, f"{name} took too long"

    assert all(400 <= status < 500 for status in statuses.values()), statuses
    assert statuses["9 KB query"] == 414
    assert statuses["2 KB path"] == 414
    assert statuses["1,000 parameters"] == 400
    assert statuses["1,500 headers"] in {400, 431}
    assert statuses["100,000-character bearer"] in {400, 431}
    # The service still answers normally afterwards.
    assert httpx.get(f"{service.url}/livez").status_code == 200


@pytest.mark.soak
def test_memory_does_not_grow_with_oversized_requests(service: ServiceProcess) -> None:
    requests = oversized_requests(service)
    for send in requests.values():  # warm up: first-use allocations are not growth
        send()
    before = resident_kib(service)

    for _ in range(BURSTS):
        for send in requests.values():
            send()
    after = resident_kib(service)

    # One burst sends about 1.2 MB; 25 bursts about 30 MB. Growth stays far below that.
    assert after - before < 16 * 1024, f"resident memory grew from {before} to {after} KiB"
    assert httpx.get(f"{service.url}/livez").status_code == 200
