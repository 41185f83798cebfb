"""A watch whose start is compacted after its request was checked but before its stream
starts expires with 410, as the API server's does: the history after it is gone."""

from __future__ import annotations

import json

from .manifests import pod_manifest
from .object_store import ObjectStore
from .resource_types import PODS
from .watching import WatchSession, plan_watch, stream_events


def test_a_start_compacted_between_the_check_and_the_stream_expires_the_watch() -> None:
    store = ObjectStore()
    store.put(PODS.key, pod_manifest("early"), "ADDED")
    start = store.revision
    plan = plan_watch(
        store,
        PODS,
        namespace=None,
        query={"resourceVersion": str(start)},
        default_timeout=1.0,
        expired_start="event",
    )
    assert not plan.expired
    store.put(PODS.key, pod_manifest("late"), "ADDED")  # the change the watch must not lose
    store.compact(expire_watches=True)

    first = next(stream_events(store, plan, WatchSession(PODS), bookmark_interval=3600))

    event = json.loads(first)
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410
