"""A simulated cluster for demos and tests: realistic workloads, deterministic by seed.

``SimulatedCluster(seed=...).view_at(instant)`` is a pure function of the seed and
the instant: the same pair always gives an equal view, on any machine and in any
process (no ``random`` state, no ``hash()``; numbers come from BLAKE2 digests).

The cluster holds a dozen nodes (4 to 64 CPUs, PVU ratings 70 and 100), stand-alone
VPC, PVU and MVS products, a Cloud Pak with three bundled products (ratios 1:1, 2:1
and 4:1, one of them split into services), sidecars excluded by
``productChargedContainers``, a FREE product, a pod with broken annotations, a
Pending pod and unlicensed pods; three teams' chargeback groups (SPEC 8: namespaces
labelled ``ibm-chargeback-group``), an unlabelled namespace running MQ and a sandbox
namespace the demo excludes (``DEMO_EXCLUDED_NAMESPACES``). Pods name their controller
(Deployment replicas their ReplicaSet, StatefulSets, a DaemonSet) or none (a bare pod
without a CPU limit, which over-commits its node), so that usage explanations show
every kind of workload. Replica counts follow a daily curve (low at night UTC, high in
the afternoon), a quieter weekend and seeded noise, so daily peaks differ from day to
day.
"""

from __future__ import annotations

import functools
import hashlib
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from license_service.cluster.source import ClusterState
from license_service.metering.chargeback_groups import GROUP_LABEL
from license_service.metering.cluster_view import (
    ClusterId,
    ClusterView,
    Container,
    Controller,
    Namespace,
    Node,
    Pod,
)

# A fixed namespace so that cluster ids and namespace UIDs are stable UUIDs per seed.
_UUID_NAMESPACE: Final = uuid.UUID("5f1d3c2e-8b4a-4e7f-9a61-0c2b7d9e4f13")
# The alphabet Kubernetes uses for generated name suffixes (no vowels, no 0/1/3).
_NAME_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
_NOISE_SLOT: Final = timedelta(minutes=15)
_WEEKDAY_LOAD: Final = (1.0, 1.0, 1.0, 0.97, 0.9, 0.55, 0.45)  # Monday first

_VPC: Final = "VIRTUAL_PROCESSOR_CORE"
_PVU: Final = "PROCESSOR_VALUE_UNIT"
_MVS: Final = "MANAGED_VIRTUAL_SERVER"

_Kind = Literal["Deployment", "StatefulSet", "DaemonSet", "Pod"]


@dataclass(frozen=True, slots=True)
class _NodeShape:
    role: Literal["master", "worker"]
    cpus: int
    pvu_per_core: str | None = None


# Three control-plane nodes and nine workers; worker indexes below refer to this order.
_NODES: Final = (
    _NodeShape("master", 4),
    _NodeShape("master", 4),
    _NodeShape("master", 4),
    _NodeShape("worker", 8, "70"),  # worker 0
    _NodeShape("worker", 8),  # worker 1: no label, the configured default applies
    _NodeShape("worker", 16, "70"),  # worker 2
    _NodeShape("worker", 16),  # worker 3
    _NodeShape("worker", 16, "70"),  # worker 4
    _NodeShape("worker", 32),  # worker 5
    _NodeShape("worker", 32, "70"),  # worker 6
    _NodeShape("worker", 48, "100"),  # worker 7
    _NodeShape("worker", 64, "70"),  # worker 8
)


@dataclass(frozen=True, slots=True)
class _Workload:
    """A controller and its pods; replicas move between ``low`` and ``high`` with the load."""

    namespace: str
    name: str
    kind: _Kind
    containers: tuple[Container, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    low: int = 1
    high: int = 1
    workers: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8)
    pending: int = 0  # extra replicas the scheduler could not place


def _product(product_id: str, name: str, metric: str, **extra: str) -> dict[str, str]:
    return {"productID": product_id, "productName": name, "productMetric": metric, **extra}


def _cp4i(product_id: str, name: str, ratio: str, **extra: str) -> dict[str, str]:
    return _product(
        product_id,
        name,
        _VPC,
        productVersion="12.0.12.5",
        cloudpakId="c8b82d189e7545f0892db9ef2731b90d",
        cloudpakName="IBM Cloud Pak for Integration",
        cloudpakVersion="2023.4.1",
        cloudpakMetric=_VPC,
        productCloudpakRatio=ratio,
        **extra,
    )


