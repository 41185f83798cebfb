"""The service wired and run in-process: every part answers, a stop ends it, a failure stops all."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from license_service.cluster.dump_source import DumpFileSource
from license_service.config_sources.file_source import LicensingConfigWatcher
from license_service.errors import LicenseServiceError
from license_service.runtime.listeners import Listeners, bind_listeners
from license_service.runtime.options import ServeOptions
from license_service.runtime.service import run_service
from license_service.runtime.wiring import ClusterChoice, Service, assemble, utc_now
from tests.e2e.processes import free_port

DUMP = Path(__file__).parent.parent / "fixtures" / "dumps" / "cluster.json"
KUBE_SYSTEM_UID = "c87e24a7-b69a-5dcd-ac8d-571b2faabde7"


def build(tmp_path: Path, **options: object) -> Service:
    source = DumpFileSource.load([DUMP], clock=utc_now)
    return assemble(
        ServeOptions(
            host="127.0.0.1",
            data_dir=tmp_path / "data",
            sample_interval=timedelta(seconds=1),
            log_level="INFO",
            **options,  # type: ignore[arg-type]
        ),
        cluster=ClusterChoice(
            source=source,
            cluster_id=source.cluster_id,
            cluster_name="test cluster",
            check=source.check,
        ),
        environ={"LICENSE_SERVICE_COMMIT": "abc1234"},
    )


def free_listeners() -> Listeners:
    return bind_listeners("127.0.0.1", port=free_port(), metrics_port=free_port())


def test_the_assembled_service_serves_its_api_and_metrics_until_stopped(tmp_path: Path) -> None:
    service = build(tmp_path)
    listeners = free_listeners()
    assert listeners.metrics is not None
    api = f"http://127.0.0.1:{listeners.api.getsockname()[1]}"
    metrics = f"http://127.0.0.1:{listeners.metrics.getsockname()[1]}/metrics"
    token = service.tokens.current().tokens[0]

    async def scenario() -> tuple[dict[str, str], int, int, int]:
        stop = asyncio.Event()
        running = asyncio.create_task(
            run_service(service, listeners, stop=stop, handle_signals=False)
        )
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(200):
                try:
                    version = (await client.get(f"{api}/version")).json()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            health = await client.get(f"{api}/health", params={"token": token})
            refused = await client.get(f"{api}/health")
            scraped = await client.get(metrics)
        stop.set()
        await asyncio.wait_for(running, timeout=20)
        return version, health.status_code, refused.status_code, scraped.status_code

    try:
        version, health, refused, scraped = asyncio.run(scenario())
    finally:
        listeners.close()
        service.close()

    assert version["commit"] == "abc1234"
    assert (health, refused, scraped) == (200, 401, 200)
    assert service.state.cluster_id == KUBE_SYSTEM_UID
    assert service.data_dir.token_file.is_file()
    assert service.data_dir.signing_key_file.is_file()


def test_a_server_that_cannot_start_stops_the_whole_service(tmp_path: Path) -> None:
    service = build(tmp_path, metrics_port=0)
    # A UDP socket: the API server cannot serve HTTP on it and fails to start.
    datagram = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    datagram.bind(("127.0.0.1", 0))
    listeners = Listeners(api=datagram, metrics=None)

    async def scenario() -> None:
        run = run_service(service, listeners, stop=asyncio.Event(), handle_signals=False)
        await asyncio.wait_for(run, timeout=20)

    try:
        with pytest.raises(LicenseServiceError, match=r"the API server on \S+ failed"):
            asyncio.run(scenario())
    finally:
        listeners.close()
        service.close()


def test_an_invalid_config_file_stops_the_start(tmp_path: Path) -> None:
    invalid = Path(__file__).parent.parent / "fixtures" / "config" / "ibmlicensing-invalid.yaml"

    with pytest.raises(LicenseServiceError, match="threadsPerCore"):
        build(tmp_path, config_file=invalid)
    assert not (tmp_path / "data").exists()


def test_https_turned_on_while_running_is_reported_until_the_next_start(tmp_path: Path) -> None:
    config = tmp_path / "ibmlicensing.yaml"
    document = "apiVersion: operator.ibm.com/v1alpha1\nkind: IBMLicensing\nspec:\n  httpsEnable: "
    config.write_text(document + "false\n")
    service = build(tmp_path, config_file=config)
    try:
        assert (service.scheme, service.state.health_warnings()) == ("http", [])
        assert isinstance(service.config, LicensingConfigWatcher)

        config.write_text(document + "true\n")
        assert service.config.check()

        assert service.scheme == "http"
        assert service.state.health_warnings() == [
            "spec.httpsEnable changed to true while running: it applies at the next start"
        ]
    finally:
        service.close()


URL_TOKENS = "apiVersion: operator.ibm.com/v1alpha1\nkind: IBMLicensing\nspec:\n  features:\n"
URL_TOKENS_OFF = URL_TOKENS + "    auth:\n      urlBasedEnabled: false\n"


def test_url_tokens_off_outside_kubernetes_stops_the_start_saying_why(tmp_path: Path) -> None:
    config = tmp_path / "ibmlicensing.yaml"
    config.write_text(URL_TOKENS_OFF)

    with pytest.raises(LicenseServiceError) as refused:
        build(tmp_path, config_file=config)

    message = str(refused.value)
    assert message.startswith(f"{config}: spec.features.auth.urlBasedEnabled: false")
    assert "only way in" in message
    assert "service-account tokens need the Kubernetes API" in message


def test_url_tokens_turned_off_outside_kubernetes_are_refused_and_the_token_keeps_working(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ibmlicensing.yaml"
    config.write_text(URL_TOKENS + "    hyperThreading:\n      threadsPerCore: 2\n")
    service = build(tmp_path, config_file=config)
    try:
        assert isinstance(service.config, LicensingConfigWatcher)

        config.write_text(URL_TOKENS_OFF)
        assert service.config.check() is False

        assert service.config.current().url_based_enabled is True
        assert service.config.current().metering.threads_per_core == 2
        (warning,) = service.state.health_warnings()
        assert warning.startswith("configuration not applied: ")
        assert "urlBasedEnabled: false" in warning
        assert "stays in force" in warning
    finally:
        service.close()
