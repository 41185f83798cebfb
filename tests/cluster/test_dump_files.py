"""kubectl dumps (JSON or YAML, one file or several, or stdin) become one cluster view."""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path
from typing import Any

import pytest

from license_service.cluster.dumps import cluster_id_of, parse_dump, read_dumps
from license_service.errors import InputError
from license_service.metering.cluster_view import ClusterView, Namespace

DUMPS = Path(__file__).parent.parent / "fixtures" / "dumps"
JSON_DUMP = DUMPS / "cluster.json"
YAML_DUMP = DUMPS / "cluster.yaml"
KUBE_SYSTEM_UID = "c87e24a7-b69a-5dcd-ac8d-571b2faabde7"


def dump_items() -> list[dict[str, Any]]:
    return json.loads(JSON_DUMP.read_text())["items"]  # type: ignore[no-any-return]


def write_list(path: Path, items: list[dict[str, Any]], kind: str = "List") -> Path:
    document = {
        "apiVersion": "v1",
        "items": items,
        "kind": kind,
        "metadata": {"resourceVersion": ""},
    }
    path.write_text(json.dumps(document, indent=4))
    return path


def test_a_kubectl_json_dump_becomes_a_cluster_view() -> None:
    view = read_dumps([JSON_DUMP])

    assert [pod.name for pod in view.pods] == [
        "coredns-5d78c9869d-7xk2p",
        "qm-prod-ibm-mq-0",
        "qm-prod-ibm-mq-1",
        "qm-backup-28876320-hq7zm",
        "ace-dashboard-6f7c9d8b5-k2x9q",
        "ace-server-85d6b7c4f9-w7mzt",
        "apic-gateway-0",
        "was-liberty-0",
        "inventory-api-7b5d9c6f4-zr2lp",
    ]
    assert [node.name for node in view.nodes] == ["worker-a", "worker-b", "worker-c"]
    assert [namespace.name for namespace in view.namespaces] == [
        "default",
        "kube-system",
        "kube-public",
        "mq",
        "cp4i",
        "apps",
    ]


def test_items_of_other_kinds_are_ignored() -> None:
    kinds = {item["kind"] for item in dump_items()}

    view = read_dumps([JSON_DUMP])

    assert "Service" in kinds
    assert len(view.pods) + len(view.nodes) + len(view.namespaces) == len(dump_items()) - 1


def test_the_yaml_dump_gives_the_same_view_as_the_json_dump() -> None:
    assert read_dumps([YAML_DUMP]) == read_dumps([JSON_DUMP])


def test_several_dumps_are_merged(tmp_path: Path) -> None:
    items = dump_items()
    pods = write_list(tmp_path / "pods.json", [i for i in items if i["kind"] == "Pod"])
    rest = write_list(tmp_path / "rest.json", [i for i in items if i["kind"] != "Pod"])

    assert read_dumps([pods, rest]) == read_dumps([JSON_DUMP])


def test_an_object_listed_in_two_dumps_is_kept_once_in_its_last_version(tmp_path: Path) -> None:
    items = dump_items()
    later = [i for i in items if i["metadata"]["name"] == "worker-a"]
    later[0]["status"]["capacity"]["cpu"] = "6"
    update = write_list(tmp_path / "update.json", later)

    view = read_dumps([JSON_DUMP, update])

    assert [node.name for node in view.nodes] == ["worker-a", "worker-b", "worker-c"]
    assert view.nodes[0].cpu_capacity == "6"
    assert len(view.pods) == len(read_dumps([JSON_DUMP]).pods)


def test_a_dash_reads_standard_input() -> None:
    view = read_dumps(["-"], stdin=io.StringIO(YAML_DUMP.read_text()))

    assert view == read_dumps([JSON_DUMP])


def test_typed_lists_from_the_api_need_no_kind_on_their_items(tmp_path: Path) -> None:
    # `kubectl get --raw /api/v1/nodes` answers a NodeList whose items carry no kind.
    nodes = [i for i in dump_items() if i["kind"] == "Node"]
    for node in nodes:
        del node["kind"], node["apiVersion"]
    node_list = write_list(tmp_path / "nodes.json", nodes, kind="NodeList")

    assert read_dumps([node_list]).nodes == read_dumps([JSON_DUMP]).nodes


def test_a_single_object_is_a_dump_of_one() -> None:
    pod = next(i for i in dump_items() if i["kind"] == "Pod")

    view = parse_dump(json.dumps(pod), source="pod.json")

    assert [p.name for p in view.pods] == [pod["metadata"]["name"]]


