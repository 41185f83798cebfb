"""The service on a live cluster, run in-process: wired to the Secret, the resource, /metrics."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client

from license_service.errors import LicenseServiceError
from license_service.runtime.kubernetes_backends import KubernetesBackends
from license_service.runtime.kubernetes_start import connect_kubernetes
from license_service.runtime.listeners import Listeners, bind_listeners
from license_service.runtime.options import KubernetesOptions, ServeOptions
from license_service.runtime.service import run_service
from license_service.runtime.wiring import ClusterChoice, Service, assemble
from license_service.signing.keys import SigningKey
from license_service.signing.secret_store import SIGNING_KEY_SECRET, signing_key_secret_manifest
from tests.cluster.kubernetes.watched_objects import FAST_OPTIONS
from tests.e2e.processes import free_port
from tests.kubernetes_fake.client_setup import api_client, write_kubeconfig
from tests.kubernetes_fake.manifests import (
    ibm_licensing_manifest,
    namespace_manifest,
    token_secret_manifest,
)
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "ibm-common-services"
TOKEN = "Zq7mW2xK9pL4vR8tYb3N"


def free_listeners() -> Listeners:
    return bind_listeners("127.0.0.1", port=free_port(), metrics_port=free_port())


def build(api: FakeApiServer, tmp_path: Path, *, objects: Sequence[dict[str, Any]] = ()) -> Service:
    api.create(namespace_manifest(NAMESPACE))
    for obj in objects:
        api.create(obj)
    pem = SigningKey.generate().private_pem()
    api.create(signing_key_secret_manifest(pem, namespace=NAMESPACE, name=SIGNING_KEY_SECRET))
    api.create(token_secret_manifest(TOKEN))
    api.create(ibm_licensing_manifest(spec={"features": {"kubeRBACAuthEnabled": True}}))
    options = ServeOptions(
        host="127.0.0.1",
        data_dir=tmp_path / "data",
        sample_interval=timedelta(seconds=1),
        log_level="INFO",
        kubernetes=KubernetesOptions(
            kubeconfig=write_kubeconfig(tmp_path / "kubeconfig", api.url), watch=FAST_OPTIONS
        ),
    )
    parts = connect_kubernetes(options, clock=lambda: datetime.now(UTC))
    try:
        return assemble(
            options,
            cluster=ClusterChoice(parts.source, parts.cluster_id, "test cluster"),
            backends=parts,
        )
    except BaseException:
        parts.close()
        raise


def watch_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("license-service-watch")}


def test_the_service_answers_with_the_secrets_token_and_reports_the_kubernetes_source(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    before = watch_threads()
    service = build(fake_api, tmp_path)
    listeners = free_listeners()
    assert listeners.metrics is not None
    api = f"http://127.0.0.1:{listeners.api.getsockname()[1]}"
    metrics = f"http://127.0.0.1:{listeners.metrics.getsockname()[1]}/metrics"

    async def scenario() -> tuple[Any, int, str]:
        stop = asyncio.Event()
        running = asyncio.create_task(
            run_service(service, listeners, stop=stop, handle_signals=False)
        )
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(200):
                try:
                    health = await client.get(f"{api}/health", params={"token": TOKEN})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            refused = await client.get(f"{api}/health", params={"token": "Wrong1Token2Value3Abcd"})
            scraped = (await client.get(metrics)).text
        stop.set()
        await asyncio.wait_for(running, timeout=20)
        return health.json(), refused.status_code, scraped

    try:
        health, refused, scraped = asyncio.run(scenario())
    finally:
        listeners.close()
        service.close()

    assert health["collector"]["source"] == "kubernetes"
    assert health["collector"]["synced"] is True
    assert health["collector"]["lastError"] is None
    assert refused == 401
    # Two token Secrets followed: the API token and the upload token (SPEC 10).
    assert 'license_service_kubernetes_list_calls_total{resource="secrets"} 2.0' in scraped
    assert 'license_service_kubernetes_watch_calls_total{resource="pods"}' in scraped
    assert service.token_place == f"Secret {NAMESPACE}/ibm-licensing-token"
    assert not (tmp_path / "data" / "api-token").exists()
    assert not (tmp_path / "data" / "signing-key.pem").exists()
    assert watch_threads() <= before


def test_a_watch_that_stops_running_stops_the_whole_service(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    service = build(fake_api, tmp_path)
    backends = service.backends
    assert isinstance(backends, KubernetesBackends)
    listeners = free_listeners()

    async def scenario() -> None:
        running = run_service(service, listeners, stop=asyncio.Event(), handle_signals=False)
        backends.source.stop()
        await asyncio.wait_for(running, timeout=20)

    try:
        with pytest.raises(LicenseServiceError, match="the Kubernetes collector stopped running"):
            asyncio.run(scenario())
    finally:
        listeners.close()
        service.close()


def entitlements_configmap(text: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "license-service-entitlements", "namespace": NAMESPACE},
        "data": {"entitlements.yaml": text},
    }


def test_the_entitlements_configmap_is_followed_and_a_refusal_shows_on_health(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    bought = "- {name: MQ, productId: mq, metricName: VIRTUAL_PROCESSOR_CORE, quantity: 8}\n"
    service = build(fake_api, tmp_path, objects=[entitlements_configmap(bought)])
    listeners = free_listeners()
    api = f"http://127.0.0.1:{listeners.api.getsockname()[1]}"

    async def scenario() -> tuple[Any, Any, Any]:
        stop = asyncio.Event()
        running = asyncio.create_task(
            run_service(service, listeners, stop=stop, handle_signals=False)
        )
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(200):
                try:
                    before = await client.get(f"{api}/compliance", params={"token": TOKEN})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            await asyncio.to_thread(_replace_configmap, fake_api)
            for _ in range(200):
                health = (await client.get(f"{api}/health", params={"token": TOKEN})).json()
                if any("entitlements not applied" in w for w in health["warnings"]):
                    break
                await asyncio.sleep(0.05)
            after = await client.get(f"{api}/compliance", params={"token": TOKEN})
        stop.set()
        await asyncio.wait_for(running, timeout=20)
        return before.json(), health, after.json()

    try:
        before, health, after = asyncio.run(scenario())
    finally:
        listeners.close()
        service.close()

    assert [(row["id"], row["entitled"], row["status"]) for row in before] == [("mq", 8, "OK")]
    [warning] = [w for w in health["warnings"] if "entitlements not applied" in w]
    assert "entitlements[0].metricName is missing: add it" in warning
    assert "stay in force" in warning
    assert after == before


def _replace_configmap(api: FakeApiServer) -> None:
    with api_client(api.url) as kube:
        client.CoreV1Api(kube).replace_namespaced_config_map(
            "license-service-entitlements",
            NAMESPACE,
            entitlements_configmap("- {name: MQ, productId: mq, quantity: 8}\n"),
        )
