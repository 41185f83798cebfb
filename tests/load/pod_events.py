"""A steady stream of pod ADDED / MODIFIED / DELETED events through the fake API server.

``PodEventStream`` runs in a thread: event ``i`` is due at ``start + i / rate`` (it never
bursts to catch up, so a slow API server shows as lag, not as a flood). It keeps the pods it
wrote, so the usage the service should report once the stream stops is known exactly:
per product, the CPU limits of the running pods added up (the nodes are too large for
capping to apply, and every limit is a whole number of cores, so no rounding either).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from tests.load.live_cluster import NODES, LiveCluster

JsonObject = dict[str, Any]

PRODUCTS: Final = (
    ("mq-advanced", "IBM MQ Advanced"),
    ("app-connect", "IBM App Connect Enterprise"),
)
VPC: Final = "VIRTUAL_PROCESSOR_CORE"


@dataclass(slots=True)
class StreamedPod:
    """What the stream wrote of one pod: its product, CPU limit and whether it runs."""

    product_id: str
    cpu: int
    running: bool


def licensed_pod(name: str, *, product: int, cpu: int, node: str) -> JsonObject:
    """A running pod of one of ``PRODUCTS`` with one container limited to ``cpu`` cores."""
    product_id, product_name = PRODUCTS[product]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app": product_id, "revision": "0"},
            "annotations": {
                "productID": product_id,
                "productName": product_name,
                "productMetric": VPC,
            },
        },
        "spec": {
            "nodeName": node,
            "containers": [
                {"name": "main", "image": "workload", "resources": {"limits": {"cpu": str(cpu)}}}
            ],
        },
        "status": {"phase": "Running"},
    }


class PodEventStream:
    """Writes pods at a steady rate around a target population, in a thread (a context)."""

    def __init__(
        self, cluster: LiveCluster, *, rate: float, population: int, seed: int = 6
    ) -> None:
        self.cluster = cluster
        self.rate = rate
        self.population = population
        self.applied: Counter[str] = Counter()
        self.pods: dict[str, StreamedPod] = {}
        self.max_lag_seconds = 0.0
        self.seconds = 0.0
        self._random = random.Random(seed)
        self._created = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-events", daemon=True)
        self._failure: BaseException | None = None

    def fill(self) -> None:
        """Create the initial population (before the service starts: it arrives by list)."""
        for _ in range(self.population):
            self._add()
        self.applied.clear()

    def __enter__(self) -> PodEventStream:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop after the event in progress; re-raise what made the stream fail, if anything."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)
        if self._failure is not None:
            raise AssertionError(f"the pod event stream failed: {self._failure!r}")

    @property
    def total(self) -> int:
        """Events applied since the stream started."""
        return sum(self.applied.values())

    def expected_usage(self) -> dict[str, int]:
        """Per product id, the cores the service should measure from the pods now."""
        usage = dict.fromkeys((product_id for product_id, _ in PRODUCTS), 0)
        for pod in self.pods.values():
            if pod.running:
                usage[pod.product_id] += pod.cpu
        return usage

    def _run(self) -> None:
        started = time.monotonic()
        index = 0
        try:
            while not self._stop.is_set():
                due = started + index / self.rate
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    break
                self.max_lag_seconds = max(self.max_lag_seconds, time.monotonic() - due)
                self._one_event()
                index += 1
        except BaseException as failure:  # reported by stop(), in the test's thread
            self._failure = failure
        self.seconds = time.monotonic() - started

    def _one_event(self) -> None:
        count = len(self.pods)
        roll = self._random.random()
        if count < self.population // 2 or (roll < 0.3 and count < self.population * 3 // 2):
            self._add()
        elif roll < 0.6 and count > 0:
            self._delete()
        else:
            self._modify()

    def _add(self) -> None:
        name = f"pod-{self._created:05}"
        product = self._created % len(PRODUCTS)
        cpu = 1 + self._random.randrange(3)
        node = NODES[self._created % len(NODES)]
        self._created += 1
        self.cluster.create_pod(licensed_pod(name, product=product, cpu=cpu, node=node))
        self.pods[name] = StreamedPod(PRODUCTS[product][0], cpu, running=True)
        self.applied["ADDED"] += 1

    def _delete(self) -> None:
        name = self._random.choice(sorted(self.pods))
        self.cluster.delete_pod(name)
        del self.pods[name]
        self.applied["DELETED"] += 1

    def _modify(self) -> None:
        name = self._random.choice(sorted(self.pods))
        pod = self.pods[name]
        if self._random.random() < 0.5:
            # A change the usage must follow: the pod stops or starts running.
            pod.running = not pod.running
            phase = "Running" if pod.running else "Pending"
            self.cluster.patch_pod_status(name, {"status": {"phase": phase}})
        else:
            # A change it must not: a label only.
            revision = str(self._random.randrange(10**6))
            self.cluster.patch_pod(name, {"metadata": {"labels": {"revision": revision}}})
        self.applied["MODIFIED"] += 1
