"""The IBMLicensing CRD: its schema accepts what the service accepts and refuses what it refuses.

The CRD's ``openAPIV3Schema`` is checked with ``jsonschema`` (the API server's own
validation is not available offline; the ``x-kubernetes-*`` keys are ignored here and
checked structurally instead). The service's rules are the real parser,
``parse_ibmlicensing``, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from license_service.configuration.ibmlicensing import (
    API_VERSION,
    HTTPS_CERTS_SOURCES,
    KIND,
    LOG_LEVELS,
    LicensingConfig,
    parse_ibmlicensing,
)
from license_service.errors import ConfigurationError
from license_service.metering.settings import THREADS_PER_CORE_CHOICES
from tests.deploy.chart import (
    EXAMPLE_IBMLICENSING,
    REPOSITORY,
    find,
    load_objects,
    manifest_objects,
)

CRD_NAME = "ibmlicensings.operator.ibm.com"


def _crd() -> dict[str, Any]:
    return find(manifest_objects(), "CustomResourceDefinition", CRD_NAME)


def _schema() -> dict[str, Any]:
    (version,) = _crd()["spec"]["versions"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


@functools.cache
def _validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_schema())


def _schema_accepts(document: dict[str, Any]) -> bool:
    return _validator().is_valid(document)


def _service_accepts(document: dict[str, Any]) -> bool:
    try:
        parse_ibmlicensing(document)
    except ConfigurationError:
        return False
    return True


def _document(path: str, value: object) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    target = spec
    *sections, leaf = path.split(".")
    for section in sections:
        target = target.setdefault(section, {})
    target[leaf] = value
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "instance"}, "spec": spec}


def test_the_crd_serves_the_resource_the_service_watches() -> None:
    spec = _crd()["spec"]
    group, version = API_VERSION.split("/")
    assert spec["group"] == group
    assert spec["scope"] == "Cluster"
    assert spec["names"]["kind"] == KIND
    assert spec["names"]["plural"] == "ibmlicensings"
    assert [(v["name"], v["served"], v["storage"]) for v in spec["versions"]] == [
        (version, True, True)
    ]
    assert spec["versions"][0]["subresources"] == {"status": {}}


def test_the_example_is_valid_and_states_the_services_defaults() -> None:
    (example,) = load_objects(EXAMPLE_IBMLICENSING)
    assert _schema_accepts(example)
    config = parse_ibmlicensing(example)
    assert config == LicensingConfig()
    assert config.warnings == ()


@pytest.mark.parametrize(
    "path",
    [
        "tests/kubernetes_fake/seed_manifests/ibmlicensing.yml",
        "tests/kubernetes_fake/seed_manifests/ibmlicensing-url-tokens-off.yml",
        "tests/fixtures/config/ibmlicensing-threads-2.yaml",
        "tests/fixtures/config/ibmlicensing-no-capping.yaml",
    ],
)
def test_the_resources_of_the_seed_and_the_fixtures_are_accepted(path: str) -> None:
    (document,) = load_objects(REPOSITORY / path)
    assert _schema_accepts(document)


def test_the_invalid_fixture_is_refused_by_the_schema_as_by_the_service() -> None:
    (document,) = load_objects(REPOSITORY / "tests/fixtures/config/ibmlicensing-invalid.yaml")
    assert not _schema_accepts(document)
    assert not _service_accepts(document)


FIELD_VALUES = [
    ("features.auth.urlBasedEnabled", [True, False, "no", "false", 0]),
    ("features.kubeRBACAuthEnabled", [True, False, "false", 1]),
    ("features.hyperThreading.threadsPerCore", [1, 2, 4, 8, 0, 3, 16, "2", True]),
    ("features.nodeCpuCappingEnabled", [True, False, "yes"]),
    ("nodeCpuCappingEnabled", [True, False, 1]),
    ("httpsEnable", [True, False, "true"]),
    ("httpsCertsSource", ["self-signed", "custom", "letsencrypt", True]),
    ("logLevel", ["DEBUG", "INFO", "VERBOSE", "debug", "WARNING", 1]),
    ("chargebackEnabled", [True, False, "on"]),
    ("chargebackRetentionPeriod", [1, 62, 0, -3, "62", True]),
    (
        "apiSecretToken",
        [
            "ibm-licensing-token",
            "my.token-2",
            "a",
            "Upper-Case",
            "-leading",
            "trailing-",
            "under_score",
            "a" * 63 + "." + "b" * 63,
            "a" * 64,
            ("a" * 63 + ".") * 4 + "a",  # 257 characters
            7,
        ],
    ),
    ("instanceNamespace", ["licensing", "a", "a" * 63, "a" * 64, "a.b", "Licensing", 3]),
    ("sender", [{"url": "https://reporter"}, {}, "https://reporter", ["a"]]),
    ("features.auth", [{}, "on", ["a"]]),
    ("features.hyperThreading", [{}, 2]),
]


def _cases() -> Iterator[Any]:
    for path, values in FIELD_VALUES:
        for value in values:
            shown = repr(value) if len(repr(value)) < 30 else f"{len(str(value))} chars"
            yield pytest.param(path, value, id=f"{path}={shown}")


@pytest.mark.parametrize(("path", "value"), list(_cases()))
def test_the_schema_accepts_a_value_exactly_when_the_service_does(path: str, value: object) -> None:
    document = _document(path, value)
    assert _schema_accepts(document) == _service_accepts(document)


def test_every_table_row_has_a_value_each_side_of_the_rule() -> None:
    for path, values in FIELD_VALUES:
        decisions = {_service_accepts(_document(path, value)) for value in values}
        assert decisions == {True, False}, path


def test_only_the_two_capping_fields_disagreeing_is_left_to_the_service() -> None:
    # A rule across two fields needs a CEL validation rule, which cannot be checked offline;
    # the service refuses the pair and keeps the previous configuration.
    document = _document("nodeCpuCappingEnabled", True)
    document["spec"]["features"] = {"nodeCpuCappingEnabled": False}
    assert _schema_accepts(document)
    assert not _service_accepts(document)


def test_the_schema_choices_are_the_services_choices() -> None:
    spec = _schema()["properties"]["spec"]["properties"]
    threads = spec["features"]["properties"]["hyperThreading"]["properties"]["threadsPerCore"]
    assert tuple(threads["enum"]) == THREADS_PER_CORE_CHOICES
    assert tuple(spec["logLevel"]["enum"]) == LOG_LEVELS
    assert tuple(spec["httpsCertsSource"]["enum"]) == HTTPS_CERTS_SOURCES


def _schema_nodes(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _schema_nodes(child, f"{path}.{name}")
    if "items" in node:
        yield from _schema_nodes(node["items"], f"{path}[]")


def test_the_schema_is_structural_every_node_has_a_type() -> None:
    for path, node in _schema_nodes(_schema(), ""):
        assert node.get("type") in {"object", "string", "integer", "boolean", "array", "number"}, (
            path or "root"
        )
    assert _schema()["properties"]["metadata"] == {"type": "object"}


def test_unknown_fields_reach_the_service_instead_of_being_pruned() -> None:
    # The API server drops fields of an object that neither declares them nor preserves
    # unknown ones; the service must see them to warn about them (SPEC 6), and resources
    # written for the reference operator (datasource, version, ...) must survive.
    for path, node in _schema_nodes(_schema(), ""):
        if node.get("type") == "object" and path not in {"", ".metadata"}:
            assert node.get("x-kubernetes-preserve-unknown-fields") is True, path


def test_the_printer_columns_point_at_fields_of_the_schema() -> None:
    (version,) = _crd()["spec"]["versions"]
    for column in version["additionalPrinterColumns"]:
        if column["jsonPath"] == ".metadata.creationTimestamp":
            continue
        node = _schema()
        for key in column["jsonPath"].lstrip(".").split("."):
            node = node["properties"][key]
        assert node["type"] == column["type"], column["name"]


def test_a_value_of_the_wrong_type_in_the_example_would_be_refused() -> None:
    (example,) = load_objects(EXAMPLE_IBMLICENSING)
    broken = copy.deepcopy(example)
    broken["spec"]["features"]["auth"]["urlBasedEnabled"] = "false"
    assert not _schema_accepts(broken)
