"""The License Service Reporter in the chart and in ``deploy/manifests/reporter/`` (SPEC 11).

Off by default; with ``reporter.enabled`` its own Deployment (replicas allowed: it keeps
nothing but in PostgreSQL), Service, ServiceAccount and RBAC. The database URL reaches it
only from a Secret; the container's arguments are parsed by the real command line; the
probes ask paths the Reporter serves; and the rules bound to its account are exactly the
Kubernetes calls a real ``license-service reporter`` makes, recorded by the fake API server.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import typer
from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.signing.secret_store import REPORTER_SIGNING_KEY_SECRET
from license_service.store.database import sqlite_url
from license_service.tokens.kinds import REPORTER_TOKEN
from license_service.web.reporter.reporter_app import PUBLIC_PATHS, READ_PATHS
from tests.deploy.chart import (
    MANIFESTS,
    NAMESPACE,
    SERVICE_NAME,
    find,
    load_objects,
    manifest_objects,
    of_kind,
    rendered_objects,
    renderer,
)
from tests.deploy.test_rbac import ANY, CLUSTER, NON_RESOURCE, Permission, _granted
from tests.e2e.reporter_process import start_reporter
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.manifests import namespace_manifest
from tests.kubernetes_fake.request_log import RequestRecord
from tests.kubernetes_fake.server import FakeApiServer

REPORTER: Final = "ibm-license-service-reporter"
READER_ROLE: Final = "ibm-license-service-reporter-reader"
ON: Final = ("reporter.enabled=true",)
DATABASE_VARIABLE: Final = "LICENSE_SERVICE_REPORTER_DATABASE_URL"
_PROBES: Final = ("startupProbe", "livenessProbe", "readinessProbe")


def _reporter_objects(overrides: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [
        obj
        for obj in rendered_objects([*ON, *overrides])
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "reporter"
    ]


def _label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = find(objects, "Deployment", REPORTER)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _parse_reporter(arguments: list[str]) -> dict[str, Any]:
    """The parameters ``license-service reporter`` would run with (parsed, not run)."""
    group = typer.main.get_command(build_app())
    assert arguments[0] == "reporter"
    reporter = group.commands["reporter"]  # type: ignore[attr-defined]
    with reporter.make_context("reporter", list(arguments[1:])) as context:
        return dict(context.params)


def test_the_reporter_is_off_by_default_and_apart_from_the_top_level_manifests() -> None:
    for objects in (rendered_objects(), manifest_objects(with_examples=True)):
        assert not [obj for obj in objects if obj["metadata"]["name"].startswith(REPORTER)]


def test_its_manifests_are_the_chart_with_the_reporter_on() -> None:
    on_disk = [
        obj
        for path in sorted((MANIFESTS / "reporter").glob("*.yaml"))
        for obj in load_objects(path)
    ]
    rendered = _reporter_objects(("namespace.create=true", "ibmlicensing.create=true"))
    assert sorted(on_disk, key=_label) == sorted(rendered, key=_label)
    kinds = {obj["kind"] for obj in on_disk}
    assert kinds == {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Service",
        "Deployment",
    }
    for obj in on_disk:
        if obj["kind"] not in {"ClusterRole", "ClusterRoleBinding"}:
            assert obj["metadata"]["namespace"] == NAMESPACE


def test_the_database_url_reaches_the_reporter_only_from_its_secret() -> None:
    objects = _reporter_objects(
        ("reporter.databaseSecret.name=db", "reporter.databaseSecret.key=u")
    )
    container = _container(objects)
    assert container["env"] == [
        {
            "name": DATABASE_VARIABLE,
            "valueFrom": {"secretKeyRef": {"name": "db", "key": "u"}},
        }
    ]
    assert "--database-url" not in container["args"]
    assert not re.search(r"postgres(ql)?://", str(objects))
    default = _container(_reporter_objects())["env"][0]["valueFrom"]["secretKeyRef"]
    assert default == {"name": "license-service-reporter-database", "key": "url"}


def test_the_command_reads_the_database_url_from_that_variable(tmp_path: Path) -> None:
    database = tmp_path / "reporter.db"
    result = CliRunner().invoke(
        build_app(), ["reporter", "trust", "c-1"], env={DATABASE_VARIABLE: sqlite_url(database)}
    )
    assert "give the Reporter's database" not in result.output
    assert database.exists()  # the variable's database was opened (and migrated)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param((), id="defaults"),
        pytest.param(("reporter.tls.existingSecret=reporter-tls",), id="tls"),
        pytest.param(("reporter.extraArgs=[--log-level, DEBUG]",), id="extra"),
    ],
)
def test_the_real_command_line_accepts_the_containers_arguments(
    overrides: tuple[str, ...],
) -> None:
    container = _container(_reporter_objects(overrides))
    assert container["command"] == ["license-service"]
    parameters = _parse_reporter(container["args"])
    assert parameters["host"] == "0.0.0.0"
    assert parameters["port"] == 8080
    assert parameters["data_dir"] == Path("/data")
    assert parameters["token_file"] is None  # the token is the Secret of its namespace
    assert parameters["namespace"] is None  # the pod's own, from its namespace file


def test_the_probes_ask_unauthenticated_paths_the_reporter_serves() -> None:
    container = _container(_reporter_objects())
    probes = {kind: container[kind]["httpGet"]["path"] for kind in _PROBES}
    assert probes == {
        "startupProbe": "/livez",
        "livenessProbe": "/livez",
        "readinessProbe": "/readyz",
    }
    assert {"/livez", "/readyz"} <= set(PUBLIC_PATHS)
    assert {container[kind]["httpGet"]["port"] for kind in _PROBES} == {"api-port"}
    tls = _container(_reporter_objects(("reporter.tls.existingSecret=reporter-tls",)))
    assert {tls[kind]["httpGet"]["scheme"] for kind in _PROBES} == {"HTTPS"}
    parameters = _parse_reporter(tls["args"])
    assert parameters["tls_cert"] == Path("/etc/license-service-reporter/tls/tls.crt")


def test_the_service_reaches_the_api_port_of_the_reporters_pods_only() -> None:
    objects = _reporter_objects()
    service = find(objects, "Service", REPORTER)
    deployment = find(objects, "Deployment", REPORTER)
    assert service["spec"]["selector"] == {"app": REPORTER}
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": REPORTER}}
    assert service["spec"]["ports"] == [
        {"name": "api-port", "port": 8080, "targetPort": "api-port", "protocol": "TCP"}
    ]
    assert _container(objects)["ports"] == [
        {"name": "api-port", "containerPort": 8080, "protocol": "TCP"}
    ]
    assert find(manifest_objects(), "Service", SERVICE_NAME)["spec"]["selector"] != {
        "app": REPORTER
    }


def test_replicas_get_a_disruption_budget_and_spread_one_replica_none() -> None:
    objects = _reporter_objects(("reporter.replicas=3",))
    deployment = find(objects, "Deployment", REPORTER)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    budget = find(objects, "PodDisruptionBudget", REPORTER)
    assert budget["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": REPORTER}}}
    pod = deployment["spec"]["template"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (spread,) = pod["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    single = _reporter_objects()
    assert find(single, "Deployment", REPORTER)["spec"]["replicas"] == 1
    assert of_kind(single, "PodDisruptionBudget") == []


def test_the_pod_is_hardened_as_license_services_with_tmp_and_data_its_only_writable_places() -> (
    None
):
    reporter_pod = find(_reporter_objects(), "Deployment", REPORTER)["spec"]["template"]["spec"]
    service_pod = find(manifest_objects(), "Deployment", SERVICE_NAME)["spec"]["template"]["spec"]
    assert reporter_pod["securityContext"] == service_pod["securityContext"]
    (service_container,) = service_pod["containers"]
    container = _container(_reporter_objects())
    assert container["securityContext"] == service_container["securityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert reporter_pod["serviceAccountName"] == REPORTER
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert mounts == {"/data": "data", "/tmp": "tmp"}
    assert all("emptyDir" in volume for volume in reporter_pod["volumes"])
    assert set(container["resources"]) == {"requests", "limits"}


# --- RBAC: exactly what a real Reporter calls -------------------------------------------------


def _permission(request: RequestRecord) -> Permission:
    """The RBAC permission a request of the Reporter needs; any other request fails the test."""
    secrets = re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets(?:/([^/]+))?", request.path)
    if secrets is not None:
        namespace, name = secrets.groups()
        if request.method == "POST":
            return Permission("", "secrets", "create", namespace, ANY)
        selected = request.query.get("fieldSelector", "").removeprefix("metadata.name=")
        if name is None:
            verb = "watch" if request.query.get("watch") in {"true", "1"} else "list"
            return Permission("", "secrets", verb, namespace, selected or ANY)
        verb = {"GET": "get", "PUT": "update"}[request.method]
        return Permission("", "secrets", verb, namespace, name)
    reviews = re.fullmatch(r"/apis/(authentication|authorization)\.k8s\.io/v1/(\w+)", request.path)
    if reviews is not None and request.method == "POST":
        group, resource = reviews.groups()
        return Permission(f"{group}.k8s.io", resource, "create", CLUSTER, ANY)
    raise AssertionError(f"a call the RBAC table does not know: {request.method} {request.path}")


def _called(fake_api: FakeApiServer) -> set[Permission]:
    return {_permission(request) for request in fake_api.requests}


def test_the_reporter_is_granted_exactly_what_it_calls(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake_api.url)
    reader = "system:serviceaccount:monitoring:dashboard"
    fake_api.add_user("dashboard-token", reader)
    fake_api.allow(reader, "/clusters")
    fake_api.clear_requests()
    # As in its pod: the namespace is its own (here the default), the token its Secret.
    reporter = start_reporter(
        tmp_path, sqlite_url(tmp_path / "reporter.db"), extra=("--kubeconfig", str(kubeconfig))
    )
    try:
        assert fake_api.get("secrets", REPORTER_TOKEN.secret_name, namespace=NAMESPACE)
        answer = httpx.get(
            f"{reporter.url}/clusters",
            headers={"Authorization": "Bearer dashboard-token"},
            timeout=10,
        )
        assert answer.status_code == 200
        deadline = time.monotonic() + 5
        while not any(r.query.get("watch") for r in fake_api.requests):
            assert time.monotonic() < deadline, "the Reporter never watched its Secret"
            time.sleep(0.05)
    finally:
        reporter.stop()
    called = _called(fake_api)
    granted = _granted(_reporter_objects(), REPORTER)
    assert sorted(called - granted) == [], "called but not granted"
    assert sorted(granted - called) == [], "granted but never called"


def test_no_reporter_rule_uses_a_wildcard_or_reaches_another_secret() -> None:
    objects = _reporter_objects()
    for role in of_kind(objects, "ClusterRole") + of_kind(objects, "Role"):
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert not any("*" in item for item in rule.get(key, []))
    for permission in _granted(objects, REPORTER):
        if permission.resource == "secrets" and permission.verb != "create":
            assert permission.name in {REPORTER_TOKEN.secret_name, REPORTER_SIGNING_KEY_SECRET}
            assert permission.scope == NAMESPACE


def test_the_reader_role_may_get_the_reporters_read_paths_and_nothing_else() -> None:
    role = find(_reporter_objects(), "ClusterRole", READER_ROLE)
    assert role["rules"] == [{"nonResourceURLs": list(READ_PATHS), "verbs": ["get"]}]
    assert of_kind(_reporter_objects(("reporter.reader.create=false",)), "ClusterRole") == [
        find(_reporter_objects(), "ClusterRole", REPORTER)
    ]
    assert {
        permission
        for permission in _granted(_reporter_objects(), REPORTER)
        if permission.api_group == NON_RESOURCE
    } == set()


def test_the_install_notes_tell_how_to_read_the_reporters_token_only_when_it_is_on() -> None:
    on = renderer.render_notes(overrides=list(ON))
    assert (
        f"kubectl get secret {REPORTER_TOKEN.secret_name} -n {NAMESPACE} "
        "-o jsonpath='{.data.token}' | base64 -d"
    ) in on
    assert "license-service-reporter-database" in on
    assert REPORTER_TOKEN.secret_name not in renderer.render_notes()
