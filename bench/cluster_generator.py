"""A realistic cluster, as the API server's JSON: pods, nodes and namespaces (issue 5).

Pods look like those a real API server returns for Deployment replicas: metadata
with labels, ``generateName``, an owner reference and ``managedFields`` (kubectl,
kube-controller-manager, kubelet), several containers with image, args, ports, env,
resources, probes and mounts, sometimes an init container or a restartable sidecar,
and a full status (conditions, IPs, container statuses). A pod is 5-10 KB of JSON.
About a third of the workloads are annotated for one of a few dozen products
(stand-alone, bundled in Cloud Paks with ratios, with services, some with
``productChargedContainers``). Nodes have mixed sizes (4 to 96 CPUs), some a PVU
label.

Everything is deterministic: the same ``ClusterShape`` gives the same bytes, in any
process, so the list server and the in-process baselines decode the very same
data. Pods are rendered from a few hundred JSON templates by filling in per-pod
values (name, uid, node, IPs, ...), so 150,000 pods take seconds, and any pod can be
rendered again by its index (for watch events) without keeping all of them.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

JsonObject = dict[str, Any]

CREATED_AT: Final = "2026-10-01T08:00:00Z"
STARTED_AT: Final = "2026-10-01T08:00:04Z"
_PLACEHOLDER: Final = re.compile(r'"@@(json_\w+)@@"|@@(\w+)@@')
_NODE_CPUS: Final = (4, 8, 8, 16, 16, 16, 32, 32, 48, 64, 96)
_CPU_LIMITS: Final = ("100m", "250m", "250m", "500m", "500m", "1", "1", "1500m", "2", "4")
_MEMORY: Final = ("128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi")
_TEAMS: Final = (
    "payments",
    "search",
    "checkout",
    "identity",
    "analytics",
    "catalog",
    "billing",
    "mobile",
    "platform",
    "data",
    "ml",
    "ops",
)
_COMPONENTS: Final = ("api", "worker", "web", "cache", "ingest", "scheduler", "gateway", "db")


@dataclass(frozen=True, slots=True)
class Product:
    """One licensed product of the catalogue: the annotations its pods carry."""

    annotations: Mapping[str, str]


def product_catalogue() -> tuple[Product, ...]:
    """A few dozen products: stand-alone, bundled in three Cloud Paks, some with services."""
    products: list[Product] = []
    metrics = (
        "VIRTUAL_PROCESSOR_CORE",
        "VIRTUAL_PROCESSOR_CORE",
        "VIRTUAL_PROCESSOR_CORE",
        "PROCESSOR_VALUE_UNIT",
        "MANAGED_VIRTUAL_SERVER",
        "FREE",
    )
    charged = (None, None, None, "All", "app", "!istio-proxy", "app,worker", "worker-.*")
    for index in range(24):
        annotations = {
            "productID": f"{index:04x}c0ffee{index:020x}",
            "productName": f"IBM Stand-alone Product {index:02}",
            "productMetric": metrics[index % len(metrics)],
            "productVersion": f"{1 + index % 4}.{index % 10}.0",
        }
        chosen = charged[index % len(charged)]
        if chosen is not None:
            annotations["productChargedContainers"] = chosen
        products.append(Product(annotations))
    products.append(
        Product(
            {
                "productID": "unmeasured-00",
                "productName": "IBM Installed Product",
                "productMetric": "INSTALL",
            }
        )
    )
    ratios = ("1:1", "2:1", "1:2", "4:3")
    for pak in range(3):
        for index in range(4):
            annotations = {
                "productID": f"pak{pak}-product-{index}",
                "productName": f"IBM Bundled Product {pak}.{index}",
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
                "productVersion": "2026.3.1",
                "cloudpakId": f"cloudpak-{pak:02}-0000-0000-0000-000000000000",
                "cloudpakName": f"IBM Cloud Pak {pak}",
                "cloudpakVersion": "2026.3",
                "productCloudpakRatio": ratios[(pak + index) % len(ratios)],
                "productChargedContainers": "All",
            }
            if index == 0:
                annotations["serviceId"] = f"service-{pak}"
                annotations["serviceName"] = f"Service {pak}"
            products.append(Product(annotations))
    # One broken declaration: counted under /health, never in the usage.
    products.append(Product({"productID": "broken-00", "productName": "Broken Declaration"}))
    return tuple(products)


@dataclass(frozen=True, slots=True)
class ClusterShape:
    """How big the cluster is; ``seed`` picks one of many equally realistic clusters."""

    pods: int
    nodes: int
    seed: int = 1

    @property
    def namespaces(self) -> int:
        """About one namespace per 300 pods (at least 3), plus the four system ones."""
        return max(3, self.pods // 300)


class _Template:
    """JSON text with holes: ``"@@json_key@@"`` takes raw JSON, ``@@key@@`` text inside a string."""

    def __init__(self, document: object) -> None:
        text = json.dumps(document, separators=(",", ":"))
        self._parts: list[str] = []
        self._keys: list[str] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            self._parts.append(text[position : match.start()])
            raw, inline = match.group(1), match.group(2)
            self._keys.append(raw if raw is not None else inline)
            position = match.end()
        self._parts.append(text[position:])

    def render(self, values: Mapping[str, str]) -> str:
        pieces = [self._parts[0]]
        for key, part in zip(self._keys, self._parts[1:], strict=True):
            pieces.append(values[key])
            pieces.append(part)
        return "".join(pieces)


@dataclass(frozen=True, slots=True)
class _Workload:
    template: int
    namespace: str
    name: str
    replicas: int
    first_pod: int
    values: Mapping[str, str]


@dataclass(slots=True)
class GeneratedCluster:
    """A cluster ready to render: call ``pod_json(i)``, ``node_items()``, ``namespace_items()``."""

    shape: ClusterShape
    node_names: tuple[str, ...]
    namespace_names: tuple[str, ...]
    workloads: tuple[_Workload, ...]
    templates: tuple[_Template, ...]
    _pod_workload: list[int] = field(default_factory=list)

    @property
    def pod_count(self) -> int:
        """How many pods the cluster holds."""
        return self.shape.pods

    def pod_json(self, index: int, *, resource_version: int | None = None) -> str:
        """The JSON of pod ``index`` (0-based), as a list item (no kind/apiVersion)."""
        workload = self.workloads[self._pod_workload[index]]
        digest = hashlib.blake2b(f"{self.shape.seed}/{index}".encode(), digest_size=32).hexdigest()
        node = self.node_names[int(digest[:8], 16) % len(self.node_names)]  # same as host_ip
        phase_pick = int(digest[8:10], 16)
        phase = "Running" if phase_pick >= 6 else ("Pending" if phase_pick >= 3 else "Succeeded")
        ip = f"10.{int(digest[10:12], 16)}.{int(digest[12:14], 16)}.{int(digest[14:16], 16)}"
        node_index = int(digest[:8], 16) % len(self.node_names)
        host_ip = f"172.16.{node_index // 250}.{node_index % 250 + 1}"
        version = resource_version if resource_version is not None else 1000 + index
        values = dict(workload.values)
        values.update(
            pod_name=f"{workload.name}-{_name_suffix(index)}",
            uid=f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}",
            node=node,
            phase=phase,
            pod_ip=ip,
            host_ip=host_ip,
            resource_version=str(version),
            container_id=digest,
        )
        return self.templates[workload.template].render(values)

    def pod_items(self) -> Iterator[bytes]:
        """Every pod's JSON, in order, encoded."""
        for index in range(self.shape.pods):
            yield self.pod_json(index).encode()

    def node_items(self) -> Iterator[bytes]:
        """Every node's JSON, in order, encoded."""
        for index, name in enumerate(self.node_names):
            yield json.dumps(
                _node(name, index, seed=self.shape.seed), separators=(",", ":")
            ).encode()

    def namespace_items(self) -> Iterator[bytes]:
        """Every namespace's JSON (``kube-system`` among them), encoded."""
        for index, name in enumerate(self.namespace_names):
            yield json.dumps(_namespace(name, index), separators=(",", ":")).encode()


