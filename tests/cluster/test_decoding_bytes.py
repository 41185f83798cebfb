"""List pages and watch lines decode to exactly what the reference translation builds.

``cluster.decoding`` decodes bytes with a schema of the projection's fields. Its
contract, checked against the translation the service used before
(``bench.reference_translation``, the dict way): on generated clusters, the fixture
dump and arbitrary JSON, whatever the decoder keeps equals the reference projection,
and whatever the reference refuses the decoder refuses too, with the same message
(handed to ``on_refused``; the other objects of the page are kept).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from bench.cluster_generator import ClusterShape, generate_cluster, list_pages, watch_events
from bench.reference_translation import namespace_from_json, node_from_json, pod_from_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from license_service.cluster.decoding import (
    ObjectKey,
    ProjectionDecoder,
    key_of,
    key_of_json,
    namespace_decoder,
    node_decoder,
    pod_decoder,
    projection_decoder,
    resource_version_of,
)
from license_service.errors import InputError
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.metering.cluster_view import Container, Namespace, Node, Pod
from tests.cluster.test_decoding_objects import _DELETE, DUMP, api_object, changed

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
    """The projections of a page the ``json.loads`` + reference translation way, by key."""
    projections = [decode(item) for item in json.loads(body)["items"]]
    return {key_of(projection): projection for projection in projections}


class Refusals:
    """Records what a decoder hands to ``on_refused``."""

    def __init__(self) -> None:
        self.refused: list[tuple[ObjectKey | None, str]] = []

    def __call__(self, key: ObjectKey | None, error: InputError) -> None:
        self.refused.append((key, str(error)))


def typed_page(decoder: ProjectionDecoder[Any], body: bytes) -> dict[tuple[str, str], Projection]:
    """The projections of a page decoded from its bytes."""
    return dict(decoder.page(body).objects)


def refusing(kind: str) -> tuple[ProjectionDecoder[Any], Refusals]:
    """A decoder of ``kind`` and the record of what it refuses."""
    refusals = Refusals()
    return projection_decoder(kind, on_refused=refusals), refusals


def reference_message(decode: Any, obj: object) -> str:
    """The message of the reference translation for an object it refuses."""
    with pytest.raises(InputError) as raised:
        decode(obj)
    return str(raised.value)


# -- equal to the reference ----------------------------------------------------------------


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
            assert (event.key, event.object) == (key_of_json(obj), None)
        else:
            assert event.object == pod_from_json(obj)
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

    assert typed_page(pod_decoder(max_shared_parts=2), page) == dict_page(page, pod_from_json)


def test_a_page_hands_over_its_version_and_continue_token() -> None:
    decoder = pod_decoder()

    middle = decoder.page(page_of(minimal_pod(), version="41", token="next-page"))
    last = decoder.page(page_of(version="42", token=""))

    assert (middle.resource_version, middle.continue_token) == ("41", "next-page")
    assert (last.objects, last.resource_version, last.continue_token) == ([], "42", None)


def test_a_bookmark_moves_the_version_and_changes_nothing() -> None:
    bookmark = {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "77"}}

    event = pod_decoder().event(line_of("BOOKMARK", bookmark))

    assert (event.type, event.key, event.object, event.resource_version) == (
        "BOOKMARK",
        None,
        None,
        "77",
    )


def test_there_is_a_decoder_for_each_watched_kind_only() -> None:
    assert projection_decoder("Node").page(page_of(api_object("Node", "worker-b"))).objects
    with pytest.raises(ValueError, match="no decoder for kind 'Secret'"):
        projection_decoder("Secret")


# -- refused: left out, named as the reference names it ------------------------------------

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
def test_a_malformed_pod_is_left_out_and_named_as_the_reference_names_it(
    path: str, value: object
) -> None:
    obj = changed(api_object("Pod", "apic-gateway-0"), path, value)
    decoder, refusals = refusing("Pod")
    message = reference_message(pod_from_json, obj)

    page = decoder.page(page_of(api_object("Pod", "was-liberty-0"), obj))
    event = decoder.event(line_of("MODIFIED", obj))

    assert [key for key, _ in page.objects] == [("apps", "was-liberty-0")]
    assert (event.type, event.key, event.object) == ("MODIFIED", key_of_json(obj), None)
    assert refusals.refused == [(key_of_json(obj), message)] * 2
    with pytest.raises(InputError) as raised:
        decoder.item(obj)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("path", "value", "text"),
    [
        ("spec.containers.0.resources.limits.cpu", 2, "2"),
        ("spec.containers.0.resources.limits.cpu", 0.5, "0.5"),
        ("spec.nodeName", 7, "7"),
        ("metadata.annotations.productVersion", 10, "10"),
    ],
)
def test_numbers_written_for_strings_become_their_text_as_in_the_reference(
    path: str, value: object, text: str
) -> None:
    obj = changed(api_object("Pod", "apic-gateway-0"), path, value)
    page = page_of(obj)

    assert typed_page(pod_decoder(), page) == dict_page(page, pod_from_json)
    assert text in repr(pod_from_json(obj))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", ValueError),
        (b"not json", ValueError),
        (b'{"kind":"PodList","metadata":{},"items":[]}', InputError),  # no resourceVersion
        (b'{"kind":"PodList","metadata":{"resourceVersion":7},"items":[]}', InputError),
        (b'{"metadata":{"resourceVersion":"7"},"items":{}}', InputError),
        (b'["items"]', InputError),
    ],
)
def test_a_body_that_is_not_a_list_page_raises(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        pod_decoder().page(body)


def test_a_list_page_in_utf_16_or_with_escaped_surrogates_is_read_as_json_loads_reads_it() -> None:
    utf16 = '{"metadata":{"resourceVersion":"7"},"items":[]}'.encode("utf-16")
    surrogate = b'{"metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"\\ud800"}}]}'
    decoder, refusals = refusing("Pod")

    assert decoder.page(utf16) == ([], "7", None)
    assert decoder.page(surrogate) == ([], "7", None)
    # A lone surrogate is no name (issue 11.1): the key is withheld, the character named.
    assert refusals.refused == [
        (
            None,
            "Pod: metadata.name holds character '\\ud800' (U+D800, a lone surrogate) at "
            "position 1 of 1; names written by Kubernetes never hold control characters, line "
            "separators, bidirectional controls or lone surrogates",
        )
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "a watch line is not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b'{"type":"ADDED"}', "a watch line is not a watch event"),
        (b'{"object":{}}', "a watch line is not a watch event"),
    ],
)
def test_a_line_that_is_not_a_watch_event_raises(line: bytes, message: str) -> None:
    with pytest.raises(InputError) as raised:
        pod_decoder().event(line)

    assert str(raised.value) == message


@pytest.mark.parametrize(
    "line",
    [
        b'{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old"}}',
        b'{"type":"ERROR","object":{"kind":"Status","status":"Failure","code":500}}',
        b'{"type":"ERROR","object":{"kind":"Status","code":500}}',
    ],
)
def test_an_error_event_comes_back_as_such_for_the_loop_to_read(line: bytes) -> None:
    assert pod_decoder().event(line) == ("ERROR", None, None, None)


def test_a_deleted_object_without_a_usable_name_has_no_key() -> None:
    line = b'{"type":"DELETED","object":{"metadata":{"name":"p","namespace":5}}}'

    assert pod_decoder().event(line) == ("DELETED", None, None, None)


def test_a_deleted_object_needs_no_spec() -> None:
    event = pod_decoder().event(line_of("DELETED", {"metadata": {"name": "p", "namespace": "n"}}))

    assert (event.key, event.object) == (("n", "p"), None)


def test_a_malformed_node_or_namespace_is_refused() -> None:
    node = changed(
        api_object("Node", "worker-b"), "metadata.labels.license-service/pvu-per-core", None
    )
    namespace = changed(api_object("Namespace", "mq"), "metadata.labels.team", None)

    nodes, refused_nodes = refusing("Node")
    namespaces, refused_namespaces = refusing("Namespace")

    assert nodes.page(page_of(node)).objects == []
    assert namespaces.page(page_of(namespace)).objects == []
    assert refused_nodes.refused == [(("", "worker-b"), reference_message(node_from_json, node))]
    assert refused_namespaces.refused == [
        (("", "mq"), reference_message(namespace_from_json, namespace))
    ]


def test_a_number_for_a_label_becomes_its_text_as_in_the_reference() -> None:
    namespace = changed(api_object("Namespace", "mq"), "metadata.labels.team", 3)
    page = page_of(namespace)

    assert typed_page(namespace_decoder(), page) == dict_page(page, namespace_from_json)
    assert namespace_from_json(namespace).labels["team"] == "3"


# -- any JSON: the same projection, or refused with the same message ------------------------

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
# Valid objects hold no character a name may not hold (issue 11.1); a mutation may put one in.
_NAMES = st.one_of(
    st.sampled_from(["a", "ns", "web-0", "☃ é", "😀"]),
    st.text(min_size=1, max_size=8).filter(lambda text: first_unsafe_character(text) is None),
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


def _reference_outcome(decode: Any, obj: object) -> Projection | str:
    """The reference projection of ``obj``, or the message it refuses ``obj`` with."""
    try:
        return decode(obj)  # type: ignore[no-any-return]
    except InputError as error:
        return str(error)


def _outcome(
    decoder: ProjectionDecoder[Any], refusals: Refusals, obj: JsonObject
) -> Projection | str:
    """What ``obj`` alone in a page comes to: its projection, or the refusal's message."""
    before = len(refusals.refused)
    objects = decoder.page(page_of(obj)).objects
    if objects:
        assert len(refusals.refused) == before
        ((key, projection),) = objects
        assert key == key_of(projection)
        return projection  # type: ignore[no-any-return]
    ((key, message),) = refusals.refused[before:]
    assert key == key_of_json(obj)
    return message


