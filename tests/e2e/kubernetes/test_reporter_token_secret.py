"""The Reporter's token in Secret `ibm-license-service-reporter-token` (SPEC 11, SPEC 4.2-4.3).

A real ``license-service reporter --kubeconfig ...`` against the fake API server, which
the Reporter reaches with the real ``kubernetes`` client: the Secret is created with a
random token when missing, a changed Secret is used without a restart, a wrong or
invalid token is refused (401), and a Secret the Reporter may not read stops its start.
Its signing key is a Secret too, one key for every replica.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from kubernetes import client

from license_service.signing.keys import SigningKey
from license_service.signing.secret_store import REPORTER_SIGNING_KEY_SECRET, SIGNING_KEY_KEY
from license_service.store.database import sqlite_url
from license_service.tokens.kinds import REPORTER_TOKEN
from license_service.tokens.secret_store import TOKEN_SECRET_LABELS
from tests.e2e.kubernetes.cluster import FOLLOW_LIMIT, INVALID_TOKEN
from tests.e2e.processes import ServiceProcess, eventually, run_cli
from tests.e2e.reporter_process import start_reporter
from tests.kubernetes_fake.client_setup import api_client, write_kubeconfig
from tests.kubernetes_fake.manifests import namespace_manifest
from tests.kubernetes_fake.server import FakeApiServer

pytestmark = pytest.mark.slow

NAMESPACE = "fleet"
SECRET = REPORTER_TOKEN.secret_name
NEW_TOKEN = "Fleet7Token8Rotated9Abcd"
THIRD_TOKEN = "Fleet3Token4Written5Wxyz"


def _start(fake_api: FakeApiServer, tmp_path: Path, *extra: str) -> ServiceProcess:
    fake_api.create(namespace_manifest(NAMESPACE))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake_api.url)
    return start_reporter(
        tmp_path,
        sqlite_url(tmp_path / "reporter.db"),
        extra=("--kubeconfig", str(kubeconfig), "--namespace", NAMESPACE, *extra),
    )


def _secret_token(fake_api: FakeApiServer) -> str | None:
    secret = fake_api.get("secrets", SECRET, namespace=NAMESPACE)
    if secret is None:
        return None
    return base64.b64decode(secret["data"]["token"]).decode()


def _write_token(fake_api: FakeApiServer, token: str) -> None:
    """What ``kubectl apply`` of a Secret with the new token does: replace its data."""
    with api_client(fake_api.url) as kube:
        core = client.CoreV1Api(kube)
        secret = core.read_namespaced_secret(SECRET, NAMESPACE)
        secret.data = {"token": base64.b64encode(token.encode()).decode()}
        core.replace_namespaced_secret(SECRET, NAMESPACE, secret)


def _status(reporter: ServiceProcess, token: str) -> int:
    return httpx.get(f"{reporter.url}/clusters", params={"token": token}, timeout=10).status_code


def test_the_reporter_creates_its_token_secret_and_follows_a_change_without_a_restart(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    reporter = _start(fake_api, tmp_path)
    try:
        first = _secret_token(fake_api)
        assert first is not None
        assert re.fullmatch(r"[A-Za-z0-9]{24}", first)
        secret = fake_api.get("secrets", SECRET, namespace=NAMESPACE)
        assert secret is not None
        assert secret["metadata"]["labels"] == dict(TOKEN_SECRET_LABELS)
        assert not (reporter.data_dir / "token").exists()  # the Secret, not the data directory
        assert f"token in Secret {SECRET} (namespace {NAMESPACE})" in reporter.stdout()
        assert _status(reporter, first) == 200
        assert _status(reporter, "Wrong7Token8Value9Abcdefg") == 401
        bearer = httpx.get(
            f"{reporter.url}/clusters", headers={"Authorization": f"Bearer {first}"}, timeout=10
        )
        assert bearer.status_code == 200

        _write_token(fake_api, NEW_TOKEN)

        eventually(
            lambda: _status(reporter, NEW_TOKEN) == 200,
            within=FOLLOW_LIMIT,
            what="the changed Secret's token accepted without a restart",
        )
        assert _status(reporter, first) == 401

        # The README's way: `license-service token set --reporter` checks, then writes.
        kubeconfig = str(tmp_path / "kubeconfig")
        cluster = ("--reporter", "--kubeconfig", kubeconfig, "--namespace", NAMESPACE)
        written = run_cli("token", "set", "-", *cluster, stdin=THIRD_TOKEN)
        assert written.returncode == 0, written.stderr
        eventually(
            lambda: _status(reporter, THIRD_TOKEN) == 200,
            within=FOLLOW_LIMIT,
            what="the token written by `token set --reporter` accepted",
        )
        assert run_cli("token", "get", *cluster).stdout.strip() == THIRD_TOKEN
        assert _status(reporter, NEW_TOKEN) == 401
        for token in (first, NEW_TOKEN, THIRD_TOKEN):
            assert token not in reporter.log()
    finally:
        reporter.stop()


def test_an_invalid_token_in_the_secret_fails_closed_and_a_deleted_secret_comes_back(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    reporter = _start(fake_api, tmp_path)
    try:
        first = _secret_token(fake_api)
        assert first is not None

        _write_token(fake_api, INVALID_TOKEN)

        refused = eventually(
            lambda: (
                (answer := httpx.get(f"{reporter.url}/clusters", params={"token": first}))
                and answer.status_code == 401
                and "invalid" in answer.text
                and answer
            ),
            within=FOLLOW_LIMIT,
            what="the invalid token making every Reporter token refused",
        )
        assert INVALID_TOKEN not in refused.text
        assert _status(reporter, INVALID_TOKEN) == 401

        fake_api.delete("secrets", SECRET, namespace=NAMESPACE)

        recreated = eventually(
            lambda: (token := _secret_token(fake_api)) not in (None, INVALID_TOKEN) and token,
            within=FOLLOW_LIMIT,
            what="the deleted Secret created again",
        )
        assert recreated != first
        eventually(
            lambda: _status(reporter, recreated) == 200,
            within=FOLLOW_LIMIT,
            what="the recreated token accepted",
        )
        assert INVALID_TOKEN not in reporter.log()
        assert "license-service token set --reporter --kubeconfig" in reporter.log()
    finally:
        reporter.stop()


def _run_reporter(fake_api: FakeApiServer, tmp_path: Path, *extra: str) -> str:
    """Run a Reporter expected to stop at start; its exit code and output."""
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake_api.url)
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "license_service",
            "reporter",
            "--database-url",
            sqlite_url(tmp_path / "reporter.db"),
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            "--kubeconfig",
            str(kubeconfig),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return f"{finished.returncode}\n{finished.stdout}{finished.stderr}"


def test_a_reporter_that_may_not_read_its_secret_does_not_start(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    fake_api.faults.fail(None, status=403, path="/secrets")

    output = _run_reporter(fake_api, tmp_path, "--namespace", NAMESPACE, "--startup-timeout", "2")

    code, _, text = output.partition("\n")
    assert code == "4"  # the cluster cannot be read
    (error,) = [line for line in text.splitlines() if line.startswith("license-service: error")]
    assert f"reading the Reporter token Secret {NAMESPACE}/{SECRET} did not succeed" in error
    assert "HTTP 403" in error
    assert "or give --token-file" in error
    assert not (tmp_path / "data" / "token").exists()  # no silent fall back to a file


def test_a_namespace_that_does_not_exist_is_refused_with_the_fix(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    output = _run_reporter(fake_api, tmp_path, "--namespace", "nowhere")

    code, _, text = output.partition("\n")
    assert code == "2"
    assert "the Reporter's namespace nowhere (given with --namespace) does not exist" in text
    assert "kubectl create namespace nowhere" in text


def test_a_token_file_takes_precedence_over_the_secret(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "mounted-token"
    token_file.write_text(NEW_TOKEN)
    reporter = _start(fake_api, tmp_path, "--token-file", str(token_file))
    try:
        assert _status(reporter, NEW_TOKEN) == 200
        assert fake_api.get("secrets", SECRET, namespace=NAMESPACE) is None  # never created
        assert f"token in {token_file}" in reporter.stdout()
    finally:
        reporter.stop()


def test_the_reporters_signing_key_is_one_secret_shared_by_its_replicas_and_restarts(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    first = _start(fake_api, tmp_path)
    second = start_reporter(
        tmp_path,
        sqlite_url(tmp_path / "reporter.db"),
        name="second",
        extra=("--kubeconfig", str(tmp_path / "kubeconfig"), "--namespace", NAMESPACE),
    )
    try:
        secret = fake_api.get("secrets", REPORTER_SIGNING_KEY_SECRET, namespace=NAMESPACE)
        assert secret is not None
        key = SigningKey.from_pem(base64.b64decode(secret["data"][SIGNING_KEY_KEY]), source="test")
        for reporter in (first, second):
            assert f"signing key {key.fingerprint}" in reporter.log()
            assert not list(reporter.data_dir.glob("signing-key*"))  # the Secret, no file
    finally:
        first.stop()
        second.stop()
