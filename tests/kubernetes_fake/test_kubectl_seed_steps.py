"""The real kubectl against the fake: the seed document's own steps (token.yml, reading the
token, deleting the pod, editing the IBMLicensing resource) work as on a cluster.

kubectl runs with ``--validate=false`` because the fake serves no OpenAPI schema.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from .kubectl_runner import Kubectl
from .manifests import namespace_manifest, pod_manifest
from .server import FakeApiServer

SEED_MANIFESTS = Path(__file__).parent / "seed_manifests"
NAMESPACE = "ibm-common-services"
LICENSING = ("operator.ibm.com", "v1alpha1")


def _token_file(tmp_path: Path, token: str) -> Path:
    text = (SEED_MANIFESTS / "token.yml").read_text(encoding="utf-8")
    path = tmp_path / "token.yml"
    path.write_text(text.replace("<TOKEN>", token), encoding="utf-8")
    return path


def _stored_token(kubectl: Kubectl) -> str:
    printed = kubectl(
        "get", "secret", "ibm-licensing-token", "-n", NAMESPACE, "-o", "jsonpath={.data.token}"
    ).stdout
    return base64.b64decode(printed).decode()


def test_kubectl_apply_of_the_seed_token_file_creates_the_secret(
    fake_api: FakeApiServer, kubectl: Kubectl, tmp_path: Path
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))

    applied = kubectl("apply", "--validate=false", "-f", str(_token_file(tmp_path, "Tok3nA")))

    assert applied.stdout.strip() == "secret/ibm-licensing-token created"
    secret = fake_api.get("secrets", "ibm-licensing-token", namespace=NAMESPACE)
    assert secret is not None
    assert secret["data"] == {"token": base64.b64encode(b"Tok3nA").decode()}
    assert "stringData" not in secret
    assert secret["metadata"]["labels"]["release"] == "ibm-licensing-service"


def test_kubectl_reads_the_token_as_base64_with_jsonpath(
    fake_api: FakeApiServer, kubectl: Kubectl, tmp_path: Path
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    kubectl("apply", "--validate=false", "-f", str(_token_file(tmp_path, "Tok3nA")))

    assert _stored_token(kubectl) == "Tok3nA"


def test_kubectl_apply_of_a_new_token_updates_the_same_secret(
    fake_api: FakeApiServer, kubectl: Kubectl, tmp_path: Path
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    kubectl("apply", "--validate=false", "-f", str(_token_file(tmp_path, "Tok3nA")))
    before = fake_api.get("secrets", "ibm-licensing-token", namespace=NAMESPACE)

    applied = kubectl("apply", "--validate=false", "-f", str(_token_file(tmp_path, "Tok3nB")))

    after = fake_api.get("secrets", "ibm-licensing-token", namespace=NAMESPACE)
    assert before is not None
    assert after is not None
    assert applied.stdout.strip() == "secret/ibm-licensing-token configured"
    assert _stored_token(kubectl) == "Tok3nB"
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    last_applied = json.loads(
        after["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert last_applied["stringData"] == {"token": "Tok3nB"}


def test_kubectl_apply_of_an_unchanged_token_file_writes_nothing(
    fake_api: FakeApiServer, kubectl: Kubectl, tmp_path: Path
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    token_file = str(_token_file(tmp_path, "Tok3nA"))
    kubectl("apply", "--validate=false", "-f", token_file)
    version = fake_api.resource_version

    applied = kubectl("apply", "--validate=false", "-f", token_file)

    # As on a real cluster: kubectl always sends stringData (the server never returns it),
    # so it says "configured", but the server finds nothing to change and stores nothing.
    assert applied.stdout.strip() == "secret/ibm-licensing-token configured"
    assert fake_api.resource_version == version


def test_kubectl_server_side_apply_of_the_token_file_works_too(
    fake_api: FakeApiServer, kubectl: Kubectl, tmp_path: Path
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    kubectl("apply", "--server-side", "--validate=false", "-f", str(_token_file(tmp_path, "A1")))

    kubectl("apply", "--server-side", "--validate=false", "-f", str(_token_file(tmp_path, "B2")))

    assert _stored_token(kubectl) == "B2"


def test_kubectl_delete_pods_by_label_deletes_only_the_licensing_pods(
    fake_api: FakeApiServer, kubectl: Kubectl
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    fake_api.load(
        [
            pod_manifest(
                "ibm-licensing-service-instance-7d9f",
                namespace=NAMESPACE,
                labels={"app": "ibm-licensing-service-instance"},
            ),
            pod_manifest("operator-5c4b", namespace=NAMESPACE, labels={"app": "operator"}),
            pod_manifest(
                "same-label-other-namespace", labels={"app": "ibm-licensing-service-instance"}
            ),
        ]
    )

    deleted = kubectl("delete", "pods", "-l", "app=ibm-licensing-service-instance", "-n", NAMESPACE)

    assert deleted.stdout.strip() == 'pod "ibm-licensing-service-instance-7d9f" deleted'
    remaining = sorted(p["metadata"]["name"] for p in fake_api.objects("pods"))
    assert remaining == ["operator-5c4b", "same-label-other-namespace"]


def test_kubectl_get_lists_pods_by_label_across_namespaces(
    fake_api: FakeApiServer, kubectl: Kubectl
) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))
    fake_api.load(
        [
            pod_manifest("a", namespace=NAMESPACE, labels={"app": "x"}),
            pod_manifest("b", labels={"app": "x"}),
            pod_manifest("c", labels={"app": "y"}),
        ]
    )

    printed = kubectl("get", "pods", "-A", "-l", "app=x", "-o", "name").stdout

    assert printed.split() == ["pod/b", "pod/a"]


def test_kubectl_merge_patch_turns_url_tokens_off_in_the_ibmlicensing_resource(
    fake_api: FakeApiServer, kubectl: Kubectl
) -> None:
    kubectl("apply", "--validate=false", "-f", str(SEED_MANIFESTS / "ibmlicensing.yml"))

    patched = kubectl(
        "patch",
        "ibmlicensing",
        "instance",
        "--type",
        "merge",
        "-p",
        '{"spec":{"features":{"auth":{"urlBasedEnabled":false}}}}',
    )

    licensing = fake_api.get("ibmlicensings", "instance")
    assert licensing is not None
    assert patched.stdout.strip() == "ibmlicensing.operator.ibm.com/instance patched"
    assert licensing["spec"]["features"] == {"auth": {"urlBasedEnabled": False}}
    assert licensing["spec"]["datasource"] == "datacollector"
    assert licensing["metadata"]["generation"] == 2


def test_kubectl_apply_of_changed_ibmlicensing_files_adds_and_removes_the_feature(
    fake_api: FakeApiServer, kubectl: Kubectl
) -> None:
    kubectl("apply", "--validate=false", "-f", str(SEED_MANIFESTS / "ibmlicensing.yml"))

    kubectl(
        "apply", "--validate=false", "-f", str(SEED_MANIFESTS / "ibmlicensing-url-tokens-off.yml")
    )
    turned_off = fake_api.get("ibmlicensings", "instance")
    kubectl("apply", "--validate=false", "-f", str(SEED_MANIFESTS / "ibmlicensing.yml"))
    turned_on = fake_api.get("ibmlicensings", "instance")

    assert turned_off is not None
    assert turned_on is not None
    assert turned_off["spec"]["features"] == {"auth": {"urlBasedEnabled": False}}
    assert "features" not in turned_on["spec"]
    assert turned_on["metadata"]["generation"] == 3


def test_kubectl_edit_of_the_ibmlicensing_resource_is_stored(
    fake_api: FakeApiServer, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl("apply", "--validate=false", "-f", str(SEED_MANIFESTS / "ibmlicensing.yml"))
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "lines = path.read_text().splitlines()\n"
        "at = lines.index('spec:') + 1\n"
        "lines[at:at] = ['  features:', '    auth:', '      urlBasedEnabled: false']\n"
        "path.write_text('\\n'.join(lines) + '\\n')\n",
        encoding="utf-8",
    )

    edited = kubectl(
        "edit",
        "ibmlicensing",
        "instance",
        "--validate=false",
        environment={"KUBE_EDITOR": f"{sys.executable} {editor}"},
    )

    licensing = fake_api.get("ibmlicensings", "instance")
    assert licensing is not None
    assert edited.stdout.strip() == "ibmlicensing.operator.ibm.com/instance edited"
    assert licensing["spec"]["features"] == {"auth": {"urlBasedEnabled": False}}


def test_kubectl_reads_the_ibmlicensing_resource_as_json(
    fake_api: FakeApiServer, kubectl: Kubectl
) -> None:
    kubectl("apply", "--validate=false", "-f", str(SEED_MANIFESTS / "ibmlicensing.yml"))

    listed = json.loads(kubectl("get", "ibmlicensings", "-o", "json").stdout)

    assert [item["metadata"]["name"] for item in listed["items"]] == ["instance"]
    assert listed["items"][0]["kind"] == "IBMLicensing"
