"""The real kubectl reads the manifests as the README tells users to apply them.

Offline: ``kubectl kustomize`` (built into kubectl) builds ``deploy/manifests`` to the
same objects as the files. Against the fake API server (which serves namespaces,
secrets and IBMLicensing resources, not Deployments or RBAC, and no OpenAPI schema,
hence ``--validate=false``): the objects it knows are applied for real and read back.
"""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from tests.deploy.chart import (
    EXAMPLE_IBMLICENSING,
    MANIFESTS,
    NAMESPACE,
    manifest_objects,
)
from tests.kubernetes_fake.kubectl_runner import Kubectl
from tests.kubernetes_fake.server import FakeApiServer


def _kubectl_or_skip() -> str:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    return binary


def test_kubectl_kustomize_builds_the_same_objects_as_the_files(tmp_path) -> None:
    binary = _kubectl_or_skip()
    runner = Kubectl(binary, tmp_path / "no-kubeconfig", tmp_path / "cache")
    built = runner("kustomize", str(MANIFESTS)).stdout
    objects = [obj for obj in yaml.safe_load_all(built) if obj is not None]

    def key(obj: dict) -> tuple[str, str]:
        return (obj["kind"], obj["metadata"]["name"])

    assert sorted(objects, key=key) == sorted(manifest_objects(), key=key)


def test_kubectl_applies_the_namespace_the_reader_token_and_the_example(
    fake_api: FakeApiServer, kubectl: Kubectl
) -> None:
    applied = kubectl(
        "apply",
        "--validate=false",
        "-f",
        str(MANIFESTS / "00-namespace.yaml"),
        "-f",
        str(MANIFESTS / "03-secret.yaml"),
        "-f",
        str(EXAMPLE_IBMLICENSING),
    ).stdout
    assert "namespace/ibm-common-services created" in applied
    assert "secret/ibm-licensing-default-reader-token created" in applied
    assert "ibmlicensing.operator.ibm.com/instance created" in applied

    secret = fake_api.get("secrets", "ibm-licensing-default-reader-token", namespace=NAMESPACE)
    assert secret["type"] == "kubernetes.io/service-account-token"
    url_tokens = kubectl(
        "get",
        "ibmlicensing",
        "instance",
        "-o",
        "jsonpath={.spec.features.auth.urlBasedEnabled}",
    ).stdout
    assert url_tokens == "true"


def test_an_overlay_can_point_the_manifests_at_another_image(tmp_path) -> None:
    # The overlay of deploy/README.md, "Your image".
    binary = _kubectl_or_skip()
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        f"resources:\n  - {os.path.relpath(MANIFESTS, overlay)}\n"
        "images:\n"
        "  - name: license-service\n"
        "    newName: registry.example.com/license-service\n"
        "    newTag: 0.1.0\n"
    )
    runner = Kubectl(binary, tmp_path / "no-kubeconfig", tmp_path / "cache")
    built = yaml.safe_load_all(runner("kustomize", str(overlay)).stdout)
    (deployment,) = [obj for obj in built if obj and obj["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com/license-service:0.1.0"