def _name_suffix(index: int) -> str:
    """Five hex digits that look random and differ for every index below 2**20.

    Multiplying by an odd number is a bijection modulo 2**20, so no two pods of a
    cluster of up to a million pods share a name.
    """
    return f"{index * 0x9E3779B1 % (1 << 20):05x}"


def generate_cluster(shape: ClusterShape) -> GeneratedCluster:
    """Lay out ``shape``: nodes, namespaces, workloads and their pod templates."""
    rng = random.Random(shape.seed)  # noqa: S311 - reproducible data, not secrets
    catalogue = product_catalogue()
    node_names = tuple(f"worker-{index:05}.bench.example.com" for index in range(shape.nodes))
    namespaces = tuple(
        f"{_TEAMS[index % len(_TEAMS)]}-{index:03}" for index in range(shape.namespaces)
    )
    system = ("default", "kube-system", "kube-public", "kube-node-lease")
    templates = tuple(_Template(_pod_template(rng, variant)) for variant in range(240))
    workloads: list[_Workload] = []
    pod_workload: list[int] = []
    remaining = shape.pods
    while remaining > 0:
        replicas = min(remaining, rng.choice((1, 2, 3, 3, 5, 6, 8, 10, 12, 16, 20)))
        namespace = namespaces[rng.randrange(len(namespaces))]
        component = _COMPONENTS[rng.randrange(len(_COMPONENTS))]
        name = f"{component}-{len(workloads):05}-{rng.getrandbits(40):010x}"
        annotations = {
            "kubectl.kubernetes.io/restartedAt": "2026-10-01T07:59:00Z",
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "9090",
        }
        if rng.random() < 1 / 3:
            annotations.update(catalogue[rng.randrange(len(catalogue))].annotations)
        labels = {
            "app": f"{component}-{len(workloads):05}",
            "app.kubernetes.io/name": component,
            "app.kubernetes.io/part-of": namespace,
            "pod-template-hash": name.rsplit("-", 1)[1],
            "version": f"v{rng.randrange(1, 9)}",
        }
        workload = _Workload(
            template=rng.randrange(len(templates)),
            namespace=namespace,
            name=name,
            replicas=replicas,
            first_pod=shape.pods - remaining,
            values={
                "namespace": namespace,
                "workload": name,
                "app": labels["app"],
                "json_labels": json.dumps(labels, separators=(",", ":")),
                "json_annotations": json.dumps(annotations, separators=(",", ":")),
                "owner_uid": f"{rng.getrandbits(128):032x}",
                "owner_name": name,
            },
        )
        pod_workload.extend([len(workloads)] * replicas)
        workloads.append(workload)
        remaining -= replicas
    return GeneratedCluster(
        shape=shape,
        node_names=node_names,
        namespace_names=(*system, *namespaces),
        workloads=tuple(workloads),
        templates=templates,
        _pod_workload=pod_workload,
    )


