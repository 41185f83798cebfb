"""Fixtures: the fake API server, the real client, and collectors started against them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from license_service.cluster.kubernetes import KubernetesSource, WatchOptions
from tests.cluster.kubernetes.doubles import RecordingSleep
from tests.kubernetes_fake.fixtures import fake_api, kube_client

__all__ = ["fake_api", "kube_client"]

# Page size small enough that a handful of objects spans several pages.
TEST_OPTIONS = WatchOptions(page_size=4, watch_timeout_seconds=30, connect_timeout_seconds=2)

StartSource = Callable[..., KubernetesSource]


def highest(low: float, high: float) -> float:
    """A jitter that always picks the top of the range: delays become exact."""
    return high


@pytest.fixture
def sleep() -> RecordingSleep:
    """The loops' sleep: records delays, waits a hundredth of them."""
    return RecordingSleep()


@pytest.fixture
def start_source(kube_client: client.ApiClient, sleep: RecordingSleep) -> Iterator[StartSource]:
    """Start a ``KubernetesSource`` on the fake (keywords override the test defaults)."""
    sources: list[KubernetesSource] = []

    def start(api_client: client.ApiClient | None = None, **overrides: Any) -> KubernetesSource:
        arguments: dict[str, Any] = {"options": TEST_OPTIONS, "sleep": sleep, "uniform": highest}
        arguments.update(overrides)
        source = KubernetesSource(api_client or kube_client, **arguments)
        sources.append(source)
        source.start()
        return source

    yield start
    for source in sources:
        source.stop()
