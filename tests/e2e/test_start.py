"""Starting the real process: HTTPS (given files or httpsEnable), clear refusals, the demo."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import httpx

from tests.e2e.certificates import self_signed_certificate
from tests.e2e.conftest import Start
from tests.e2e.processes import (
    DUMP,
    environment_outside_a_pod,
    eventually,
    free_port,
    run_cli,
)


def test_tls_files_make_the_api_https(start: Start, tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))

    service = start(
        extra=["--tls-cert", str(cert), "--tls-key", str(key)], scheme="https", verify=trusted
    )

    response = httpx.get(f"{service.url}/products", params={"token": service.token}, verify=trusted)
    assert response.status_code == 200
    assert f"API:      https://127.0.0.1:{service.port}/" in service.stdout()


def test_serve_without_a_cluster_source_says_what_to_give(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        str(free_port()),
        env=environment_outside_a_pod(tmp_path),  # no $KUBECONFIG, no ~/.kube/config
    )

    assert result.returncode == 2
    assert "no cluster to measure: give --cluster-dump FILE" in result.stderr
    assert f"{tmp_path}/.kube/config does not exist" in result.stderr
    assert "license-service demo" in result.stderr


def test_serve_refuses_a_certificate_without_its_key(tmp_path: Path) -> None:
    cert, _ = self_signed_certificate(tmp_path)

    result = run_cli("serve", "--cluster-dump", str(DUMP), "--tls-cert", str(cert))

    assert result.returncode == 2
    assert "--tls-cert was given without --tls-key" in result.stderr


def test_serve_refuses_an_invalid_entitlements_file_naming_item_field_and_fix(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "entitlements.yaml"
    bad.write_text("- {name: MQ, productId: mq, metricName: VPC, quantity: lots}\n")

    result = run_cli(
        "serve",
        "--cluster-dump",
        str(DUMP),
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        str(free_port()),
        "--entitlements",
        str(bad),
    )

    assert result.returncode == 2
    assert "entitlements[0].quantity 'lots' is not a positive number" in result.stderr
    assert f"fix --entitlements {bad}" in result.stderr


def test_the_demo_serves_its_history_and_prints_clickable_urls(start: Start) -> None:
    demo = start(command="demo", extra=["--history-days", "3"], sample_interval=300)

    output = demo.stdout()
    token = demo.token
    assert f"http://127.0.0.1:{demo.port}/products?token={token}" in output
    assert f"http://127.0.0.1:{demo.port}/?open=status&token={token}" in output
    assert "`license-service serve` never prints it" in output
    stored = re.search(r"\((\d+) samples of history stored\)", output)
    assert stored is not None
    assert int(stored.group(1)) >= 3 * 24
    products = httpx.get(f"{demo.url}/products", params={"token": token}).json()
    assert {row["name"] for row in products} >= {"IBM MQ", "IBM Cloud Pak for Integration"}
    days = httpx.get(f"{demo.url}/products", params={"token": token, "format": "csv"}).text.count(
        "\n"
    )
    assert days > 1
    explained_url = re.search(r"(http://\S+/usage_explained\?\S+)", output)
    assert explained_url is not None
    explained = httpx.get(explained_url.group(1)).json()
    assert {c["workloadKind"] for c in explained["contributions"]} >= {"Deployment", "Pod"}
    assert any(c["cappedMillicores"] < c["chargedMillicores"] for c in explained["contributions"])
    assert demo.stop() == 0

    again = start(command="demo", extra=["--history-days", "3"], sample_interval=300)

    eventually(lambda: "a new sample every" in again.stdout(), within=5, what="the welcome")
    assert "history already in the store" in again.stdout() or re.search(
        r"\(\d{1,2} samples of history stored\)", again.stdout()
    )
    assert again.token == token


def test_https_enable_in_the_configuration_serves_https_with_a_certificate_made_once(
    start: Start, tmp_path: Path
) -> None:
    config = tmp_path / "ibmlicensing.yaml"
    config.write_text(
        "apiVersion: operator.ibm.com/v1alpha1\nkind: IBMLicensing\nspec:\n  httpsEnable: true\n"
    )

    service = start(extra=["--config", str(config)], scheme="https", verify=False)

    response = httpx.get(f"{service.url}/version", verify=False)
    assert response.status_code == 200
    assert f"API:      https://127.0.0.1:{service.port}/" in service.stdout()
    certificate = (service.data_dir / "tls.crt").read_bytes()
    trusted = ssl.create_default_context(cafile=str(service.data_dir / "tls.crt"))
    assert httpx.get(f"https://localhost:{service.port}/version", verify=trusted).is_success
    assert service.stop() == 0

    again = start(extra=["--config", str(config)], scheme="https", verify=trusted)

    assert (again.data_dir / "tls.crt").read_bytes() == certificate


def test_serve_on_a_file_that_is_not_a_database_says_what_is_wrong_with_it(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    database = data / "license-service.db"
    database.write_text("not a database\n")
    # Private already, so the start has nothing to tighten (that would be a second line).
    database.chmod(0o600)

    result = run_cli(
        "serve", "--cluster-dump", str(DUMP), "--data-dir", str(data), "--port", str(free_port())
    )

    assert result.returncode == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"license-service: error: the database file {data}/license-service.db")
    assert "file is not a database" in line
    assert "server is running" not in line
    assert "sqlalche.me" not in line