def list_pages(
    kind: str, items: Iterator[bytes], *, page_size: int, resource_version: str
) -> list[bytes]:
    """The pages of a ``<kind>List`` as the API server sends them, chained by continue tokens.

    The continue token of page ``n`` is ``page-<n+1>``; the last page has none.
    """
    chunks: list[list[bytes]] = []
    current: list[bytes] = []
    for item in items:
        current.append(item)
        if len(current) == page_size:
            chunks.append(current)
            current = []
    if current or not chunks:
        chunks.append(current)
    pages = []
    for number, chunk in enumerate(chunks):
        metadata: dict[str, str] = {"resourceVersion": resource_version}
        if number + 1 < len(chunks):
            metadata["continue"] = f"page-{number + 1}"
        head = json.dumps(
            {"kind": f"{kind}List", "apiVersion": "v1", "metadata": metadata},
            separators=(",", ":"),
        )
        pages.append(head[:-1].encode() + b',"items":[' + b",".join(chunk) + b"]}")
    return pages


def watch_event_line(event_type: str, kind: str, item: bytes) -> bytes:
    """One watch line: ``{"type":..., "object": <item with kind and apiVersion>}``."""
    prefix = f'{{"type":"{event_type}","object":{{"kind":"{kind}","apiVersion":"v1",'.encode()
    return prefix + item[1:] + b"}\n"