_LIBERTY: Final = _product(
    "e7daa2b6fd4a4ac7bd9e1a31e3ab7e60", "IBM WebSphere Liberty", _VPC, productVersion="24.0.0.3"
)
_ACE: Final = ("1ab2c8fd3b7a4b2e9f6d0c5e8a7b3d21", "IBM App Connect Enterprise", "1:1")


def _c(name: str, cpu: str | None) -> Container:
    return Container(name=name, cpu_limit=cpu)


_WORKLOADS: Final = (
    # Stand-alone VPC product: the sidecar is excluded by "!istio-proxy" ...
    _Workload(
        "payments",
        "payments-api",
        "Deployment",
        (_c("liberty", "1500m"), _c("istio-proxy", "500m")),
        {**_LIBERTY, "productChargedContainers": "!istio-proxy"},
        low=2,
        high=9,
        workers=(0, 2, 3, 4, 5, 6),
        pending=1,
    ),
    # ... and here by an explicit list of charged containers.
    _Workload(
        "shop",
        "storefront",
        "Deployment",
        (_c("liberty", "1"), _c("istio-proxy", "250m")),
        {**_LIBERTY, "productChargedContainers": "liberty"},
        low=1,
        high=6,
        workers=(1, 2, 3, 5),
    ),
    # PVU product on the 100-PVU node and a 70-PVU node.
    _Workload(
        "db2",
        "db2u-orders",
        "StatefulSet",
        (_c("db2u", "4"), _c("log-shipper", "250m")),
        _product(
            "39e6b6c2d8f54e44b4d0d1c2a6f9e7b5",
            "IBM Db2 Standard Edition",
            _PVU,
            productVersion="11.5.9",
            productChargedContainers="db2u",
        ),
        low=2,
        high=2,
        workers=(7, 8),
    ),
    # MVS product: counted by distinct nodes.
    _Workload(
        "mq",
        "qm-payments",
        "StatefulSet",
        (_c("qmgr", "1"),),
        _product("208423bb063c43288328b1d788745b0c", "IBM MQ", _MVS, productVersion="9.3.5"),
        low=3,
        high=3,
        workers=(4, 5, 6),
    ),
    # The Cloud Pak: three bundled products, App Connect split into two services.
    _Workload(
        "cp4i",
        "ace-orders-is",
        "Deployment",
        (_c("runtime", "1"),),
        _cp4i(*_ACE, serviceId="orders-is", serviceName="orders-integration"),
        low=1,
        high=6,
        workers=(2, 5, 6, 8),
    ),
    _Workload(
        "cp4i",
        "ace-billing-is",
        "Deployment",
        (_c("runtime", "500m"),),
        _cp4i(*_ACE, serviceId="billing-is", serviceName="billing-integration"),
        low=1,
        high=4,
        workers=(5, 8),
    ),
    _Workload(
        "cp4i",
        "es-kafka",
        "StatefulSet",
        (_c("kafka", "2"),),
        _cp4i("b5d3e1f9c7a2468e8d0f2a4c6e8b0d13", "IBM Event Streams", "2:1"),
        low=3,
        high=3,
        workers=(6, 7, 8),
    ),
    _Workload(
        "cp4i",
        "apic-gateway",
        "Deployment",
        (_c("gateway", "2"), _c("istio-proxy", "500m")),
        _cp4i(
            "2c717d4ecc8e4f0f8e7b5a3d1c9e7f25",
            "IBM API Connect",
            "4:1",
            productChargedContainers="!istio-proxy",
        ),
        low=2,
        high=8,
        workers=(5, 6, 8),
    ),
    # A bare pod (no controller: its own workload) without a CPU limit: it counts as its
    # whole node, so worker 0, shared with payments-api, is over-committed and capped.
    _Workload(
        "payments",
        "liberty-debug",
        "Pod",
        (_c("liberty", None),),
        _LIBERTY,
        workers=(0,),
    ),
    # The License Service itself: a FREE product.
    _Workload(
        "ibm-licensing",
        "ibm-licensing-service-instance",
        "Deployment",
        (_c("ibm-licensing-service-instance", "500m"),),
        _product(
            "068a62892a1e4db39641342e592daa25", "IBM Licensing", "FREE", productVersion="4.2.1"
        ),
        workers=(0,),
    ),
    # Broken annotations: productMetric missing and a malformed ratio.
    _Workload(
        "analytics",
        "report-builder",
        "Deployment",
        (_c("cognos", "2"),),
        {
            "productID": "5c4b3a29f8e74d6c9b1a0e2f3d4c5b6a",
            "productName": "IBM Cognos Analytics",
            "cloudpakId": "eb9998dcc5d24e3eb5b6fb488f750fe2",
            "cloudpakName": "IBM Cloud Pak for Data",
            "productCloudpakRatio": "two:1",
        },
        workers=(3,),
    ),
    # Unlicensed software: no license annotations at all.
    _Workload("kube-system", "coredns", "Deployment", (_c("coredns", None),), low=2, high=2),
    _Workload("kube-system", "kube-proxy", "DaemonSet", (_c("kube-proxy", None),)),
    _Workload("istio-system", "istiod", "Deployment", (_c("discovery", "1"),), low=1, high=2),
    _Workload(
        "ingress-nginx",
        "ingress-nginx-controller",
        "Deployment",
        (_c("controller", "1"),),
        low=2,
        high=4,
    ),
    _Workload(
        "monitoring",
        "prometheus-k8s",
        "StatefulSet",
        (_c("prometheus", "2"), _c("config-reloader", "100m")),
        low=2,
        high=2,
        workers=(5, 8),
    ),
    _Workload("default", "redis", "Deployment", (_c("redis", "500m"),), workers=(1,)),
    # A team's sandbox: left out of every count by the demo's excludeNamespace (SPEC 8).
    _Workload(
        "sandbox-dev",
        "liberty-trial",
        "Deployment",
        (_c("liberty", "2"),),
        dict(_LIBERTY),
        low=1,
        high=3,
        workers=(2, 3),
    ),
)

