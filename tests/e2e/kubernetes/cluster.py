"""A fake cluster for end-to-end tests, and ``license-service serve`` processes measuring it."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from license_service.signing.secret_store import SIGNING_KEY_SECRET, signing_key_secret_manifest
from tests.e2e.processes import ServiceProcess, start_service
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.manifests import namespace_manifest, node_manifest
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "ibm-common-services"
TOKEN_SECRET = "ibm-licensing-token"
NODE = "worker-1"
PRODUCT_ID = "mq-advanced"
FOLLOW_LIMIT = 5.0  # SPEC 4.3: a new token is used within 5 seconds; config edits alike
SEED_MANIFESTS = Path(__file__).parents[2] / "kubernetes_fake" / "seed_manifests"
INVALID_TOKEN = "has a space in it 123456"


def token_file(directory: Path, token: str) -> str:
    """The seed's token.yml with ``token`` in it, written in ``directory``."""
    path = directory / "token.yml"
    path.write_text((SEED_MANIFESTS / "token.yml").read_text().replace("<TOKEN>", token))
    return str(path)


def licensed_pod(name: str, *, cpu: str) -> dict[str, Any]:
    """A running pod of IBM MQ Advanced with one container limited to ``cpu`` cores."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "mq",
            "annotations": {
                "productID": PRODUCT_ID,
                "productName": "IBM MQ Advanced",
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
            },
        },
        "spec": {
            "nodeName": NODE,
            "containers": [{"name": "qmgr", "image": "mq", "resources": {"limits": {"cpu": cpu}}}],
        },
        "status": {"phase": "Running"},
    }


@dataclass
class Cluster:
    """The fake API server, a kubeconfig for it, and the services started on it."""

    api: FakeApiServer
    kubeconfig: Path
    directory: Path
    started: list[ServiceProcess] = field(default_factory=list)

    @classmethod
    def prepare(cls, api: FakeApiServer, directory: Path, *, signing_key_pem: bytes) -> Cluster:
        """The seed's namespace, a 16-core worker, the ``mq`` namespace and a kept signing key."""
        api.create(namespace_manifest(NAMESPACE))
        api.create(namespace_manifest("mq"))
        api.create(node_manifest(NODE, cpu="16"))
        api.create(
            signing_key_secret_manifest(
                signing_key_pem, namespace=NAMESPACE, name=SIGNING_KEY_SECRET
            )
        )
        kubeconfig = write_kubeconfig(directory / "kubeconfig", api.url)
        return cls(api=api, kubeconfig=kubeconfig, directory=directory)

    def start(self, *extra: str) -> ServiceProcess:
        """Start ``license-service serve --kubeconfig ...`` (same data directory each time)."""
        run_dir = self.directory / f"run-{len(self.started)}"
        run_dir.mkdir()
        service = start_service(
            run_dir,
            dumps=(),
            data_dir=self.directory / "data",
            extra=["--kubeconfig", str(self.kubeconfig), "--namespace", NAMESPACE, *extra],
        )
        self.started.append(service)
        return service

    def stop_all(self) -> None:
        """Stop every service started."""
        for service in self.started:
            service.stop()

    def token(self) -> str | None:
        """The token in the Secret, as ``kubectl get secret ... | base64 -d`` prints it."""
        secret = self.api.get("secrets", TOKEN_SECRET, namespace=NAMESPACE)
        if secret is None:
            return None
        return base64.b64decode(secret["data"]["token"]).decode()


def status_of(service: ServiceProcess, path: str, *, token: str | None) -> int:
    """The HTTP status of ``GET <path>?token=<token>``."""
    params = {"token": token} if token is not None else {}
    return httpx.get(f"{service.url}{path}", params=params, timeout=10).status_code


_CHANGING_LABELS = frozenset({"value", "date"})


def metric_values(service: ServiceProcess) -> dict[str, float]:
    """Every sample of ``/metrics``, keyed ``name{label=value,...}`` (labels sorted).

    IBM's ``value`` and ``date`` labels (SPEC 13) change with the figure and the day, so
    the key leaves them out: a product's series keeps one key while its usage moves.
    """
    text = httpx.get(service.metrics_url, timeout=10).text
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(
                f"{key}={value}"
                for key, value in sorted(sample.labels.items())
                if key not in _CHANGING_LABELS
            )
            values[f"{sample.name}{{{labels}}}"] = sample.value
    return values


def usage_now(service: ServiceProcess) -> float:
    """The product's usage in the latest sample (0 when it is not running)."""
    key = (
        "product_license_usage{metricId=VIRTUAL_PROCESSOR_CORE,"
        f"productId={PRODUCT_ID},productName=IBM MQ Advanced}}"
    )
    return metric_values(service).get(key, 0.0)