def watch_events(cluster: GeneratedCluster, *, count: int, first_version: int) -> list[bytes]:
    """``count`` pod events after the list: 80 % MODIFIED, 10 % ADDED, 10 % DELETED.

    MODIFIED events change pods that exist, DELETED remove some of them (each at most
    once), ADDED bring pods of new names; every event has the next resourceVersion.
    """
    rng = random.Random(cluster.shape.seed + 7)  # noqa: S311 - reproducible data, not secrets
    pods = cluster.shape.pods
    deleted: set[int] = set()
    lines: list[bytes] = []
    added = 0
    for number in range(count):
        version = first_version + number
        pick = rng.random()
        if pick < 0.1:
            text = cluster.pod_json(added % pods, resource_version=version)
            # A new pod: the same shape under a fresh name.
            text = text.replace('"name":"', f'"name":"added{added}-', 1)
            added += 1
            lines.append(watch_event_line("ADDED", "Pod", text.encode()))
            continue
        index = rng.randrange(pods)
        while index in deleted:
            index = rng.randrange(pods)
        if pick < 0.2 and len(deleted) < pods // 2:
            deleted.add(index)
            event_type = "DELETED"
        else:
            event_type = "MODIFIED"
        item = cluster.pod_json(index, resource_version=version).encode()
        lines.append(watch_event_line(event_type, "Pod", item))
    return lines


def _pod_template(rng: random.Random, variant: int) -> JsonObject:
    """A pod with holes for its workload's and its own values."""
    main_count = (1, 1, 2, 2, 1, 3)[variant % 6]
    names = ["app", "worker", "worker-metrics"][:main_count]
    sidecar = variant % 5 == 0
    if sidecar:
        names.append("istio-proxy")
    limit_pick = rng.randrange(len(_CPU_LIMITS))
    containers = [
        _container(
            rng,
            name,
            cpu_limit=None
            if variant % 17 == 5 and position == 0
            else _CPU_LIMITS[(limit_pick + position) % len(_CPU_LIMITS)],
        )
        for position, name in enumerate(names)
    ]
    init_containers: list[JsonObject] = []
    if variant % 5 == 1:
        init_containers.append(_container(rng, "init-schema", cpu_limit="500m", probes=False))
    if variant % 11 == 3:
        restartable = _container(rng, "log-shipper", cpu_limit="100m", probes=False)
        restartable["restartPolicy"] = "Always"
        init_containers.append(restartable)
    spec: JsonObject = {
        "volumes": [
            {"name": "config", "configMap": {"name": "@@workload@@-config", "defaultMode": 420}},
            {
                "name": "kube-api-access-x7q2p",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {
                            "configMap": {
                                "name": "kube-root-ca.crt",
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "namespace",
                                        "fieldRef": {
                                            "apiVersion": "v1",
                                            "fieldPath": "metadata.namespace",
                                        },
                                    }
                                ]
                            }
                        },
                    ],
                    "defaultMode": 420,
                },
            },
        ],
        "containers": containers,
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "@@workload@@",
        "serviceAccount": "@@workload@@",
        "nodeName": "@@node@@",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "schedulerName": "default-scheduler",
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    if init_containers:
        spec["initContainers"] = init_containers
    return {
        "metadata": {
            "name": "@@pod_name@@",
            "generateName": "@@workload@@-",
            "namespace": "@@namespace@@",
            "uid": "@@uid@@",
            "resourceVersion": "@@resource_version@@",
            "creationTimestamp": CREATED_AT,
            "labels": "@@json_labels@@",
            "annotations": "@@json_annotations@@",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "@@owner_name@@",
                    "uid": "@@owner_uid@@",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": _managed_fields(names, init_containers),
        },
        "spec": spec,
        "status": _status(names, init_containers),
    }