def _check_any_object(kind: str, decode: Any, obj: JsonObject) -> None:
    # The reference reads the bytes as dump files are parsed (non-integers as Decimal),
    # which is how the decoder reads numbers.
    parsed = json.loads(page_of(obj), parse_float=Decimal)["items"][0]
    expected = _reference_outcome(decode, parsed)
    decoder, refusals = refusing(kind)
    outcome = _outcome(decoder, refusals, obj)
    if isinstance(outcome, str) and not isinstance(expected, str):
        # The one difference: the schema checks the shape of every init container,
        # the reference only that of restartable ones (the others are not read).
        assert ": spec.initContainers[" in outcome, outcome
    else:
        assert outcome == expected
    assert decoder.item(parsed) == outcome if not isinstance(outcome, str) else True
    for event_type in ("MODIFIED", "DELETED"):
        event = decoder.event(line_of(event_type, obj))
        assert event.resource_version == resource_version_of(obj)
        if event_type == "DELETED" or isinstance(outcome, str):
            assert (event.key, event.object) == (key_of_json(obj), None)
        else:
            assert (event.key, event.object) == (key_of(outcome), outcome)


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_mutated(_PODS))
def test_any_pod_json_is_decoded_or_refused_as_the_reference_does(pod: JsonObject) -> None:
    _check_any_object("Pod", pod_from_json, pod)


@_SETTINGS
@given(_mutated(_NODES))
def test_any_node_json_is_decoded_or_refused_as_the_reference_does(node: JsonObject) -> None:
    _check_any_object("Node", node_from_json, node)


@_SETTINGS
@given(_mutated(_NAMESPACES))
def test_any_namespace_json_is_decoded_or_refused_as_the_reference_does(
    namespace: JsonObject,
) -> None:
    _check_any_object("Namespace", namespace_from_json, namespace)
