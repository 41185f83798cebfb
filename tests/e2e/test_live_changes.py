"""A running server follows its files: token rotation, URL tokens off and on, dumps, shutdown."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx

from tests.e2e.conftest import Start
from tests.e2e.processes import DUMP, eventually, run_cli

NEW_TOKEN = "Rotated7Token8Value9Abcd"
INVALID_TOKEN = "has a space in it 123456"
CONFIG_HEADER = """apiVersion: operator.ibm.com/v1alpha1
kind: IBMLicensing
metadata:
  name: instance
spec:
  logLevel: INFO
"""
URL_TOKENS_OFF = CONFIG_HEADER + "  features:\n    auth:\n      urlBasedEnabled: false\n"
URL_TOKENS_MAYBE = CONFIG_HEADER + "  features:\n    auth:\n      urlBasedEnabled: maybe\n"
THREADS_2 = CONFIG_HEADER + "  features:\n    hyperThreading:\n      threadsPerCore: 2\n"
FOLLOW_LIMIT = 5.0  # SPEC 4.3: a new token is used within 5 seconds; config edits alike


def status(url: str, *, token: str | None = None, bearer: str | None = None) -> int:
    params = {"token": token} if token is not None else {}
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return httpx.get(url, params=params, headers=headers, timeout=10).status_code


def test_a_token_set_with_the_cli_is_used_within_five_seconds(start: Start) -> None:
    service = start()
    old, products = service.token, f"{service.url}/products"
    assert status(products, token=old) == 200

    result = run_cli("token", "set", "--data-dir", str(service.data_dir), "-", stdin=NEW_TOKEN)
    assert result.returncode == 0, result.stderr

    eventually(
        lambda: status(products, token=NEW_TOKEN) == 200,
        within=FOLLOW_LIMIT,
        what="the new token being accepted",
    )
    assert status(products, token=old) == 401
    assert NEW_TOKEN not in service.log()


def test_with_a_grace_period_the_previous_token_is_still_accepted(start: Start) -> None:
    service = start(extra=["--token-grace-period", "600"])
    old, products = service.token, f"{service.url}/products"

    result = run_cli("token", "set", "--data-dir", str(service.data_dir), NEW_TOKEN)
    assert result.returncode == 0, result.stderr

    eventually(
        lambda: status(products, token=NEW_TOKEN) == 200,
        within=FOLLOW_LIMIT,
        what="the new token being accepted",
    )
    assert status(products, token=old) == 200


def test_url_tokens_turned_off_outside_kubernetes_are_refused_and_the_token_keeps_working(
    start: Start, tmp_path: Path
) -> None:
    # Outside Kubernetes the API token is the only way in: turning it off would lock
    # everyone out, so the edit is refused like an invalid one (SPEC 6).
    config = tmp_path / "ibmlicensing.yaml"
    config.write_text(CONFIG_HEADER)
    service = start(extra=["--config", str(config)])
    token, products = service.token, f"{service.url}/products"
    assert status(products, token=token) == 200

    config.write_text(URL_TOKENS_OFF)
    eventually(
        lambda: "Configuration not applied" in service.log(),
        within=FOLLOW_LIMIT,
        what="turning URL tokens off being refused",
    )
    assert "the only way in for a service that runs without Kubernetes" in service.log()
    assert status(products, token=token) == 200
    assert status(products, bearer=token) == 200
    health = httpx.get(f"{service.url}/health", params={"token": token}).json()
    assert any("urlBasedEnabled: false" in warning for warning in health["warnings"])

    config.write_text(CONFIG_HEADER)
    eventually(
        lambda: "is valid again" in service.log(),
        within=FOLLOW_LIMIT,
        what="the file being valid again",
    )
    assert status(products, token=token) == 200


def test_url_tokens_off_in_the_config_file_stop_a_start_outside_kubernetes(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ibmlicensing.yaml"
    config.write_text(URL_TOKENS_OFF)

    result = run_cli("serve", "--cluster-dump", str(DUMP), "--config", str(config))

    assert result.returncode == 2
    assert "urlBasedEnabled: false turns off the API token" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_config_edit_keeps_the_configuration_in_force(
    start: Start, tmp_path: Path
) -> None:
    config = tmp_path / "ibmlicensing.yaml"
    config.write_text(THREADS_2)
    service = start(extra=["--config", str(config)])

    config.write_text(URL_TOKENS_MAYBE)

    eventually(
        lambda: "Configuration not applied" in service.log(),
        within=FOLLOW_LIMIT,
        what="the invalid configuration being refused",
    )
    page = httpx.get(f"{service.url}/status", params={"token": service.token}).text
    assert "threadsPerCore 2" in page


def test_an_invalid_token_in_the_file_fails_closed_and_says_why(start: Start) -> None:
    service = start()
    old, products = service.token, f"{service.url}/products"
    # Written by hand, bypassing `token set` and its rules: spaces are not allowed.
    (service.data_dir / "api-token").write_text(f"{INVALID_TOKEN}\n")

    def refused_as_invalid() -> bool:
        response = httpx.get(products, params={"token": old})
        return response.status_code == 401 and "configured on the server is invalid" in str(
            response.json()["message"]
        )

    eventually(refused_as_invalid, within=FOLLOW_LIMIT, what="the old token being refused")
    assert status(products, token=INVALID_TOKEN) == 401
    assert re.search(
        r"API-token access refused: the configured API token in \S+ is invalid", service.log()
    )


def test_a_replaced_dump_is_measured_at_the_next_sample(start: Start, tmp_path: Path) -> None:
    dump = tmp_path / "cluster.json"
    dump.write_text(DUMP.read_text())
    service = start(dumps=[dump])

    def mq_usage() -> str | None:
        found = re.search(
            r'^product_license_usage\{[^}]*productName="IBM MQ Advanced"[^}]*\} (\S+)$',
            httpx.get(service.metrics_url).text,
            re.MULTILINE,
        )
        return found.group(1) if found else None

    assert eventually(mq_usage, within=10, what="a first sample") == "4.0"
    document = json.loads(dump.read_text())
    document["items"] = [
        item for item in document["items"] if item["metadata"]["name"] != "qm-prod-ibm-mq-1"
    ]
    replacement = tmp_path / "cluster.json.new"
    replacement.write_text(json.dumps(document))
    os.replace(replacement, dump)

    eventually(lambda: mq_usage() == "2.0", within=10, what="the new dump being measured")


def test_sigterm_stops_the_service_gracefully(start: Start) -> None:
    service = start()

    assert service.stop() == 0
    log = service.log()
    assert "License Service stopped" in log
    assert "Traceback" not in log, log