def _container(
    rng: random.Random, name: str, *, cpu_limit: str | None, probes: bool = True
) -> JsonObject:
    memory = _MEMORY[rng.randrange(len(_MEMORY))]
    limits = {"memory": memory}
    if cpu_limit is not None:
        limits["cpu"] = cpu_limit
    env: list[JsonObject] = [
        {"name": f"SETTING_{index}", "value": f"value-{rng.getrandbits(32):08x}"}
        for index in range(rng.randrange(2, 5))
    ]
    env.append(
        {
            "name": "POD_NAME",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
        }
    )
    env.append(
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "@@workload@@-db", "key": "password"}},
        }
    )
    container: JsonObject = {
        "name": name,
        "image": f"registry.example.com/{name}:1.{rng.randrange(40)}.{rng.randrange(10)}",
        "args": ["--config=/etc/app/config.yaml", f"--port={8080 + rng.randrange(10)}"],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": env,
        "resources": {"limits": limits, "requests": {"cpu": "50m", "memory": memory}},
        "volumeMounts": [
            {"name": "config", "readOnly": True, "mountPath": "/etc/app"},
            {
                "name": "kube-api-access-x7q2p",
                "readOnly": True,
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            },
        ],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
    }
    if probes:
        for probe in ("livenessProbe", "readinessProbe"):
            container[probe] = {
                "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                "timeoutSeconds": 1,
                "periodSeconds": 10,
                "successThreshold": 1,
                "failureThreshold": 3,
            }
    return container


def _managed_fields(
    names: Sequence[str], init_containers: Sequence[JsonObject]
) -> list[JsonObject]:
    container_fields = {
        f'k:{{"name":"{name}"}}': {
            ".": {},
            "f:args": {},
            "f:env": {'k:{"name":"POD_NAME"}': {".": {}, "f:name": {}, "f:valueFrom": {}}},
            "f:image": {},
            "f:imagePullPolicy": {},
            "f:name": {},
            "f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:name": {}}},
            "f:resources": {".": {}, "f:limits": {".": {}, "f:cpu": {}, "f:memory": {}}},
            "f:securityContext": {".": {}, "f:readOnlyRootFilesystem": {}},
            "f:volumeMounts": {".": {}, 'k:{"mountPath":"/etc/app"}': {".": {}}},
        }
        for name in names
    }
    status_fields: JsonObject = {
        f'k:{{"name":"{name}"}}': {"f:ready": {}, "f:restartCount": {}, "f:state": {}}
        for name in [*names, *(c["name"] for c in init_containers)]
    }
    return [
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "apiVersion": "v1",
            "time": CREATED_AT,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:annotations": {".": {}, "f:kubectl.kubernetes.io/restartedAt": {}},
                    "f:generateName": {},
                    "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
                    "f:ownerReferences": {
                        ".": {},
                        'k:{"uid":"@@owner_uid@@"}': {},
                    },
                },
                "f:spec": {
                    "f:containers": container_fields,
                    "f:dnsPolicy": {},
                    "f:enableServiceLinks": {},
                    "f:restartPolicy": {},
                    "f:schedulerName": {},
                    "f:securityContext": {},
                    "f:terminationGracePeriodSeconds": {},
                    "f:volumes": {".": {}, 'k:{"name":"config"}': {".": {}}},
                },
            },
        },
        {
            "manager": "kubelet",
            "operation": "Update",
            "apiVersion": "v1",
            "time": STARTED_AT,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:status": {
                    "f:conditions": {
                        'k:{"type":"Ready"}': {".": {}, "f:status": {}, "f:type": {}},
                    },
                    "f:containerStatuses": status_fields,
                    "f:hostIP": {},
                    "f:phase": {},
                    "f:podIP": {},
                    "f:podIPs": {".": {}, 'k:{"ip":"@@pod_ip@@"}': {".": {}, "f:ip": {}}},
                    "f:startTime": {},
                }
            },
            "subresource": "status",
        },
    ]


