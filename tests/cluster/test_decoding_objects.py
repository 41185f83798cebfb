"""Kubernetes objects, exactly as the API returns them, become the metering projection.

``item`` of the one decoder (``cluster.decoding``): parsed objects, as dump files hold them.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from license_service.cluster.decoding import namespace_decoder, node_decoder, pod_decoder
from license_service.errors import InputError
from license_service.metering.cluster_view import Container, Controller, Namespace, Node, Pod


def pod_from_json(obj: object) -> Pod:
    """One pod through a fresh decoder."""
    return pod_decoder().item(obj)


def node_from_json(obj: object) -> Node:
    """One node through a fresh decoder."""
    return node_decoder().item(obj)


def namespace_from_json(obj: object) -> Namespace:
    """One namespace through a fresh decoder."""
    return namespace_decoder().item(obj)


DUMP = Path(__file__).parent.parent / "fixtures" / "dumps" / "cluster.json"


def api_object(kind: str, name: str) -> dict[str, Any]:
    """A fresh copy of one object of the fixture dump (full metadata, managedFields, status)."""
    for item in json.loads(DUMP.read_text())["items"]:
        if item["kind"] == kind and item["metadata"]["name"] == name:
            return copy.deepcopy(item)  # type: ignore[no-any-return]
    raise LookupError(f"{kind} {name} is not in {DUMP}")


def test_a_running_pod_keeps_only_what_the_rules_need() -> None:
    pod = pod_from_json(api_object("Pod", "qm-prod-ibm-mq-0"))

    assert pod == Pod(
        namespace="mq",
        name="qm-prod-ibm-mq-0",
        node_name="worker-c",
        containers=(Container("qmgr", "3"), Container("metrics", "500m")),
        annotations={
            "productID": "c661609261d5471fb4ff8970a36bccea",
            "productName": "IBM MQ Advanced",
            "productMetric": "VIRTUAL_PROCESSOR_CORE",
            "productVersion": "9.3.4.0",
            "productChargedContainers": "All",
        },
        running=True,
        controller=Controller("StatefulSet", "qm-prod-ibm-mq"),
    )


def test_annotations_other_than_license_ones_are_dropped() -> None:
    obj = api_object("Pod", "qm-prod-ibm-mq-0")
    obj["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = "2026-11-20T09:00:00Z"
    obj["metadata"]["annotations"]["productid"] = "lower-case is another key"

    pod = pod_from_json(obj)

    assert "kubectl.kubernetes.io/restartedAt" not in pod.annotations
    assert "productid" not in pod.annotations
    assert pod.annotations["productID"] == "c661609261d5471fb4ff8970a36bccea"


def test_a_restartable_init_container_counts_and_other_init_containers_do_not() -> None:
    pod = pod_from_json(api_object("Pod", "ace-dashboard-6f7c9d8b5-k2x9q"))

    # spec.initContainers: "setup" (runs once, limit 4) and "log-shipper" (restartPolicy Always).
    assert pod.containers == (Container("runtime", "1500m"), Container("log-shipper", "1"))


def test_a_pod_in_phase_succeeded_is_not_running() -> None:
    pod = pod_from_json(api_object("Pod", "qm-backup-28876320-hq7zm"))

    assert pod.running is False
    assert pod.node_name == "worker-b"


def test_a_pending_pod_has_no_node() -> None:
    obj = api_object("Pod", "ace-server-85d6b7c4f9-w7mzt")
    del obj["spec"]["nodeName"]
    obj["status"] = {"phase": "Pending", "qosClass": "Burstable"}

    pod = pod_from_json(obj)

    assert pod.node_name == ""
    assert pod.running is False


def test_a_container_without_cpu_limit_has_none() -> None:
    pod = pod_from_json(api_object("Pod", "coredns-5d78c9869d-7xk2p"))

    assert pod.containers == (Container("coredns", None),)
    assert pod.annotations == {}


@pytest.mark.parametrize(
    ("cpu", "text"),
    [(2, "2"), (0.5, "0.5"), (Decimal("0.1"), "0.1"), (Decimal("1E+3"), "1E+3"), ("250m", "250m")],
)
def test_a_cpu_limit_given_as_a_number_becomes_its_text(cpu: object, text: str) -> None:
    obj = api_object("Pod", "ace-server-85d6b7c4f9-w7mzt")
    obj["spec"]["containers"][0]["resources"]["limits"]["cpu"] = cpu

    assert pod_from_json(obj).containers[0].cpu_limit == text


def test_an_item_of_a_typed_list_without_kind_is_decoded() -> None:
    obj = api_object("Pod", "ace-server-85d6b7c4f9-w7mzt")
    del obj["kind"]
    del obj["apiVersion"]

    assert pod_from_json(obj).name == "ace-server-85d6b7c4f9-w7mzt"


def test_a_node_keeps_its_cpu_and_pvu_rating() -> None:
    assert node_from_json(api_object("Node", "worker-b")) == Node(
        name="worker-b", cpu_capacity="8", cpu_allocatable="7910m", pvu_per_core="100"
    )
    assert node_from_json(api_object("Node", "worker-a")).pvu_per_core is None


def test_a_node_that_states_no_cpu_has_none() -> None:
    obj = api_object("Node", "worker-a")
    del obj["status"]

    assert node_from_json(obj) == Node(name="worker-a", cpu_capacity=None, cpu_allocatable=None)


def test_a_namespace_keeps_its_name_uid_and_labels() -> None:
    obj = api_object("Namespace", "mq")

    assert namespace_from_json(obj) == Namespace(
        name="mq",
        uid=obj["metadata"]["uid"],
        labels={"kubernetes.io/metadata.name": "mq", "team": "messaging"},
    )


_DELETE = object()


def changed(obj: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """``obj`` with the value at dotted ``path`` (list indexes as digits) replaced or deleted."""
    *parents, last = [int(key) if key.isdigit() else key for key in path.split(".")]
    target: Any = obj
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return obj


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "metadata.name",
            _DELETE,
            "Pod has no metadata.name; objects written by kubectl always have one",
        ),
        (
            "metadata.name",
            "",
            "Pod has no metadata.name; objects written by kubectl always have one",
        ),
        (
            "metadata.namespace",
            _DELETE,
            "Pod 'apic-gateway-0' has no metadata.namespace; "
            "objects written by kubectl always have one",
        ),
        (
            "spec.containers",
            _DELETE,
            "Pod cp4i/apic-gateway-0 has no spec.containers; a pod has at least one container",
        ),
        (
            "spec.containers",
            {"name": "gateway"},
            "Pod cp4i/apic-gateway-0: spec.containers is an object, not a list",
        ),
        (
            "spec.containers.0",
            "gateway",
            "Pod cp4i/apic-gateway-0: spec.containers[0] is the string 'gateway', not an object",
        ),
        (
            "spec.containers.0.name",
            _DELETE,
            "Pod cp4i/apic-gateway-0: spec.containers[0] has no name",
        ),
        (
            "spec.containers.1.resources.limits.cpu",
            True,
            "Pod cp4i/apic-gateway-0: spec.containers[1].resources.limits.cpu is the boolean "
            "true, not a string",
        ),
        (
            "spec.containers.1.resources",
            ["cpu"],
            "Pod cp4i/apic-gateway-0: spec.containers[1].resources is a list, not an object",
        ),
        (
            "metadata.annotations",
            "productID=x",
            "Pod cp4i/apic-gateway-0: metadata.annotations is the string 'productID=x', "
            "not an object",
        ),
        (
            "metadata.annotations.productName",
            ["IBM API Connect"],
            "Pod cp4i/apic-gateway-0: metadata.annotations['productName'] is a list, not a string",
        ),
        ("spec", [], "Pod cp4i/apic-gateway-0: spec is a list, not an object"),
        ("kind", "Node", "expected a Pod, got an object of kind 'Node'"),
    ],
)
def test_a_malformed_pod_raises_input_error_naming_it(
    path: str, value: object, message: str
) -> None:
    obj = changed(api_object("Pod", "apic-gateway-0"), path, value)

    with pytest.raises(InputError) as raised:
        pod_from_json(obj)

    assert str(raised.value) == message


def test_a_value_that_is_no_object_is_refused() -> None:
    with pytest.raises(InputError, match="a Node must be a JSON object, got a list"):
        node_from_json(["worker-a"])


def test_a_malformed_node_and_namespace_are_named() -> None:
    node = api_object("Node", "worker-a")
    node["status"]["capacity"] = "4"
    namespace = api_object("Namespace", "mq")
    namespace["metadata"]["labels"]["team"] = None

    with pytest.raises(
        InputError, match=r"^Node worker-a: status\.capacity is the string '4', not an object$"
    ):
        node_from_json(node)
    with pytest.raises(
        InputError, match=r"^Namespace mq: metadata.labels\['team'\] is null, not a string$"
    ):
        namespace_from_json(namespace)


_NAMED = "names written by Kubernetes never hold control characters"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("metadata.name", "web\x00", "Pod: metadata.name holds character '\\x00' (U+0000 NULL)"),
        (
            "metadata.namespace",
            "cp4i\n",
            "Pod 'apic-gateway-0': metadata.namespace holds character '\\n' (U+000A LINE FEED)",
        ),
        (
            "spec.nodeName",
            "worker\u202ea",
            "Pod cp4i/apic-gateway-0: spec.nodeName holds character '\\u202e' (U+202E "
            "RIGHT-TO-LEFT OVERRIDE)",
        ),
        (
            "spec.containers.0.name",
            "gw\ud800",
            "Pod cp4i/apic-gateway-0: spec.containers[0].name holds character '\\ud800' "
            "(U+D800, a lone surrogate)",
        ),
    ],
)
def test_a_pod_named_with_a_character_no_name_holds_is_refused_naming_it_escaped(
    path: str, value: str, message: str
) -> None:
    obj = changed(api_object("Pod", "apic-gateway-0"), path, value)

    with pytest.raises(InputError) as raised:
        pod_from_json(obj)

    assert str(raised.value).startswith(message)
    assert _NAMED in str(raised.value)
    assert value not in str(raised.value)


def test_a_node_or_namespace_named_with_such_a_character_is_refused() -> None:
    node = changed(api_object("Node", "worker-a"), "metadata.name", "worker\x1b[2J")
    namespace = changed(api_object("Namespace", "kube-system"), "metadata.uid", "uid\x00")

    with pytest.raises(InputError, match=r"^Node: metadata\.name holds character '\\x1b'"):
        node_from_json(node)
    # The uid of kube-system is the cluster id, kept in every stored row.
    with pytest.raises(InputError, match=r"^Namespace kube-system: metadata\.uid holds"):
        namespace_from_json(namespace)


def test_a_page_leaves_out_a_pod_named_so_and_keeps_the_others_without_its_key() -> None:
    bad = changed(api_object("Pod", "apic-gateway-0"), "metadata.name", "gw\r\nINFO forged")
    good = api_object("Pod", "apic-gateway-0")
    refused: list[tuple[object, str]] = []
    decoder = pod_decoder(on_refused=lambda key, error: refused.append((key, str(error))))
    body = json.dumps({"metadata": {"resourceVersion": "9"}, "items": [bad, good]}).encode()

    page = decoder.page(body)

    assert [key for key, _ in page.objects] == [("cp4i", "apic-gateway-0")]
    # No key: it would carry the line break into the collector's log line.
    assert refused == [(None, refused[0][1])]
    assert "\r" not in refused[0][1]
    assert "\n" not in refused[0][1]


def test_a_deployment_replica_keeps_its_replicaset_and_pod_template_hash() -> None:
    pod = pod_from_json(api_object("Pod", "ace-dashboard-6f7c9d8b5-k2x9q"))

    assert pod.controller == Controller("ReplicaSet", "ace-dashboard-6f7c9d8b5", "6f7c9d8b5")


def test_an_owner_that_is_not_the_controller_names_no_workload() -> None:
    obj = api_object("Pod", "qm-prod-ibm-mq-0")
    obj["metadata"]["ownerReferences"][0]["controller"] = False

    assert pod_from_json(obj).controller is None


def test_a_controller_without_a_kind_is_refused_naming_the_field() -> None:
    obj = api_object("Pod", "qm-prod-ibm-mq-0")
    del obj["metadata"]["ownerReferences"][0]["kind"]

    with pytest.raises(InputError, match=r"metadata\.ownerReferences\[0\]\.kind"):
        pod_from_json(obj)


def test_replicas_share_one_controller() -> None:
    decoder = pod_decoder()
    first = decoder.item(api_object("Pod", "qm-prod-ibm-mq-0"))
    second = decoder.item(api_object("Pod", "qm-prod-ibm-mq-1"))

    assert first.controller is second.controller is not None
