"""`license-service token get | set | generate` on the token Secret of a cluster (--kubeconfig)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.tokens.secret_store import TOKEN_SECRET_LABELS
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.kubectl_runner import Kubectl
from tests.kubernetes_fake.manifests import (
    ibm_licensing_manifest,
    namespace_manifest,
    token_secret_manifest,
)
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "ibm-common-services"
TOKEN = "Zq7mW2xK9pL4vR8tYb3N"
NEW = "Hc5Jd8Fs2Ga6Kl9Qw4Er"


@pytest.fixture
def kubeconfig(fake_api: FakeApiServer, tmp_path: Path) -> str:
    fake_api.create(namespace_manifest(NAMESPACE))
    return str(write_kubeconfig(tmp_path / "kubeconfig", fake_api.url))


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(build_app(), ["token", *args], input=input)


def stored(
    api: FakeApiServer, *, namespace: str = NAMESPACE, name: str = "ibm-licensing-token"
) -> str:
    secret = api.get("secrets", name, namespace=namespace)
    assert secret is not None
    return base64.b64decode(secret["data"]["token"]).decode()


def test_get_prints_the_token_as_the_seeds_kubectl_command_does(
    fake_api: FakeApiServer, kubeconfig: str, kubectl: Kubectl
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    printed = kubectl(
        "get", "secret", "ibm-licensing-token", "-n", NAMESPACE, "-o", "jsonpath={.data.token}"
    ).stdout

    result = run("get", "--kubeconfig", kubeconfig)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{base64.b64decode(printed).decode()}\n" == f"{TOKEN}\n"


def test_set_checks_the_token_first_and_writes_the_secret_with_the_seed_labels(
    fake_api: FakeApiServer, kubeconfig: str
) -> None:
    refused = run("set", "abcdefgh&ijklmnopq", "--kubeconfig", kubeconfig)
    assert refused.exit_code == 2
    assert "'&' at position 9" in refused.stderr
    assert fake_api.get("secrets", "ibm-licensing-token", namespace=NAMESPACE) is None

    result = run("set", "-", "--kubeconfig", kubeconfig, "--namespace", NAMESPACE, input=f"{NEW}\n")

    assert result.exit_code == 0, result.output
    assert stored(fake_api) == NEW
    secret = fake_api.get("secrets", "ibm-licensing-token", namespace=NAMESPACE)
    assert secret is not None
    assert secret["metadata"]["labels"] == dict(TOKEN_SECRET_LABELS)
    assert f"Secret {NAMESPACE}/ibm-licensing-token (created)" in result.stdout
    assert NEW not in result.output


def test_generate_replaces_the_token_and_prints_only_the_new_one(
    fake_api: FakeApiServer, kubeconfig: str
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))

    result = run("generate", "--kubeconfig", kubeconfig)

    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    assert len(new) == 24
    assert new.isalnum()
    assert stored(fake_api) == new
    assert "(updated)" in result.stderr


def test_the_secret_name_and_namespace_follow_the_ibmlicensing_resource(
    fake_api: FakeApiServer, kubeconfig: str
) -> None:
    fake_api.create(namespace_manifest("licensing"))
    fake_api.create(
        ibm_licensing_manifest(spec={"instanceNamespace": "licensing", "apiSecretToken": "mine"})
    )

    result = run("set", NEW, "--kubeconfig", kubeconfig)

    assert result.exit_code == 0, result.output
    assert stored(fake_api, namespace="licensing", name="mine") == NEW


def test_get_of_a_missing_secret_says_how_to_create_one(kubeconfig: str) -> None:
    result = run("get", "--kubeconfig", kubeconfig)

    assert result.exit_code == 2  # bad input: no token Secret where the flags point
    assert result.stdout == ""
    assert f"the Secret {NAMESPACE}/ibm-licensing-token does not exist" in result.stderr
    assert (
        f"license-service token generate --kubeconfig {kubeconfig} --namespace {NAMESPACE}"
        in result.stderr
    )


@pytest.mark.parametrize("command", ["get", "generate"])
def test_a_namespace_that_does_not_exist_is_named_as_the_problem(
    fake_api: FakeApiServer, kubeconfig: str, command: str
) -> None:
    result = run(command, "--kubeconfig", kubeconfig, "--namespace", "ibm-common-service")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "license-service: error: the namespace ibm-common-service does not exist on the API "
        f"server {fake_api.url}; give the service's namespace with --namespace (the one "
        "holding its token Secret: `kubectl get secrets -A | grep licensing-token`)\n"
    )


def test_a_kubeconfig_that_does_not_exist_is_named_as_such(tmp_path: Path) -> None:
    missing = tmp_path / "nope.cfg"

    result = run("get", "--kubeconfig", str(missing))

    assert result.exit_code == 2
    assert result.stderr == (
        f"license-service: error: --kubeconfig {missing}: no such file; give the path of a "
        "kubeconfig\n"
    )


def test_get_refuses_to_print_an_invalid_token_and_says_why(
    fake_api: FakeApiServer, kubeconfig: str
) -> None:
    fake_api.create(token_secret_manifest("bad token value here"))

    result = run("get", "--kubeconfig", kubeconfig)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "position 4" in result.stderr
    assert "bad token value here" not in result.stderr


def test_an_unreachable_cluster_exits_with_the_cluster_code(
    fake_api: FakeApiServer, kubeconfig: str
) -> None:
    fake_api.stop()

    result = run("get", "--kubeconfig", kubeconfig, "--namespace", NAMESPACE, "--secret", "t")

    assert result.exit_code == 4
    assert "cannot reach the API server" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            ["--namespace", NAMESPACE], "add --kubeconfig FILE", id="namespace-without-cluster"
        ),
        pytest.param(
            ["--kubeconfig", "kc", "--data-dir", "d"], "give only one", id="file-and-cluster"
        ),
        pytest.param(
            ["--kubeconfig", "kc", "--in-cluster"], "give one or the other", id="two-clusters"
        ),
    ],
)
def test_contradicting_flags_are_refused(arguments: list[str], message: str) -> None:
    result = run("get", *arguments)

    assert result.exit_code == 2
    assert message in result.stderr
