"""Every manifest is valid for Kubernetes, checked offline against its published schemas.

``kubernetes-validate`` ships the JSON schemas of each Kubernetes release; ``strict``
refuses any field the schema does not know (a typo such as ``readOnlyRootFileSystem``
would otherwise be dropped silently by the API server). The manifests are checked for the
oldest release the chart supports (Chart.yaml's kubeVersion) and the newest one shipped,
in every variant of the values that changes what is rendered.
"""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions, latest_version

from tests.deploy.chart import CHART, SERVICE_NAME, find, manifest_objects, rendered_objects

OLDEST_SUPPORTED = "1.25"
VERSIONS = (OLDEST_SUPPORTED, latest_version())
# The custom resource has no schema in the package: tests/deploy/test_ibmlicensing_crd.py
# checks it against the CRD instead.
CUSTOM_KINDS = {"IBMLicensing"}

VARIANTS = {
    "manifests": None,
    "chart defaults": [],
    "postgresql": ["postgresql.enabled=true"],
    "replicas": ["replicas=3", "postgresql.enabled=true"],
    "no persistence": ["persistence.enabled=false"],
    "metrics off, no reader": ["metrics.enabled=false", "reader.create=false"],
    "tls": ["tls.existingSecret=ibm-licensing-certs"],
    "reporter": ["reporter.enabled=true"],
    "reporter replicas, tls, options": [
        "reporter.enabled=true",
        "reporter.replicas=3",
        "reporter.tls.existingSecret=reporter-tls",
        "reporter.extraArgs=[--log-level, DEBUG]",
        "reporter.service.type=LoadBalancer",
        "reporter.service.annotations={a: b}",
        "reporter.nodeSelector={kubernetes.io/os: linux}",
        "reporter.tolerations=[{key: dedicated, operator: Exists, effect: NoSchedule}]",
        "imagePullSecrets=[{name: registry}]",
    ],
    "everything optional": [
        "persistence.storageClassName=fast",
        "imagePullSecrets=[{name: registry}]",
        "nodeSelector={kubernetes.io/os: linux}",
        "tolerations=[{key: dedicated, operator: Exists, effect: NoSchedule}]",
        "service.annotations={a: b}",
        "metrics.service.annotations={prometheus.io/scrape: 'true'}",
        "extraArgs=[--log-level, DEBUG]",
        "ibmlicensing.create=true",
        "namespace.create=true",
    ],
}


def _objects(variant: str) -> list[dict[str, Any]]:
    overrides = VARIANTS[variant]
    if overrides is None:
        return manifest_objects(with_examples=True)
    return rendered_objects(overrides)


def _label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def test_the_oldest_supported_version_is_the_charts_minimum_and_is_shipped() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == f">={OLDEST_SUPPORTED}.0-0"
    assert f"{OLDEST_SUPPORTED}.0" in all_versions()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_object_is_valid_for_kubernetes_in_strict_mode(variant: str, version: str) -> None:
    checked = []
    for obj in _objects(variant):
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{_label(obj)} is invalid for Kubernetes {version}: {error.message}")
        checked.append(obj["kind"])
    assert "Deployment" in checked


def test_strict_validation_refuses_a_misspelt_field() -> None:
    deployment = copy.deepcopy(find(manifest_objects(), "Deployment", SERVICE_NAME))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError, match="readOnlyRootFileSystem"):
        kubernetes_validate.validate(deployment, latest_version(), strict=True)
