"""The typed decoder builds exactly what ``kubernetes_json`` builds, or refuses.

``typed_objects`` decodes list pages and watch lines from their bytes with a schema of
the projection's fields. Its contract: whatever it returns equals the projection the
``json.loads`` + ``kubernetes_json`` path builds from the same bytes; whatever that
path would refuse (or turn from a number into text), it refuses, so the collector
decodes it again the dict way and the message is the one it always was.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from bench.cluster_generator import ClusterShape, generate_cluster, list_pages, watch_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from license_service.cluster.kubernetes.resource_kinds import (
    key_of,
    key_of_json,
    resource_version_of,
)
from license_service.cluster.kubernetes_json import (
    namespace_from_json,
    node_from_json,
    pod_from_json,
)
from license_service.cluster.typed_objects import (
    TypedDecoder,
    namespace_decoder,
    node_decoder,
    pod_decoder,
    typed_decoder,
)
from license_service.errors import InputError
from license_service.metering.cluster_view import Container, Namespace, Node, Pod
from tests.cluster.test_kubernetes_json import _DELETE, DUMP, api_object, changed

JsonObject = dict[str, Any]
Projection = Pod | Node | Namespace


def page_of(
    *items: object, version: str = "7", token: str | None = None, ascii: bool = True
) -> bytes:
    """A list page as the API server writes it."""
    metadata: JsonObject = {"resourceVersion": version}
    if token is not None:
        metadata["continue"] = token
    document = {"kind": "List", "apiVersion": "v1", "metadata": metadata, "items": list(items)}
    return json.dumps(document, ensure_ascii=ascii).encode()


def line_of(event_type: str, obj: object) -> bytes:
    """One watch line."""
    return json.dumps({"type": event_type, "object": obj}).encode()


def dict_page(body: bytes, decode: Any) -> dict[tuple[str, str], Projection]:
    """The projections of a page the ``json.loads`` + ``kubernetes_json`` way, by key."""
    projections = [decode(item) for item in json.loads(body)["items"]]
    return {key_of(projection): projection for projection in projections}


def typed_page(decoder: TypedDecoder[Projection], body: bytes) -> dict[tuple[str, str], Projection]:
    """The projections of a page the typed way (the page must be accepted)."""
    page = decoder.page(body)
    assert page is not None, "the typed decoder refused a plain page"
    return dict(page.objects)


# -- equal to the dict path ----------------------------------------------------------------


def test_a_generated_cluster_decodes_to_the_same_projections_both_ways() -> None:
    cluster = generate_cluster(ClusterShape(pods=1_200, nodes=40, seed=5))
    decoders = {"Pod": pod_decoder(), "Node": node_decoder(), "Namespace": namespace_decoder()}
    sources = {
        "Pod": (cluster.pod_items(), pod_from_json),
        "Node": (cluster.node_items(), node_from_json),
        "Namespace": (cluster.namespace_items(), namespace_from_json),
    }
    for kind, (items, decode) in sources.items():
        pages = list_pages(kind, items, page_size=500, resource_version="9")
        typed: dict[tuple[str, str], Projection] = {}
        expected: dict[tuple[str, str], Projection] = {}
        for page in pages:
            typed.update(typed_page(decoders[kind], page))
            expected.update(dict_page(page, decode))
        assert typed == expected, kind
        assert len(typed) > 0


def test_the_generated_watch_events_decode_to_the_same_changes_both_ways() -> None:
    cluster = generate_cluster(ClusterShape(pods=300, nodes=10, seed=2))
    decoder = pod_decoder()

    for line in watch_events(cluster, count=400, first_version=100):
        event = decoder.event(line)
        document = json.loads(line)
        obj = document["object"]
        assert event is not None
        assert event.type == document["type"]
        assert event.resource_version == resource_version_of(obj)
        if event.type == "DELETED":
            assert (event.key, event.projection) == (key_of_json(obj), None)
        else:
            assert event.projection == pod_from_json(obj)
            assert event.key == key_of_json(obj)


def test_the_fixture_dump_decodes_to_the_same_projections_both_ways() -> None:
    items = json.loads(DUMP.read_text())["items"]
    for kind, decode, decoder in (
        ("Pod", pod_from_json, pod_decoder()),
        ("Node", node_from_json, node_decoder()),
        ("Namespace", namespace_from_json, namespace_decoder()),
    ):
        page = page_of(*(item for item in items if item["kind"] == kind))
        assert typed_page(decoder, page) == dict_page(page, decode), kind


def minimal_pod(**spec: object) -> JsonObject:
    """A pod with only what a pod must have, and ``spec`` fields added."""
    return {
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"containers": [{"name": "main"}], **spec},
    }


@pytest.mark.parametrize(
    "pod",
    [
        pytest.param(minimal_pod(), id="no-status-node-annotations-or-resources"),
        pytest.param(
            {
                **minimal_pod(),
                "status": None,
                "metadata": {"name": "p", "namespace": "ns", "annotations": None},
            },
            id="null-status-and-annotations",
        ),
        pytest.param(
            minimal_pod(containers=[{"name": "c", "resources": None}]), id="null-resources"
        ),
        pytest.param(
            minimal_pod(containers=[{"name": "c", "resources": {"limits": None}}]), id="null-limits"
        ),
        pytest.param(
            minimal_pod(containers=[{"name": "c", "resources": {"limits": {"cpu": None}}}]),
            id="null-cpu",
        ),
        pytest.param(
            minimal_pod(
                containers=[{"name": "c", "resources": {"requests": {"cpu": "1"}}}],
                nodeName=None,
                initContainers=None,
            ),
            id="requests-only-null-node",
        ),
        pytest.param(
            minimal_pod(
                initContainers=[
                    {"name": "setup", "resources": {"limits": {"cpu": "4"}}},
                    {
                        "name": "proxy",
                        "restartPolicy": "Always",
                        "resources": {"limits": {"cpu": "250m"}},
                    },
                    {"name": "once", "restartPolicy": "OnFailure"},
                ]
            ),
            id="init-containers-only-sidecars-count",
        ),
        pytest.param(
            {
                **minimal_pod(),
                "metadata": {
                    "name": "p",
                    "namespace": "ns",
                    "annotations": {
                        "productName": "Produit « spécial » ☃ 製品 😀",
                        "productID": "id-ü",
                        "note": "ignored ✓",
                        "productid": "another key",
                    },
                },
            },
            id="unicode-annotations",
        ),
        pytest.param(
            {**minimal_pod(), "status": {"phase": "Running", "conditions": []}}, id="running"
        ),
        pytest.param({**minimal_pod(), "kind": "Pod", "apiVersion": "v1"}, id="with-kind"),
    ],
)
@pytest.mark.parametrize("ascii", [True, False], ids=["escaped", "utf-8"])
def test_varied_pods_are_accepted_and_equal_to_the_dict_path(pod: JsonObject, ascii: bool) -> None:
    page = page_of(pod, ascii=ascii)

    assert typed_page(pod_decoder(), page) == dict_page(page, pod_from_json)


def test_pods_of_one_workload_share_their_containers_and_annotations() -> None:
    first = api_object("Pod", "qm-prod-ibm-mq-0")
    second = changed(api_object("Pod", "qm-prod-ibm-mq-0"), "metadata.name", "qm-prod-ibm-mq-9")
    second["metadata"]["uid"] = "another-uid"
    page = typed_page(pod_decoder(), page_of(first, second))

    one, two = page.values()
    assert isinstance(one, Pod)
    assert isinstance(two, Pod)
    assert one.containers is two.containers
    assert one.annotations is two.annotations
    assert one.containers == (Container("qmgr", "3"), Container("metrics", "500m"))
    assert one.name != two.name


def test_equal_results_when_the_pools_are_emptied_all_the_time() -> None:
    cluster = generate_cluster(ClusterShape(pods=200, nodes=5, seed=4))
    (page,) = list_pages("Pod", cluster.pod_items(), page_size=500, resource_version="1")

    assert typed_page(pod_decoder(max_entries=2), page) == dict_page(page, pod_from_json)


def test_a_page_hands_over_its_version_and_continue_token() -> None:
    decoder = pod_decoder()

    middle = decoder.page(page_of(minimal_pod(), version="41", token="next-page"))
    last = decoder.page(page_of(version="42", token=""))

    assert middle is not None
    assert (middle.resource_version, middle.continue_token) == ("41", "next-page")
    assert last is not None
    assert (last.objects, last.resource_version, last.continue_token) == ([], "42", None)


def test_a_bookmark_moves_the_version_and_changes_nothing() -> None:
    bookmark = {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "77"}}

    event = pod_decoder().event(line_of("BOOKMARK", bookmark))

    assert event is not None
    assert (event.type, event.key, event.projection, event.resource_version) == (
        "BOOKMARK",
        None,
        None,
        "77",
    )


def test_there_is_a_decoder_for_each_watched_kind_only() -> None:
    assert typed_decoder("Node").page(page_of(api_object("Node", "worker-b"))) is not None
    with pytest.raises(ValueError, match="no typed decoder for kind 'Secret'"):
        typed_decoder("Secret")


# -- refused: the dict path decides, with its message --------------------------------------

MALFORMED_PODS = [
    ("metadata.name", _DELETE),
    ("metadata.name", ""),
    ("metadata.namespace", _DELETE),
    ("spec.containers", _DELETE),
    ("spec.containers", {"name": "gateway"}),
    ("spec.containers.0", "gateway"),
    ("spec.containers.0.name", _DELETE),
    ("spec.containers.1.resources.limits.cpu", True),
    ("spec.containers.1.resources", ["cpu"]),
    ("metadata.annotations", "productID=x"),
    ("metadata.annotations.productName", ["IBM API Connect"]),
    ("metadata.annotations.productName", None),
    ("spec", []),
    ("spec", _DELETE),
    ("kind", "Node"),
    ("metadata", _DELETE),
]


@pytest.mark.parametrize(("path", "value"), MALFORMED_PODS)
def test_a_malformed_pod_is_refused_so_the_dict_path_names_it(path: str, value: object) -> None:
    obj = changed(api_object("Pod", "apic-gateway-0"), path, value)
    decoder = pod_decoder()

    assert decoder.page(page_of(api_object("Pod", "was-liberty-0"), obj)) is None
    assert decoder.event(line_of("MODIFIED", obj)) is None
    with pytest.raises(InputError):
        pod_from_json(obj)


@pytest.mark.parametrize(
    ("path", "value", "text"),
    [
        ("spec.containers.0.resources.limits.cpu", 2, "2"),
        ("spec.containers.0.resources.limits.cpu", 0.5, "0.5"),
        ("spec.nodeName", 7, "7"),
        ("metadata.annotations.productVersion", 10, "10"),
    ],
)
def test_numbers_written_for_strings_are_left_to_the_dict_path(
    path: str, value: object, text: str
) -> None:
    obj = changed(api_object("Pod", "apic-gateway-0"), path, value)

    assert pod_decoder().page(page_of(obj)) is None
    assert text in repr(pod_from_json(obj))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"kind":"PodList","metadata":{},"items":[]}',  # no resourceVersion
        b'{"kind":"PodList","metadata":{"resourceVersion":7},"items":[]}',
        b'{"metadata":{"resourceVersion":"7"},"items":{}}',
        b'["items"]',
        '{"metadata":{"resourceVersion":"7"},"items":[]}'.encode("utf-16"),
        b'{"metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"\\ud800"}}]}',
    ],
)
def test_a_page_that_is_not_a_plain_list_is_refused(body: bytes) -> None:
    assert pod_decoder().page(body) is None


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b'{"type":"ADDED"}',
        b'{"object":{}}',
        b'{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old"}}',
        b'{"type":"ERROR","object":{"kind":"Status","status":"Failure","code":500}}',
        b'{"type":"DELETED","object":{"metadata":{"name":"p","namespace":5}}}',
    ],
)
def test_a_line_that_is_not_a_plain_event_is_refused(line: bytes) -> None:
    assert pod_decoder().event(line) is None


def test_a_deleted_object_needs_no_spec() -> None:
    event = pod_decoder().event(line_of("DELETED", {"metadata": {"name": "p", "namespace": "n"}}))

    assert event is not None
    assert (event.key, event.projection) == (("n", "p"), None)


def test_a_malformed_node_or_namespace_is_refused() -> None:
    node = changed(
        api_object("Node", "worker-b"), "metadata.labels.license-service/pvu-per-core", None
    )
    namespace = changed(api_object("Namespace", "mq"), "metadata.labels.team", 3)

    assert node_decoder().page(page_of(node)) is None
    assert namespace_decoder().page(page_of(namespace)) is None


# -- any JSON: accepted means equal -----------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=6),
)
_ODD = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=2),
    st.dictionaries(st.text(max_size=3), _SCALARS, max_size=2),
)
_NAMES = st.one_of(
    st.sampled_from(["a", "ns", "web-0", "☃ é", "😀"]), st.text(min_size=1, max_size=8)
)
_TEXTS = st.one_of(st.sampled_from(["", "2", "500m", "Running", "Always"]), _NAMES)


def _object(
    required: dict[str, st.SearchStrategy[Any]], **optional: st.SearchStrategy[Any]
) -> st.SearchStrategy[JsonObject]:
    return st.fixed_dictionaries(required, optional=optional)


_CPU = _object({}, cpu=_TEXTS)
_CONTAINERS = st.lists(
    _object(
        {"name": _NAMES},
        restartPolicy=st.sampled_from(["Always", "Never"]),
        resources=_object({}, limits=_CPU, requests=_CPU),
        image=_TEXTS,
    ),
    min_size=1,
    max_size=3,
)
_PODS = _object(
    {
        "metadata": _object(
            {"name": _NAMES, "namespace": _NAMES},
            annotations=st.dictionaries(
                st.sampled_from(["productID", "productName", "serviceId", "other", "a/b"]),
                _TEXTS,
                max_size=4,
            ),
            resourceVersion=_TEXTS,
        ),
        "spec": _object({"containers": _CONTAINERS}, initContainers=_CONTAINERS, nodeName=_TEXTS),
    },
    kind=st.just("Pod"),
    status=_object({}, phase=st.sampled_from(["Running", "Pending"])),
)
_NODES = _object(
    {
        "metadata": _object(
            {"name": _NAMES},
            labels=st.dictionaries(
                st.sampled_from(["license-service/pvu-per-core", "zone"]), _TEXTS, max_size=2
            ),
        )
    },
    kind=st.just("Node"),
    status=_object({}, capacity=_CPU, allocatable=_CPU),
)
_NAMESPACES = _object(
    {
        "metadata": _object(
            {"name": _NAMES}, uid=_TEXTS, labels=st.dictionaries(_TEXTS, _TEXTS, max_size=2)
        )
    },
    kind=st.just("Namespace"),
)


def _places(value: object) -> list[tuple[Any, Any]]:
    """Every (container, key or index) inside a JSON value."""
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    places: list[tuple[Any, Any]] = []
    for key, child in items:
        places.append((value, key))
        places.extend(_places(child))
    return places


@st.composite
def _mutated(draw: st.DrawFn, valid: st.SearchStrategy[JsonObject]) -> JsonObject:
    """A valid object, and half the time one place in it deleted or set to anything."""
    obj = draw(valid)
    if draw(st.booleans()):
        parent, key = draw(st.sampled_from(_places(obj)))
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(_ODD)
    return obj


def _dict_outcome(decode: Any, obj: object) -> Projection | None:
    try:
        return decode(obj)  # type: ignore[no-any-return]
    except InputError:
        return None


def _check_any_object(decoder: TypedDecoder[Projection], decode: Any, obj: JsonObject) -> None:
    expected = _dict_outcome(decode, obj)
    page = decoder.page(page_of(obj))
    if page is not None:
        assert expected is not None, "the typed decoder accepted what kubernetes_json refuses"
        assert page.objects == [(key_of(expected), expected)]
    for event_type in ("MODIFIED", "DELETED"):
        event = decoder.event(line_of(event_type, obj))
        if event is None:
            continue
        assert event.resource_version == resource_version_of(obj)
        if event_type == "DELETED":
            assert (event.key, event.projection) == (key_of_json(obj), None)
        else:
            assert expected is not None
            assert (event.key, event.projection) == (key_of(expected), expected)


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_mutated(_PODS))
def test_any_pod_json_is_decoded_equal_to_the_dict_path_or_refused(pod: JsonObject) -> None:
    _check_any_object(pod_decoder(), pod_from_json, pod)


@_SETTINGS
@given(_mutated(_NODES))
def test_any_node_json_is_decoded_equal_to_the_dict_path_or_refused(node: JsonObject) -> None:
    _check_any_object(node_decoder(), node_from_json, node)


@_SETTINGS
@given(_mutated(_NAMESPACES))
def test_any_namespace_json_is_decoded_equal_to_the_dict_path_or_refused(
    namespace: JsonObject,
) -> None:
    _check_any_object(namespace_decoder(), namespace_from_json, namespace)
