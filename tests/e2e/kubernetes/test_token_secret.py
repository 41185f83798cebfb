"""The token in Secret `ibm-licensing-token`: created, rotated the seed's way, refused, recreated.

The steps are the seed document's, with the real kubectl: read the token with
``kubectl get secret ... -o jsonpath='{.data.token}' | base64 -d``, apply a new
``token.yml``, and "delete the pod" (here: stop the process and start it again).
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from license_service.tokens.secret_store import TOKEN_SECRET_LABELS
from tests.e2e.kubernetes.cluster import (
    FOLLOW_LIMIT,
    INVALID_TOKEN,
    NAMESPACE,
    TOKEN_SECRET,
    Cluster,
    metric_values,
    status_of,
    token_file,
)
from tests.e2e.processes import eventually
from tests.kubernetes_fake.kubectl_runner import Kubectl

pytestmark = pytest.mark.slow

NEW_TOKEN = "Rotated7Token8Value9Abcd"


def kubectl_token(kubectl: Kubectl) -> str:
    """What ``kubectl get secret ... -o jsonpath='{.data.token}' | base64 -d`` prints."""
    printed = kubectl(
        "get", "secret", TOKEN_SECRET, "-n", NAMESPACE, "-o", "jsonpath={.data.token}"
    ).stdout
    return base64.b64decode(printed).decode()


def test_the_seeds_procedure_rotates_the_token_live_and_across_a_restart(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    service = cluster.start()
    secret = cluster.api.get("secrets", TOKEN_SECRET, namespace=NAMESPACE)
    assert secret is not None
    assert secret["metadata"]["labels"] == dict(TOKEN_SECRET_LABELS)
    first = kubectl_token(kubectl)
    assert len(first) == 24
    assert first.isalnum()
    assert status_of(service, "/products", token=first) == 200
    assert "token get --kubeconfig" in service.stdout()

    kubectl("apply", "--validate=false", "-f", token_file(tmp_path, NEW_TOKEN))

    eventually(
        lambda: status_of(service, "/products", token=NEW_TOKEN) == 200,
        within=FOLLOW_LIMIT,
        what="the applied token being accepted without a restart",
    )
    assert status_of(service, "/products", token=first) == 401
    service.stop()  # "kubectl delete pods -l app=ibm-licensing-service-instance"
    restarted = cluster.start()
    assert status_of(restarted, "/products", token=NEW_TOKEN) == 200
    assert kubectl_token(kubectl) == NEW_TOKEN
    assert NEW_TOKEN not in service.log() + restarted.log()
    assert first not in service.log()


def test_an_invalid_token_fails_closed_and_a_deleted_secret_comes_back_with_a_new_token(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    service = cluster.start()
    first = cluster.token()

    kubectl("apply", "--validate=false", "-f", token_file(tmp_path, INVALID_TOKEN))

    refused = eventually(
        lambda: (
            (
                answer := httpx.get(
                    f"{service.url}/products", params={"token": INVALID_TOKEN}, timeout=10
                )
            ).status_code
            == 401
            and "invalid" in answer.text
            and answer
        ),
        within=FOLLOW_LIMIT,
        what="the invalid token refused",
    )
    assert "the API token configured on the server is invalid" in refused.json()["message"]
    assert status_of(service, "/products", token=first) == 401
    failures = metric_values(service)
    assert (
        failures["license_service_authentication_failures_total{reason=configured-token-invalid}"]
        >= 2
    )

    kubectl("delete", "secret", TOKEN_SECRET, "-n", NAMESPACE)

    recreated = eventually(
        lambda: (token := cluster.token()) not in (None, INVALID_TOKEN) and token,
        within=FOLLOW_LIMIT,
        what="the Secret recreated",
    )
    assert recreated != first
    eventually(
        lambda: status_of(service, "/products", token=recreated) == 200,
        within=FOLLOW_LIMIT,
        what="the recreated token accepted",
    )
    assert "is invalid: character ' ' (U+0020 SPACE) at position 4" in service.log()
    assert INVALID_TOKEN not in service.log()


def test_a_deleted_secret_the_service_may_not_recreate_is_one_line_until_allowed(
    cluster: Cluster, kubectl: Kubectl
) -> None:
    service = cluster.start()
    token = cluster.token()
    cluster.api.faults.fail(None, status=403, path="/secrets$", method="POST")

    kubectl("delete", "secret", TOKEN_SECRET, "-n", NAMESPACE)

    refused = eventually(
        lambda: len(service.log().split("HTTP 403")) > 3 and service.log(),
        within=FOLLOW_LIMIT,
        what="the service trying to recreate the Secret three times",
    )
    assert "Traceback" not in refused
    lines = [line for line in refused.splitlines() if "HTTP 403" in line]
    assert " WARNING " in lines[0]
    assert all(" INFO " in line for line in lines[1:])
    assert "needs get, list, watch, create and update on secrets" in lines[0]
    assert status_of(service, "/products", token=token) == 401
    cluster.api.faults.clear()
    eventually(
        lambda: cluster.token() not in (None, token),
        within=40,  # the retries back off up to 30 s
        what="the Secret recreated once allowed",
    )