def _status(names: Sequence[str], init_containers: Sequence[JsonObject]) -> JsonObject:
    def container_status(name: str, position: int) -> JsonObject:
        return {
            "name": name,
            "state": {"running": {"startedAt": STARTED_AT}},
            "lastState": {},
            "ready": True,
            "restartCount": 0,
            "image": f"registry.example.com/{name}:1.0.0",
            "imageID": f"registry.example.com/{name}@sha256:@@container_id@@",
            "containerID": f"containerd://{position}@@container_id@@",
            "started": True,
        }

    status: JsonObject = {
        "phase": "@@phase@@",
        "conditions": [
            {
                "type": kind,
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": STARTED_AT,
            }
            for kind in (
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            )
        ],
        "hostIP": "@@host_ip@@",
        "hostIPs": [{"ip": "@@host_ip@@"}],
        "podIP": "@@pod_ip@@",
        "podIPs": [{"ip": "@@pod_ip@@"}],
        "startTime": CREATED_AT,
        "containerStatuses": [container_status(name, i) for i, name in enumerate(names)],
        "qosClass": "Burstable",
    }
    if init_containers:
        status["initContainerStatuses"] = [container_status(c["name"], 9) for c in init_containers]
    return status


def _node(name: str, index: int, *, seed: int) -> JsonObject:
    rng = random.Random(seed * 1_000_003 + index)  # noqa: S311 - reproducible data, not secrets
    cpus = _NODE_CPUS[rng.randrange(len(_NODE_CPUS))]
    memory_ki = cpus * 4 * 1024 * 1024
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": f"bx2-{cpus}x{cpus * 4}",
        "topology.kubernetes.io/region": "eu-de",
        "topology.kubernetes.io/zone": f"eu-de-{1 + index % 3}",
    }
    if index % 10 == 0:
        labels["license-service/pvu-per-core"] = ("70", "100", "120")[index % 3]
    return {
        "metadata": {
            "name": name,
            "uid": f"{rng.getrandbits(128):032x}",
            "resourceVersion": str(500 + index),
            "creationTimestamp": CREATED_AT,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {"podCIDR": f"10.{index // 250}.{index % 250}.0/24", "providerID": f"ibm://{name}"},
        "status": {
            "capacity": {
                "cpu": str(cpus),
                "ephemeral-storage": "102350Mi",
                "memory": f"{memory_ki}Ki",
                "pods": "110",
            },
            "allocatable": {
                "cpu": f"{cpus * 1000 - 90}m",
                "ephemeral-storage": "96589Mi",
                "memory": f"{memory_ki - 1_500_000}Ki",
                "pods": "110",
            },
            "conditions": [
                {
                    "type": kind,
                    "status": "False" if kind != "Ready" else "True",
                    "lastHeartbeatTime": STARTED_AT,
                    "lastTransitionTime": CREATED_AT,
                    "reason": f"Kubelet{kind}",
                    "message": f"kubelet reports {kind}",
                }
                for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"172.16.{index // 250}.{index % 250 + 1}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": f"{rng.getrandbits(128):032x}",
                "systemUUID": f"{rng.getrandbits(128):032x}",
                "bootID": f"{rng.getrandbits(128):032x}",
                "kernelVersion": "6.8.0-45-generic",
                "osImage": "Ubuntu 24.04.1 LTS",
                "containerRuntimeVersion": "containerd://1.7.22",
                "kubeletVersion": "v1.31.2",
                "kubeProxyVersion": "v1.31.2",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "images": [
                {
                    "names": [f"registry.example.com/image-{image}@sha256:{image:064x}"],
                    "sizeBytes": 50_000_000 + image,
                }
                for image in range(8)
            ],
        },
    }


def _namespace(name: str, index: int) -> JsonObject:
    return {
        "metadata": {
            "name": name,
            "uid": f"{index:08x}-0000-4000-8000-{index:012x}",
            "resourceVersion": str(10 + index),
            "creationTimestamp": CREATED_AT,
            "labels": {"kubernetes.io/metadata.name": name, "team": name.split("-", maxsplit=1)[0]},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
