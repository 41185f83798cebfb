"""The one list+watch loop hands its sink a list, then events and confirmations, or failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from license_service.cluster.decoding import ObjectKey, WatchEvent
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.failures import Failure
from license_service.cluster.kubernetes.list_watch import ListWatch, WatchTarget
from license_service.cluster.kubernetes.object_watching import JsonObject, JsonObjects
from license_service.cluster.kubernetes.watch_options import WatchOptions
from tests.cluster.kubernetes.doubles import RecordingSleep
from tests.cluster.kubernetes.watched_objects import secret, secrets_target
from tests.kubernetes_fake.server import FakeApiServer


class RecordingSink:
    """A ``ListWatchSink`` that writes down every call, in order."""

    def __init__(self, after_list: Callable[[], object] = lambda: None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._after_list = after_list

    def on_listed(
        self, objects: dict[ObjectKey, JsonObject], resource_version: str | None, *, at: datetime
    ) -> None:
        self.calls.append(("listed", (sorted(objects), resource_version)))
        self._after_list()

    def on_events(self, events: list[WatchEvent[JsonObject]], *, at: datetime) -> None:
        self.calls.append(("events", [(event.type, event.key) for event in events]))

    def on_current(self, *, at: datetime) -> None:
        self.calls.append(("current", None))

    def on_failure(self, failure: Failure, *, at: datetime) -> None:
        self.calls.append(("failure", failure.message))


def loop_over(target: WatchTarget, sink: RecordingSink, options: WatchOptions) -> ListWatch[Any]:
    """A loop over whole objects of ``target`` into ``sink``, run in the test's thread."""
    return ListWatch(
        target,
        decoder=JsonObjects(target.description),
        sink=sink,
        counters=CollectorCounters(),
        options=options,
        clock=lambda: datetime.now(UTC),
        stop=threading.Event(),
        sleep=RecordingSleep(),
    )


def test_a_list_then_events_from_its_version_then_a_watch_that_ended_normally(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(secret("first"))
    sink = RecordingSink(after_list=lambda: fake_api.create(secret("second")))
    loop = loop_over(secrets_target(kube_client), sink, WatchOptions(watch_timeout_seconds=1))

    loop.run(iterations=1)  # one list and one 1-second watch

    kinds = [kind for kind, _ in sink.calls]
    (first_kind, (listed, version)) = sink.calls[0]
    assert (first_kind, listed) == ("listed", [("default", "first")])
    assert version is not None
    assert kinds[-1] == "current"
    added = [event for kind, events in sink.calls if kind == "events" for event in events]
    assert ("ADDED", ("default", "second")) in added
    assert "failure" not in kinds


def test_a_failing_list_reaches_the_sink_as_a_failure_and_nothing_is_listed(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.faults.fail(None, status=500, path="secrets$")
    sink = RecordingSink()
    loop = loop_over(secrets_target(kube_client), sink, WatchOptions())

    loop.run(iterations=2)

    assert [kind for kind, _ in sink.calls] == ["failure", "failure"]
    assert all(message.startswith("list Secrets: HTTP 500") for _, message in sink.calls)
    assert loop.resource_version is None
