"""The Deployment, its Services and the image: SPEC 7's footprint, hardened, and runnable.

The container's arguments are parsed by the real ``license-service`` command line (not
run), so a flag the chart passes and the program does not know fails here, not in a
crash-looping pod.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from license_service import __version__
from license_service.cli.app import build_app
from license_service.web.application import PUBLIC_PATHS
from tests.deploy.chart import (
    NAMESPACE,
    REPOSITORY,
    SERVICE_NAME,
    container_of,
    find,
    manifest_objects,
    of_kind,
    rendered_objects,
)

SEED_POD_SELECTOR = {"app": "ibm-licensing-service-instance"}  # the seed's `-l app=...`
_PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


def _pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = find(objects, "Deployment", SERVICE_NAME)["spec"]["template"]
    return spec


def _parse_serve(arguments: list[str]) -> dict[str, Any]:
    """The parameters ``license-service serve`` would run with (parsed, not run)."""
    group = typer.main.get_command(build_app())
    assert arguments[0] == "serve"
    serve = group.commands["serve"]  # type: ignore[attr-defined]
    with serve.make_context("serve", list(arguments[1:])) as context:
        return dict(context.params)


def test_the_seeds_pod_selector_finds_the_services_pods() -> None:
    deployment = find(manifest_objects(), "Deployment", SERVICE_NAME)
    labels = _pod(manifest_objects())["metadata"]["labels"]
    assert SEED_POD_SELECTOR.items() <= labels.items()
    assert deployment["spec"]["selector"] == {"matchLabels": SEED_POD_SELECTOR}
    assert deployment["metadata"]["namespace"] == NAMESPACE


def test_the_api_service_is_port_8080_named_api_port_on_the_services_pods() -> None:
    service = find(manifest_objects(), "Service", SERVICE_NAME)
    assert service["spec"]["selector"] == SEED_POD_SELECTOR
    assert service["spec"]["ports"] == [
        {"name": "api-port", "port": 8080, "targetPort": "api-port", "protocol": "TCP"}
    ]


def test_the_metrics_service_is_port_8081_on_the_same_pods() -> None:
    service = find(manifest_objects(), "Service", "ibm-licensing-service-metrics")
    assert service["spec"]["selector"] == SEED_POD_SELECTOR
    assert [(port["port"], port["targetPort"]) for port in service["spec"]["ports"]] == [
        (8081, "metrics")
    ]


def test_service_target_ports_are_ports_of_the_container() -> None:
    container_ports = {
        port["name"]: port["containerPort"] for port in container_of(manifest_objects())["ports"]
    }
    assert container_ports == {"api-port": 8080, "metrics": 8081}
    for service in of_kind(manifest_objects(), "Service"):
        for port in service["spec"]["ports"]:
            assert container_ports[port["targetPort"]] == port["port"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param([], id="defaults"),
        pytest.param(["postgresql.enabled=true"], id="postgresql"),
        pytest.param(["metrics.enabled=false", "extraArgs=[--log-level, DEBUG]"], id="options"),
        pytest.param(["tls.existingSecret=ibm-licensing-certs"], id="tls"),
    ],
)
def test_the_real_command_line_accepts_the_containers_arguments(overrides: list[str]) -> None:
    container = container_of(rendered_objects(overrides))
    assert container["command"] == ["license-service"]
    parameters = _parse_serve(container["args"])
    assert parameters["host"] == "0.0.0.0"
    assert parameters["port"] == 8080
    assert parameters["data_dir"] == Path("/data")
    assert parameters["namespace"] == "$(POD_NAMESPACE)"


def test_the_namespace_argument_is_the_pods_own_namespace() -> None:
    container = container_of(manifest_objects())
    arguments = container["args"]
    variable = re.fullmatch(r"\$\((\w+)\)", arguments[arguments.index("--namespace") + 1])
    assert variable is not None
    (source,) = [env for env in container["env"] if env["name"] == variable.group(1)]
    assert source["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


def test_the_probes_ask_the_unauthenticated_health_endpoints() -> None:
    container = container_of(manifest_objects())
    probes = {
        kind: (container[kind]["httpGet"]["path"], container[kind]["httpGet"]["port"])
        for kind in _PROBES
    }
    assert probes == {
        "startupProbe": ("/livez", "api-port"),
        "livenessProbe": ("/livez", "api-port"),
        "readinessProbe": ("/readyz", "api-port"),
    }
    assert {"/livez", "/readyz"} <= set(PUBLIC_PATHS)


def test_a_tls_secret_is_mounted_read_only_passed_to_serve_and_probed_over_https() -> None:
    objects = rendered_objects(["tls.existingSecret=ibm-licensing-certs"])
    container = container_of(objects)
    parameters = _parse_serve(container["args"])
    assert parameters["tls_cert"] == Path("/etc/license-service/tls/tls.crt")
    assert parameters["tls_key"] == Path("/etc/license-service/tls/tls.key")
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "tls"]
    assert mount == {"name": "tls", "mountPath": "/etc/license-service/tls", "readOnly": True}
    (volume,) = [v for v in _pod(objects)["spec"]["volumes"] if v["name"] == "tls"]
    assert volume["secret"] == {"secretName": "ibm-licensing-certs", "defaultMode": 0o440}
    schemes = {container[probe]["httpGet"]["scheme"] for probe in _PROBES}
    assert schemes == {"HTTPS"}
    plain = container_of(manifest_objects())
    assert {plain[probe]["httpGet"]["scheme"] for probe in _PROBES} == {"HTTP"}
    assert "--tls-cert" not in plain["args"]


def test_the_pod_meets_the_restricted_pod_security_standard() -> None:
    pod = _pod(manifest_objects())["spec"]
    container = container_of(manifest_objects())
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] > 0
    assert security["runAsGroup"] > 0
    assert security["fsGroup"] > 0
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert not any(key.startswith("host") for key in pod)  # no host network, PID or IPC
    volume_kinds = {key for volume in pod["volumes"] for key in volume if key != "name"}
    assert volume_kinds <= {"persistentVolumeClaim", "emptyDir", "secret"}


def test_the_only_writable_places_are_the_data_directory_and_tmp() -> None:
    pod = _pod(manifest_objects())["spec"]
    mounts = {
        mount["mountPath"]: mount["name"]
        for mount in container_of(manifest_objects())["volumeMounts"]
    }
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert mounts == {"/data": "data", "/tmp": "tmp"}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "ibm-licensing-service-data"
    assert "emptyDir" in volumes["tmp"]


def test_the_container_has_requests_and_limits() -> None:
    resources = container_of(manifest_objects())["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert resources["limits"]["memory"] == "512Mi"
    assert "cpu" in resources["limits"]


def test_one_replica_replaced_not_rolled_so_the_claim_is_released_first() -> None:
    deployment = find(manifest_objects(), "Deployment", SERVICE_NAME)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_the_image_is_the_packages_version_by_default() -> None:
    assert container_of(manifest_objects())["image"] == f"license-service:{__version__}"


# --- the Dockerfile (not built here: there is no Docker engine) -------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPOSITORY / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_the_image_runs_as_the_charts_numeric_non_root_user() -> None:
    instructions = _dockerfile_instructions()
    (user,) = [rest for keyword, rest in instructions if keyword == "USER"]
    uid, _, gid = user.partition(":")
    security = _pod(manifest_objects())["spec"]["securityContext"]
    assert (int(uid), int(gid)) == (security["runAsUser"], security["runAsGroup"])
    assert int(uid) != 0


def test_the_image_is_python_3_11_slim_with_the_package_installed_by_pip() -> None:
    instructions = _dockerfile_instructions()
    bases = [rest.split()[0] for keyword, rest in instructions if keyword == "FROM"]
    assert bases
    assert all(base == "python:3.11-slim" for base in bases)
    assert any(keyword == "RUN" and "pip install ." in rest for keyword, rest in instructions)
    assert ("ENTRYPOINT", '["license-service"]') in instructions