def test_a_yaml_stream_of_several_documents_is_read() -> None:
    text = """\
apiVersion: v1
kind: Namespace
metadata: {name: kube-system, uid: 7d0c2b1a-0000-4000-8000-000000000001}
---
apiVersion: v1
kind: NodeList
items:
- metadata: {name: n1}
  status: {capacity: {cpu: "4"}}
"""
    view = parse_dump(text, source="stream.yaml")

    assert [namespace.name for namespace in view.namespaces] == ["kube-system"]
    assert [node.cpu_capacity for node in view.nodes] == ["4"]


def test_an_empty_list_is_an_empty_cluster() -> None:
    assert (
        parse_dump('{"apiVersion": "v1", "items": [], "kind": "List"}', source="x") == ClusterView()
    )
    assert parse_dump("kind: List\nitems:\n", source="x") == ClusterView()


def test_a_json_number_keeps_its_exact_decimal_text() -> None:
    text = json.dumps(
        {"kind": "Pod", "metadata": {"name": "p", "namespace": "n"}, "spec": {"containers": []}}
    ).replace(
        '"containers": []', '"containers": [{"name": "c", "resources": {"limits": {"cpu": 0.1}}}]'
    )

    assert parse_dump(text, source="x").pods[0].containers[0].cpu_limit == "0.1"


def test_a_utf16_dump_written_by_powershell_is_read(tmp_path: Path) -> None:
    utf16 = tmp_path / "dump.json"
    utf16.write_bytes(codecs.BOM_UTF16_LE + JSON_DUMP.read_text().encode("utf-16-le"))

    assert read_dumps([utf16]) == read_dumps([JSON_DUMP])


def test_the_cluster_id_is_the_uid_of_kube_system() -> None:
    view = read_dumps([JSON_DUMP])
    kube_system = next(ns for ns in view.namespaces if ns.name == "kube-system")

    assert cluster_id_of(view) == kube_system.uid
    assert kube_system.uid == KUBE_SYSTEM_UID


@pytest.mark.parametrize(
    "namespaces",
    [(), (Namespace("default", uid="abc"),), (Namespace("kube-system", uid=""),)],
    ids=["no-namespaces", "no-kube-system", "kube-system-without-uid"],
)
def test_the_cluster_id_is_unknown_without_kube_system(namespaces: tuple[Namespace, ...]) -> None:
    assert cluster_id_of(ClusterView(namespaces=namespaces)) == "unknown"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "dump.json: the file is empty; save the output of `kubectl get"),
        ("  \n", "dump.json: the file is empty"),
        ('{"kind": "List", "items": [}', "dump.json: not valid JSON: line 1, column 28: "),
        ("kind: List\nitems: [\n", "dump.json: not valid YAML: line 3, column 1: "),
        ("[]", "dump.json: not a Kubernetes list (the document is a list)"),
        (
            "just some words",
            "dump.json: not a Kubernetes list (the document is the string 'just some words')",
        ),
        ('{"items": []}', "dump.json: not a Kubernetes list (found no kind; expected List,"),
        ('{"kind": "Secret"}', "dump.json: not a Kubernetes list (found kind 'Secret';"),
        ('{"kind": "List", "items": {}}', "dump.json: items is an object, not a list"),
        ('{"kind": "List", "items": [3]}', "dump.json: items[0] is the number 3, not an object"),
        (
            '{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "n"}}, {}]}',
            "dump.json: items[1] has no kind; a List needs the kind of every item",
        ),
        (
            '{"kind": "PodList", "items": [{"metadata": {"namespace": "a"}}]}',
            "dump.json: items[0]: Pod has no metadata.name",
        ),
    ],
)
def test_an_unusable_dump_raises_one_line_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_dump(text, source="dump.json")

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_malformed_item_is_named_by_position_and_object(tmp_path: Path) -> None:
    items = dump_items()
    items[6]["spec"]["containers"] = "gateway"
    broken = write_list(tmp_path / "broken.json", items)

    with pytest.raises(InputError) as raised:
        read_dumps([JSON_DUMP, broken])

    assert str(raised.value) == (
        f"{broken}: items[6]: Pod cp4i/apic-gateway-0: spec.containers is the string "
        "'gateway', not a list"
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.json: no such file; save the output of"):
        read_dumps([JSON_DUMP, tmp_path / "missing.json"])


def test_a_directory_is_not_a_dump(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory, not a dump file"):
        read_dumps([tmp_path])


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "dump.gz"
    binary.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff")

    with pytest.raises(
        InputError, match=r"dump.gz: not a text file \(invalid utf-8-sig at byte 1\)"
    ):
        read_dumps([binary])
