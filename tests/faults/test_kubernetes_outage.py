"""The Kubernetes API gone for 20 minutes: gaps instead of stale samples, a truthful
``/health`` throughout, and full recovery after.

SPEC 2.7: a sample is taken only from a synchronised view, and a view older than 15
minutes yields a recorded gap instead. While the API server is away the collector's view
stops being confirmed; it may still be sampled while younger than 15 minutes, never after.

Two ways to show it:

- ``test_a_20_minute_outage_...`` assembles the service in this process on a clock the test
  moves (``kubernetes_in_process``): 20 minutes of outage in a few seconds of real time,
  sampling every minute, ``/health`` read every minute.
- ``test_serve_through_an_api_outage_...`` runs the real ``license-service serve`` on real
  time. ``make test`` keeps the API away a few seconds (samples continue from the young
  view, ``/health`` names the error); ``make soak`` keeps it away 20 real minutes with a
  1-minute interval, and the gaps and DEGRADED appear as in the model.

Both end the outage with pods changed meanwhile (one stopped, two started) and check the
recovery: the new pods counted, the stopped one gone, the day's peak never above what ran.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.kubernetes.doubles import ManualClock
from tests.e2e.kubernetes.cluster import PRODUCT_ID, Cluster
from tests.faults.kubernetes_in_process import in_process_service
from tests.faults.kubernetes_service import (
    SKIPPED,
    FaultCluster,
    fault_cluster,
    licensed_pod,
    wait_for,
)
from tests.kubernetes_fake.server import FakeApiServer
from tests.soak import soak_or

__all__ = ["fault_cluster"]

MAX_VIEW_AGE = timedelta(minutes=15)  # SPEC 2.7
API_GONE = re.compile("cannot reach the API server|the connection broke")
"""How the collector says the API server is away (refused, or cut mid-watch)."""
"""How the sampler records instants it fell behind by (``unrecorded_misses``)."""
OUTAGE = timedelta(minutes=20)
MINUTE = timedelta(minutes=1)
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def cluster(tmp_path: Path, faults_signing_key: bytes) -> Any:
    with FakeApiServer(bookmark_interval=0.1) as api:
        yield Cluster.prepare(api, tmp_path, signing_key_pem=faults_signing_key)


def test_a_20_minute_outage_gives_gaps_after_15_minutes_and_health_says_why(
    cluster: Cluster,
) -> None:
    api = cluster.api
    api.create(licensed_pod("qm-a", cpu="4"))
    api.create(licensed_pod("qm-b", cpu="1"))
    clock = ManualClock(START)
    outcomes: dict[datetime, str] = {}
    health: dict[datetime, dict[str, Any]] = {}
    with in_process_service(cluster, clock=clock, interval=MINUTE) as service:
        for minute in range(8):  # 12:00 .. 12:07, the API server up
            service.advance_to(START + minute * MINUTE)
            service.settle()
            outcomes[clock()] = service.tick()
            health[clock()] = service.get("/health")
        last_confirmed = clock()

        api.stop()  # 12:07: gone; meanwhile qm-a stops and two pods start
        service.notice_outage()
        api.delete("pods", "qm-a", namespace="mq")
        api.create(licensed_pod("qm-c", cpu="2"))
        api.create(licensed_pod("qm-d", cpu="1"))
        products_during = []
        for minute in range(8, 27):  # 12:08 .. 12:26
            service.advance_to(START + minute * MINUTE)
            outcomes[clock()] = service.tick()
            health[clock()] = service.get("/health")
            products_during.append(service.get("/products"))

        service.advance_to(START + 27 * MINUTE)  # 12:27: back, 20 minutes later
        api.start()
        service.settle()
        for minute in range(27, 30):
            service.advance_to(START + minute * MINUTE)
            service.settle()
            outcomes[clock()] = service.tick()
            health[clock()] = service.get("/health")
        stored = service.stored()
        products_after = service.get("/products")

    outage_end = last_confirmed + OUTAGE
    for instant, outcome in outcomes.items():
        stale = last_confirmed + MAX_VIEW_AGE <= instant < outage_end
        assert outcome == ("missed" if stale else "sampled"), instant
    gap_instants = [instant for instant, _ in stored.missed]
    assert gap_instants == [START + minute * MINUTE for minute in range(22, 27)]  # 5 gaps
    for _, reason in stored.missed:
        assert API_GONE.search(reason)
    # No sample from a view older than 15 minutes, and none between the gaps.
    assert all(not last_confirmed + MAX_VIEW_AGE <= t < outage_end for t in stored.taken)
    assert len(stored.taken) == 30 - 5
    [gap] = stored.gaps
    assert (gap.start, gap.end) == (START + 21 * MINUTE, START + 27 * MINUTE)
    assert gap.reason is not None
    assert API_GONE.search(gap.reason)

    # Until the view is 15 minutes old /health is OK and names the error; then DEGRADED
    # with the reason first; OK again at once after recovery.
    for instant, document in health.items():
        age = instant - last_confirmed
        if last_confirmed < instant < outage_end:
            assert API_GONE.search(document["collector"]["lastError"]), instant
        if last_confirmed < instant < outage_end and age >= MAX_VIEW_AGE:
            assert document["status"] == "DEGRADED", instant
            assert document["collector"]["synced"] is False
            assert "cluster" in document["warnings"][0]
            assert API_GONE.search(document["warnings"][0])
        else:
            assert document["status"] == "OK", (instant, document["warnings"])
        if instant >= outage_end:
            assert document["collector"]["lastError"] is None
    # Reports kept answering, from what was stored.
    assert all(rows == products_during[0] for rows in products_during)

    # Recovery: qm-a gone, qm-c and qm-d counted once; the peak is what really ran.
    assert stored.quantities[START] == 5
    assert stored.quantities[START + 20 * MINUTE] == 5  # the 13-minute-old view
    assert [stored.quantities[START + m * MINUTE] for m in range(27, 30)] == [4, 4, 4]
    assert max(stored.quantities.values()) == 5
    assert [row["metricQuantity"] for row in products_after if row["id"] == PRODUCT_ID] == [5]


OUTAGE_SECONDS = soak_or(3, int(OUTAGE.total_seconds()))
INTERVAL_SECONDS = soak_or(1, 60)
HEALTH_EVERY_SECONDS = soak_or(0.5, 10.0)


@pytest.mark.soak
def test_serve_through_an_api_outage_samples_only_a_fresh_view_and_recovers(
    fault_cluster: FaultCluster,
) -> None:
    api = fault_cluster.api
    service = fault_cluster.start(sample_interval=INTERVAL_SECONDS)
    api.create(licensed_pod("qm-a", cpu="4"))
    api.create(licensed_pod("qm-b", cpu="1"))
    wait_for(
        lambda: service.usage_now() == 5,
        within=10 + 2 * INTERVAL_SECONDS,
        what="the first pods measured",
    )

    api.stop()
    gone_at, gone_monotonic = datetime.now(UTC), time.monotonic()
    api.delete("pods", "qm-a", namespace="mq")
    api.create(licensed_pod("qm-c", cpu="2"))
    api.create(licensed_pod("qm-d", cpu="1"))
    observed: list[tuple[float, dict[str, Any], int]] = []  # (seconds into it, /health, status)
    while (elapsed := time.monotonic() - gone_monotonic) < OUTAGE_SECONDS:
        assert service.alive()
        products = service.get("/products")
        observed.append((elapsed, service.health(), products.status_code))
        time.sleep(HEALTH_EVERY_SECONDS)
    api.start()
    back_at = datetime.now(UTC)
    wait_for(
        lambda: service.usage_now() == 4,
        within=30 + 2 * INTERVAL_SECONDS,
        what="the pods changed during the outage measured",
    )
    recovered = wait_for(
        lambda: (
            (document := service.health())["status"] == "OK"
            and document["collector"]["lastError"] is None
            and document
        ),
        within=30 + 2 * INTERVAL_SECONDS,
        what="/health OK and every loop current again after the outage",
    )
    stored = service.store()

    assert all(status == 200 for _, _, status in observed)  # reports served throughout
    # The view was last confirmed just before ``gone_at``: no sample is taken from it once
    # it is 15 minutes old; each sampling instant from then on is a recorded gap instead,
    # until the collector is back (up to one 30-second backoff after the API server).
    stale_from = gone_at + MAX_VIEW_AGE
    assert [t for t in stored.taken if stale_from + timedelta(seconds=1) < t < back_at] == []
    expected_gaps = max(0, int((back_at - stale_from).total_seconds() // INTERVAL_SECONDS))
    # At a 1-second interval (the short version) on a loaded machine the sampler may fall
    # a whole interval behind: it records the instants it skipped, saying so. Those are
    # not the outage's gaps.
    outage_gaps = [(i, r) for i, r in stored.missed if SKIPPED not in r]
    assert expected_gaps - 1 <= len(outage_gaps) <= expected_gaps + 2, stored.missed
    for instant, reason in outage_gaps:
        assert stale_from - MINUTE <= instant <= back_at + MINUTE, (instant, reason)
        assert API_GONE.search(reason)
    # /health: OK while the view may still be sampled, naming the error; DEGRADED with the
    # reason first once it may not.
    stale_after_seconds = MAX_VIEW_AGE.total_seconds()
    for elapsed, document, _ in observed:
        assert API_GONE.search(document["collector"]["lastError"] or ""), elapsed
        if elapsed < stale_after_seconds - 30:
            assert document["status"] == "OK", (elapsed, document["warnings"])
        elif elapsed > stale_after_seconds + 30:
            assert document["status"] == "DEGRADED", elapsed
            assert document["collector"]["synced"] is False
            assert API_GONE.search(document["warnings"][0])
    if stale_after_seconds < OUTAGE_SECONDS:
        assert observed[-1][1]["status"] == "DEGRADED"
    assert recovered["collector"]["lastError"] is None
    assert recovered["collector"]["synced"] is True
    assert max(stored.quantities.values()) == 5  # never 4 + 2 + 1 + 1
    assert stored.quantities[stored.taken[-1]] == 4
    assert service.day_peak(PRODUCT_ID) == 5
    # Each loop (pods, nodes, namespaces, the API and upload token Secrets, the IBMLicensing
    # resources, the entitlements ConfigMap) warns once that the API server is gone; its
    # retries say no more.
    warnings = service.log_lines(r"license_service\.cluster\.kubernetes", level="WARNING")
    assert len(warnings) <= 7, warnings
    assert service.log_lines(r"urllib3") == []
