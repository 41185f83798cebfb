"""The sender on a live cluster, run in-process (SPEC 11): ``spec.sender`` of the IBMLicensing
resource names the Reporter and the cluster; the token comes from the Secret
``ibm-license-service-reporter-token`` read through the real client from the fake API
server; the first sample starts the first push."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from license_service.runtime.kubernetes_start import connect_kubernetes
from license_service.runtime.options import KubernetesOptions, ServeOptions
from license_service.runtime.service import run_service
from license_service.runtime.wiring import ClusterChoice, Service, assemble
from license_service.signing.keys import SigningKey
from license_service.signing.secret_store import SIGNING_KEY_SECRET, signing_key_secret_manifest
from tests.cluster.kubernetes.watched_objects import FAST_OPTIONS
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.manifests import (
    ibm_licensing_manifest,
    namespace_manifest,
    token_secret_manifest,
)
from tests.kubernetes_fake.server import FakeApiServer
from tests.reporting.fake_reporter import TOKEN as REPORTER_TOKEN
from tests.reporting.fake_reporter import FakeReporter, running_reporter
from tests.runtime.test_kubernetes_service import NAMESPACE, TOKEN, free_listeners


def reporter_token_secret() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "ibm-license-service-reporter-token", "namespace": NAMESPACE},
        "data": {"token": base64.b64encode(REPORTER_TOKEN.encode()).decode()},
    }


def build(api: FakeApiServer, tmp_path: Path, reporter: FakeReporter) -> Service:
    api.create(namespace_manifest(NAMESPACE))
    api.create(reporter_token_secret())
    pem = SigningKey.generate().private_pem()
    api.create(signing_key_secret_manifest(pem, namespace=NAMESPACE, name=SIGNING_KEY_SECRET))
    api.create(token_secret_manifest(TOKEN))
    api.create(
        ibm_licensing_manifest(
            spec={"sender": {"reporterURL": reporter.url, "clusterName": "Production EU"}}
        )
    )
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


def test_the_service_pushes_with_the_secrets_token_as_spec_sender_names_it(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    with running_reporter() as reporter:
        service = build(fake_api, tmp_path, reporter)
        listeners = free_listeners()

        async def scenario() -> None:
            stop = asyncio.Event()
            running = asyncio.create_task(
                run_service(service, listeners, stop=stop, handle_signals=False)
            )
            for _ in range(400):
                if reporter.pushes:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(running, timeout=20)

        try:
            asyncio.run(scenario())
        finally:
            listeners.close()
            service.close()

    [push] = reporter.pushes
    assert push.status == 200
    assert push.cluster is not None
    assert push.cluster.cluster_name == "Production EU"
    assert push.cluster.cluster_id == service.cluster.cluster_id
    assert len(push.dates) == 31
