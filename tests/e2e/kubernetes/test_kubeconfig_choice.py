"""`serve` outside a pod without --kubeconfig finds a kubeconfig as kubectl does, and says which.

``$KUBECONFIG`` (a list of files, missing ones skipped, the first ``current-context``
winning), else ``~/.kube/config``. The first log line names the API server and the
context; ``kubectl`` with the same environment chooses the same context and server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.kubernetes.cluster import NAMESPACE, Cluster
from tests.e2e.processes import ServiceProcess, environment_outside_a_pod, start_service
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.kubectl_runner import Kubectl

pytestmark = pytest.mark.slow

DEAD_SERVER = "http://127.0.0.1:9"


def serve_with(cluster: Cluster, environment: dict[str, str]) -> ServiceProcess:
    """``serve --namespace NS`` (no --kubeconfig) in ``environment``; stopped after the test."""
    run_dir = cluster.directory / f"run-{len(cluster.started)}"
    run_dir.mkdir()
    service = start_service(
        run_dir,
        dumps=(),
        data_dir=cluster.directory / "data",
        extra=["--namespace", NAMESPACE],
        env=environment,
    )
    cluster.started.append(service)
    return service


def first_log_line(service: ServiceProcess) -> str:
    return service.log().splitlines()[0]


def two_kubeconfigs(cluster: Cluster, directory: Path) -> tuple[Path, Path]:
    """A first file that only chooses context ``licensing``, and a second that defines it
    (pointing at the fake) beside its own current context (pointing nowhere)."""
    chooser = directory / "chooser.yaml"
    chooser.write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "licensing"})
    )
    clusters = write_kubeconfig(directory / "clusters.yaml", DEAD_SERVER)
    document = yaml.safe_load(clusters.read_text())
    document["clusters"].append({"name": "licensing", "cluster": {"server": cluster.api.url}})
    document["users"].append({"name": "licensing", "user": {"token": "t"}})
    document["contexts"].append(
        {"name": "licensing", "context": {"cluster": "licensing", "user": "licensing"}}
    )
    clusters.write_text(yaml.safe_dump(document))
    return chooser, clusters


def test_kubeconfig_is_a_list_of_files_read_as_kubectl_reads_it(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    chooser, clusters = two_kubeconfigs(cluster, tmp_path)
    listed = f"{tmp_path / 'missing.yaml'}:{chooser}:{clusters}"
    environment = environment_outside_a_pod(tmp_path / "home", KUBECONFIG=listed)

    service = serve_with(cluster, environment)

    assert first_log_line(service).endswith(
        f"Connecting to the Kubernetes API at {cluster.api.url} with context licensing of "
        f"kubeconfig {chooser}:{clusters} ($KUBECONFIG)"
    )
    assert f"token get --context licensing --namespace {NAMESPACE}" in service.stdout()
    assert cluster.token() is not None  # the Secret was created on the fake: it was reached

    def kubectl_says(*arguments: str) -> str:
        # The real kubectl, with the same environment and no --kubeconfig.
        return kubectl.run_plain(*arguments, environment=environment).stdout.strip()

    assert kubectl_says("config", "current-context") == "licensing"
    assert (
        kubectl_says("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
        == cluster.api.url
    )


def test_without_kubeconfig_the_home_directorys_config_is_used(
    cluster: Cluster, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    default = write_kubeconfig(home / ".kube" / "config", cluster.api.url)

    service = serve_with(cluster, environment_outside_a_pod(home))

    assert first_log_line(service).endswith(
        f"Connecting to the Kubernetes API at {cluster.api.url} with context fake of "
        f"kubeconfig {default} (~/.kube/config)"
    )
    assert f"cluster {cluster.api.get('namespaces', 'kube-system')['metadata']['uid']}" in (
        service.stdout()
    )
