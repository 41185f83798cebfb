"""The IBMLicensing resources followed: the oldest wins, changes and deletions are handed on."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.secrets.licensing_resource import (
    LicensingResourceWatch,
    read_licensing_document,
)
from tests.cluster.kubernetes.polling import eventually
from tests.cluster.kubernetes.watched_objects import FAST_OPTIONS
from tests.kubernetes_fake.manifests import ibm_licensing_manifest
from tests.kubernetes_fake.server import FakeApiServer

_UNSET = object()


class Documents:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Mapping[str, Any] | None] = []

    def __call__(self, document: Mapping[str, Any] | None) -> None:
        with self._lock:
            self.items.append(document)

    def latest_name(self) -> object:
        with self._lock:
            if not self.items:
                return _UNSET
            latest = self.items[-1]
        return None if latest is None else latest["metadata"]["name"]


@pytest.fixture
def documents(kube_client: client.ApiClient) -> Iterator[Documents]:
    received = Documents()
    watch = LicensingResourceWatch(
        kube_client,
        on_document=received,
        counters=CollectorCounters(),
        options=FAST_OPTIONS,
        clock=lambda: datetime.now(UTC),
    )
    watch.start()
    assert watch.wait_listed(5)
    yield received
    watch.stop()


def test_without_any_resource_the_document_is_none(documents: Documents) -> None:
    assert documents.items == [None]


def test_the_oldest_resource_wins_and_its_changes_and_deletion_are_handed_on(
    fake_api: FakeApiServer, kube_client: client.ApiClient, documents: Documents
) -> None:
    oldest = ibm_licensing_manifest(
        "instance", spec={"features": {"auth": {"urlBasedEnabled": False}}}
    )
    oldest["metadata"]["creationTimestamp"] = "2025-01-01T00:00:00Z"
    fake_api.create(oldest)
    eventually(lambda: documents.latest_name() == "instance", what="the first resource")
    fake_api.create(ibm_licensing_manifest("newer"))
    eventually(lambda: len(documents.items) >= 3, what="the second resource noticed")
    assert documents.latest_name() == "instance"

    custom = client.CustomObjectsApi(kube_client)
    custom.patch_cluster_custom_object(
        "operator.ibm.com",
        "v1alpha1",
        "ibmlicensings",
        "instance",
        {"spec": {"features": {"auth": {"urlBasedEnabled": True}}}},
    )
    eventually(
        lambda: (
            (latest := documents.items[-1]) is not None
            and latest["spec"]["features"]["auth"]["urlBasedEnabled"] is True
        ),
        what="the change",
    )
    fake_api.delete("ibmlicensings", "instance")

    eventually(lambda: documents.latest_name() == "newer", what="the next oldest in force")
    fake_api.delete("ibmlicensings", "newer")
    eventually(lambda: documents.latest_name() is None, what="no resource left")


def test_reading_once_gives_the_oldest_document(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    assert read_licensing_document(kube_client) is None
    fake_api.create(ibm_licensing_manifest("instance"))

    document = read_licensing_document(kube_client)

    assert document is not None
    assert document["metadata"]["name"] == "instance"