# SPEC 8: three teams label their namespaces ibm-chargeback-group=<team>; mq (and the
# platform's own namespaces) stay unlabelled, sandbox-dev is excluded by the demo.
CHARGEBACK_GROUPS: Final[Mapping[str, str]] = {
    "payments": "retail",
    "shop": "retail",
    "db2": "data",
    "analytics": "data",
    "cp4i": "integration",
    "sandbox-dev": "retail",
}
DEMO_EXCLUDED_NAMESPACES: Final = "sandbox-.*"


@dataclass(frozen=True, slots=True)
class SimulatedCluster:
    """A cluster whose state at any instant follows from ``seed`` alone."""

    seed: int = 0

    @property
    def cluster_id(self) -> ClusterId:
        """A UUID derived from the seed (it is also the UID of ``kube-system``)."""
        return ClusterId(str(uuid.uuid5(_UUID_NAMESPACE, f"cluster/{self.seed}")))

    def view_at(self, instant: datetime) -> ClusterView:
        """Return the cluster as it is at ``instant`` (timezone-aware); pure."""
        if instant.tzinfo is None:
            raise ValueError(f"instant {instant.isoformat()} has no timezone; pass a UTC datetime")
        instant = instant.astimezone(UTC)
        nodes, namespaces = _layout(self.seed)
        load = _load(self.seed, instant)
        noise_slot = int(instant.timestamp() // _NOISE_SLOT.total_seconds())
        # A ReplicaSet's hash changes with each rollout; here, every ISO week.
        year, week_number, _ = instant.isocalendar()
        week = f"{year}-W{week_number:02d}"
        pods: list[Pod] = []
        for index, workload in enumerate(_WORKLOADS):
            replicas = workload.low
            if workload.high > workload.low:
                noise = 0.16 * (_unit(self.seed, "noise", index, noise_slot) - 0.5)
                level = min(1.0, max(0.0, load + noise))
                replicas = workload.low + round((workload.high - workload.low) * level)
            pods.extend(_workload_pods(self.seed, index, week, replicas))
        return ClusterView(pods=tuple(pods), nodes=nodes, namespaces=namespaces)


class SimulatedClusterSource:
    """A ``ClusterSource`` over a simulated cluster: always synchronised, viewed at ``clock()``."""

    def __init__(self, cluster: SimulatedCluster, clock: Callable[[], datetime]) -> None:
        self._cluster = cluster
        self._clock = clock

    def current(self) -> ClusterState:
        """Return the simulated cluster as it is now by the clock."""
        now = self._clock()
        return ClusterState(
            view=self._cluster.view_at(now),
            synced=True,
            observed_at=now,
            cluster_id=self._cluster.cluster_id,
            source="simulated",
        )


# The parts of a view that repeat are built once: views then share equal objects,
# which makes building and comparing views cheap (a 90-day backfill makes 26,000).
@functools.lru_cache(maxsize=8)
def _layout(seed: int) -> tuple[tuple[Node, ...], tuple[Namespace, ...]]:
    nodes = []
    base = int(_unit(seed, "nodes") * 240)
    for index, shape in enumerate(_NODES):
        subnet = 0 if shape.role == "master" else 1 + index % 3
        # 17 is prime to 240: the twelve host numbers are distinct.
        host = 10 + (base + 17 * index) % 240
        # The kubelet reserves some CPU: allocatable is a little below capacity.
        reserved = 80 + 10 * shape.cpus
        nodes.append(
            Node(
                name=f"ip-10-0-{subnet}-{host}.ec2.internal",
                cpu_capacity=str(shape.cpus),
                cpu_allocatable=f"{shape.cpus * 1000 - reserved}m",
                pvu_per_core=shape.pvu_per_core,
            )
        )
    kube_system_uid = SimulatedCluster(seed).cluster_id
    namespaces = tuple(
        Namespace(
            name=name,
            uid=(
                kube_system_uid
                if name == "kube-system"
                else str(uuid.uuid5(_UUID_NAMESPACE, f"namespace/{seed}/{name}"))
            ),
            labels={
                "kubernetes.io/metadata.name": name,
                **({GROUP_LABEL: CHARGEBACK_GROUPS[name]} if name in CHARGEBACK_GROUPS else {}),
            },
        )
        for name in sorted({workload.namespace for workload in _WORKLOADS})
    )
    return tuple(nodes), namespaces


def _load(seed: int, instant: datetime) -> float:
    """The cluster's load between 0 and 1: daily curve x weekday x a seeded daily level."""
    hour = instant.hour + instant.minute / 60 + instant.second / 3600
    # Lowest at 02:00 UTC, highest at 14:00 UTC.
    daily = 0.5 - 0.5 * math.cos(2 * math.pi * (hour - 2) / 24)
    day_level = 0.7 + 0.3 * _unit(seed, "day", instant.date().isoformat())
    return daily * _WEEKDAY_LOAD[instant.weekday()] * day_level


@functools.lru_cache(maxsize=4096)
def _workload_pods(seed: int, index: int, week: str, replicas: int) -> tuple[Pod, ...]:
    """The pods of workload ``index`` with ``replicas`` running replicas in ``week``."""
    workload = _WORKLOADS[index]
    nodes, _ = _layout(seed)
    key = f"{workload.namespace}/{workload.name}"
    if workload.kind == "DaemonSet":
        return tuple(
            _pod(
                workload,
                f"{workload.name}-{_token(5, seed, key, node.name)}",
                node,
                Controller("DaemonSet", workload.name),
            )
            for node in nodes
        )
    workers = [node for node, shape in zip(nodes, _NODES, strict=True) if shape.role == "worker"]
    # Pods start at a seeded worker so that workloads spread over their pool.
    start = int(_unit(seed, "placement", key) * len(workload.workers))
    template_hash = _token(10, seed, key, week)
    # Replicas share one controller: a Deployment's pods name its current ReplicaSet.
    controller: Controller | None = None
    if workload.kind == "Deployment":
        controller = Controller("ReplicaSet", f"{workload.name}-{template_hash}", template_hash)
    elif workload.kind != "Pod":
        controller = Controller(workload.kind, workload.name)
    pods = []
    for replica in range(replicas + workload.pending):
        if workload.kind == "Pod":
            name = workload.name
        elif workload.kind == "StatefulSet":
            name = f"{workload.name}-{replica}"
        else:
            name = f"{workload.name}-{template_hash}-{_token(5, seed, key, week, replica)}"
        node = None
        if replica < replicas:
            node = workers[workload.workers[(start + replica) % len(workload.workers)]]
        pods.append(_pod(workload, name, node, controller))
    return tuple(pods)


def _pod(workload: _Workload, name: str, node: Node | None, controller: Controller | None) -> Pod:
    return Pod(
        namespace=workload.namespace,
        name=name,
        # A Pending pod the scheduler could not place has no node yet.
        node_name=node.name if node is not None else "",
        containers=workload.containers,
        annotations=dict(workload.annotations),
        running=node is not None,
        controller=controller,
    )


def _digest(*parts: object) -> bytes:
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _unit(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts``."""
    return int.from_bytes(_digest(*parts)[:8], "big") / 2**64


def _token(length: int, *parts: object) -> str:
    """A Kubernetes-style generated suffix of ``length`` characters derived from ``parts``."""
    digest = _digest(*parts)
    return "".join(_NAME_ALPHABET[byte % len(_NAME_ALPHABET)] for byte in digest[:length])
