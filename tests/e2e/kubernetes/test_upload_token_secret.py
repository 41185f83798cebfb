"""The upload token in Secret ``ibm-licensing-upload-token`` (SPEC 10), with a real service on
the fake API server: created, read with ``kubectl`` and ``token get --upload``, rotated live
with ``token generate --upload``, and the ConfigMap telling uploaders where to send."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import httpx
import pytest

from tests.e2e.kubernetes.cluster import FOLLOW_LIMIT, NAMESPACE, Cluster
from tests.e2e.processes import ServiceProcess, eventually, run_cli
from tests.kubernetes_fake.kubectl_runner import Kubectl

pytestmark = pytest.mark.slow

UPLOAD_SECRET = "ibm-licensing-upload-token"
ITEM = {"productId": "api", "productName": "API", "productMetric": "API_CALLS", "metricValue": 5}


def upload(service: ServiceProcess, token: str) -> int:
    return httpx.post(
        f"{service.url}/v2/metric_upload",
        params={"token": token},
        json={**ITEM, "date": datetime.now(UTC).date().isoformat()},
        timeout=30,
    ).status_code


def test_the_upload_token_is_created_read_and_rotated_in_its_secret(
    cluster: Cluster, kubectl: Kubectl
) -> None:
    service = cluster.start()
    printed = kubectl(
        "get", "secret", UPLOAD_SECRET, "-n", NAMESPACE, "-o", "jsonpath={.data.token-upload}"
    ).stdout
    first = base64.b64decode(printed).decode()
    assert len(first) == 24
    assert first.isalnum()
    flags = ["--kubeconfig", str(cluster.kubeconfig), "--namespace", NAMESPACE]
    got = run_cli("token", "get", "--upload", *flags)
    assert (got.returncode, got.stdout.strip()) == (0, first), got.stderr
    assert upload(service, first) == 200
    api_token = cluster.token()
    assert api_token is not None
    assert upload(service, api_token) == 403

    generated = run_cli("token", "generate", "--upload", *flags)
    assert generated.returncode == 0, generated.stderr
    second = generated.stdout.strip()
    eventually(
        lambda: upload(service, second) == 200,
        within=FOLLOW_LIMIT,
        what="the generated upload token being accepted without a restart",
    )
    assert upload(service, first) == 401
    assert first not in service.log()
    assert second not in service.log()

    config_map = cluster.api.get("configmaps", "ibm-licensing-upload-config", namespace=NAMESPACE)
    assert config_map is not None
    assert config_map["data"]["url"] == (
        f"http://ibm-licensing-service-instance.{NAMESPACE}.svc:{service.port}"
    )
