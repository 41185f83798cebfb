"""The chart is the source of deploy/manifests/, and the renderer keeps to Go template rules."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.chart import (
    CHART,
    MANIFESTS,
    NAMESPACE,
    SERVICE_NAME,
    container_of,
    find,
    manifest_objects,
    of_kind,
    rendered_objects,
    renderer,
)

TemplateError = renderer.TemplateError
render = renderer.render_template

CONTEXT = {
    "Values": {
        "on": True,
        "off": False,
        "empty": {},
        "port": 8080,
        "name": "instance",
        "labels": {"b": "2", "a": "1"},
        "args": ["--log-level", "DEBUG"],
        "nested": {"deeper": {"value": "x"}},
    },
    "Release": {"Name": "release", "Namespace": "ns", "Service": "Helm"},
    "Chart": {"Name": "license-service", "Version": "0.1.0", "AppVersion": "0.1.0"},
}


# --- deploy/manifests/ is the chart, rendered -------------------------------------------


def test_committed_manifests_are_exactly_what_the_chart_renders() -> None:
    expected = renderer.manifest_files(CHART)
    on_disk = renderer.generated_files_on_disk(MANIFESTS)
    assert sorted(on_disk) == sorted(expected), "run `make manifests`"
    for file_name, text in expected.items():
        assert on_disk[file_name] == text, f"deploy/manifests/{file_name} is stale: make manifests"


def test_every_file_in_the_manifests_directory_is_generated() -> None:
    every_file = {
        path.relative_to(MANIFESTS).as_posix() for path in MANIFESTS.rglob("*") if path.is_file()
    }
    assert every_file == set(renderer.generated_files_on_disk(MANIFESTS))


def test_write_manifests_removes_generated_files_the_chart_no_longer_renders(tmp_path) -> None:
    (tmp_path / "99-leftover.yaml").write_text(f"{renderer.GENERATED_MARK} long ago\n")
    (tmp_path / "notes.md").write_text("a file of the user's\n")
    renderer.write_manifests(tmp_path, CHART)
    assert not (tmp_path / "99-leftover.yaml").exists()
    assert (tmp_path / "notes.md").read_text() == "a file of the user's\n"
    assert renderer.generated_files_on_disk(tmp_path) == renderer.manifest_files(CHART)


def test_files_are_numbered_in_helms_install_order_so_kubectl_applies_them_in_it() -> None:
    kinds_in_file_order = [obj["kind"] for obj in manifest_objects()]
    positions = [renderer.INSTALL_ORDER.index(kind) for kind in kinds_in_file_order]
    assert positions == sorted(positions)
    # The reader's token Secret needs its ServiceAccount first (the token controller
    # deletes a token Secret whose account does not exist).
    assert kinds_in_file_order.index("ServiceAccount") < kinds_in_file_order.index("Secret")


def test_the_kustomization_lists_every_top_level_manifest_and_no_example() -> None:
    kustomization = yaml.safe_load((MANIFESTS / renderer.KUSTOMIZATION_FILE).read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["resources"] == sorted(path.name for path in MANIFESTS.glob("*.yaml"))


def test_the_plain_manifests_create_the_namespace_but_the_chart_leaves_it_to_helm() -> None:
    assert find(manifest_objects(), "Namespace", NAMESPACE)
    assert of_kind(rendered_objects(), "Namespace") == []


def test_the_example_ibmlicensing_is_what_the_chart_creates_when_asked() -> None:
    assert of_kind(rendered_objects(), "IBMLicensing") == []
    (created,) = of_kind(rendered_objects(["ibmlicensing.create=true"]), "IBMLicensing")
    (example,) = of_kind(manifest_objects(with_examples=True), "IBMLicensing")
    assert created == example
    assert of_kind(manifest_objects(), "IBMLicensing") == []


def test_another_namespace_reaches_every_namespaced_object_and_binding() -> None:
    objects = rendered_objects(["namespace.create=true"], namespace="licensing")
    assert NAMESPACE not in yaml.safe_dump_all(objects)
    for obj in objects:
        if obj["kind"] in {"Namespace", "CustomResourceDefinition", "ClusterRole"}:
            assert "namespace" not in obj["metadata"]
        elif obj["kind"] != "ClusterRoleBinding":
            assert obj["metadata"]["namespace"] == "licensing", obj["kind"]
        for subject in obj.get("subjects", []):
            assert subject["namespace"] == "licensing"
    assert find(objects, "Namespace", "licensing")


def test_postgresql_replaces_the_claim_by_a_url_read_from_a_secret() -> None:
    objects = rendered_objects(["postgresql.enabled=true", "postgresql.existingSecret=db"])
    assert of_kind(objects, "PersistentVolumeClaim") == []
    container = container_of(objects)
    arguments = container["args"]
    assert arguments[arguments.index("--database-url") + 1] == "$(DATABASE_URL)"
    (database_url,) = [env for env in container["env"] if env["name"] == "DATABASE_URL"]
    assert database_url["valueFrom"]["secretKeyRef"] == {"name": "db", "key": "url"}
    deployment = find(objects, "Deployment", SERVICE_NAME)
    volumes = {
        volume["name"]: volume for volume in deployment["spec"]["template"]["spec"]["volumes"]
    }
    assert volumes["data"] == {"name": "data", "emptyDir": {}}


def test_sqlite_keeps_its_data_on_a_claim_that_helm_uninstall_leaves_in_place() -> None:
    objects = rendered_objects()
    claim = find(objects, "PersistentVolumeClaim", "ibm-licensing-service-data")
    assert claim["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert "--database-url" not in container_of(objects)["args"]
    deployment = find(objects, "Deployment", SERVICE_NAME)
    (data,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "data"]
    assert data["persistentVolumeClaim"] == {"claimName": "ibm-licensing-service-data"}


def test_a_storage_class_is_written_only_when_one_is_given() -> None:
    default = find(rendered_objects(), "PersistentVolumeClaim", "ibm-licensing-service-data")
    assert "storageClassName" not in default["spec"]
    chosen = find(
        rendered_objects(["persistence.storageClassName=fast"]),
        "PersistentVolumeClaim",
        "ibm-licensing-service-data",
    )
    assert chosen["spec"]["storageClassName"] == "fast"


def test_turning_metrics_off_removes_the_port_and_service_and_passes_port_zero() -> None:
    objects = rendered_objects(["metrics.enabled=false"])
    container = container_of(objects)
    arguments = container["args"]
    assert arguments[arguments.index("--metrics-port") + 1] == "0"
    assert [port["name"] for port in container["ports"]] == ["api-port"]
    assert [service["metadata"]["name"] for service in of_kind(objects, "Service")] == [
        SERVICE_NAME
    ]


def test_extra_arguments_are_appended_to_the_serve_command() -> None:
    container = container_of(rendered_objects(["extraArgs=[--log-level, DEBUG]"]))
    assert container["args"][-2:] == ["--log-level", "DEBUG"]


def test_without_the_reader_no_reader_object_is_rendered() -> None:
    objects = rendered_objects(["reader.create=false"])
    assert all(obj["metadata"]["name"] != "ibm-licensing-default-reader" for obj in objects)
    assert of_kind(objects, "Secret") == []


def test_the_install_notes_render_and_tell_how_to_read_the_token() -> None:
    notes = renderer.render_notes(CHART, namespace="licensing")
    assert (
        "kubectl get secret ibm-licensing-token -n licensing -o jsonpath='{.data.token}' "
        "| base64 -d" in notes
    )
    assert "ibm-licensing-default-reader-token" in notes
    assert "ibm-licensing-default-reader-token" not in renderer.render_notes(
        CHART, overrides=["reader.create=false"]
    )


def test_the_command_line_refuses_a_missing_value_with_exit_code_2(capsys) -> None:
    assert renderer.main(["--set", "image=null"]) == 2
    assert ".Values.image.repository is not set" in capsys.readouterr().err


# --- the template subset: Go's text/template rules --------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("a: {{ .Values.name }}", "a: instance", id="a value"),
        pytest.param("{{ .Release.Namespace }}/{{ .Chart.AppVersion }}", "ns/0.1.0", id="builtins"),
        pytest.param("p: {{ .Values.port }}", "p: 8080", id="a number"),
        pytest.param("v: {{ .Values.port | quote }}", 'v: "8080"', id="quote"),
        pytest.param("v: {{ .Values.on }}", "v: true", id="a boolean as Go prints it"),
        pytest.param("v: {{ .Values.nested.deeper.value }}", "v: x", id="a nested value"),
        pytest.param("a\n  {{- .Values.name }}", "ainstance", id="left trim eats newlines"),
        pytest.param("{{ .Values.name -}}  \n  b", "instanceb", id="right trim"),
        pytest.param("a {{/* a comment */}}b", "a b", id="a comment prints nothing"),
        pytest.param("a\n{{- /* gone */}}\nb", "a\nb", id="a trimmed comment"),
        pytest.param('x: {"a":{"b":1}}', 'x: {"a":{"b":1}}', id="a lone }} is text"),
        pytest.param(
            "l:\n  {{- toYaml .Values.labels | nindent 2 }}",
            "l:\n  a: '1'\n  b: '2'",
            id="toYaml sorts keys and nindent indents",
        ),
        pytest.param(
            "args:\n  {{- toYaml .Values.args | nindent 2 }}",
            "args:\n  - --log-level\n  - DEBUG",
            id="a list",
        ),
        pytest.param("e: {{ toYaml .Values.empty }}", "e: {}", id="an empty mapping"),
        pytest.param(
            "{{ toYaml .Values.labels | indent 4 }}", "    a: '1'\n    b: '2'", id="indent"
        ),
    ],
)
def test_outputs_render_as_go_templates_do(template: str, expected: str) -> None:
    assert render(template, CONTEXT) == expected


@pytest.mark.parametrize(
    ("condition", "branch"),
    [
        pytest.param(".Values.on", "yes", id="true"),
        pytest.param(".Values.off", "no", id="false"),
        pytest.param(".Values.empty", "no", id="an empty mapping is false"),
        pytest.param(".Values.args", "yes", id="a list with items is true"),
        pytest.param("not .Values.off", "yes", id="not"),
        pytest.param("not .Values.name", "no", id="not of a string"),
    ],
)
def test_if_chooses_its_branch_by_go_truth(condition: str, branch: str) -> None:
    template = f"{{{{- if {condition} }}}}\nyes\n{{{{- else }}}}\nno\n{{{{- end }}}}"
    assert render(template, CONTEXT) == f"\n{branch}"


def test_else_if_takes_the_first_true_branch() -> None:
    template = (
        "{{ if .Values.off }}a{{ else if .Values.on }}b{{ else if .Values.on }}c"
        "{{ else }}d{{ end }}"
    )
    assert render(template, CONTEXT) == "b"


def test_nested_ifs_render_only_when_both_hold() -> None:
    template = "{{ if .Values.on }}{{ if .Values.off }}x{{ else }}y{{ end }}{{ end }}z"
    assert render(template, CONTEXT) == "yz"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        pytest.param("{{ .Values.missing }}", ".Values.missing is not set", id="missing value"),
        pytest.param("{{ .Values.labels }}", "use `toYaml", id="a mapping printed"),
        pytest.param("{{ if .Values.on }}x", "has no {{ end }}", id="unclosed if"),
        pytest.param("x{{ end }}", "without an if", id="stray end"),
        pytest.param("{{ range .Values.args }}{{ end }}", "outside the subset", id="range"),
        pytest.param('{{ include "x" . }}', "outside the subset", id="include"),
        pytest.param("{{ .Values.name | upper }}", "not a supported function", id="upper"),
        pytest.param("{{ nindent 2 }}", "takes 2 argument(s), got 1", id="arity"),
        pytest.param("a\n{{ .Values.name", "never closed", id="unclosed action"),
        pytest.param("{{ if .Values.on }}{{ else }}{{ else }}{{ end }}", "a second", id="2 elses"),
    ],
)
def test_constructs_outside_the_subset_are_errors_naming_the_line(
    template: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=r"t\.yaml:\d+") as raised:
        render(template, CONTEXT, name="t.yaml")
    assert message in str(raised.value)


def test_a_set_override_is_read_as_yaml_and_creates_missing_sections() -> None:
    values: dict[str, object] = {"a": {"b": 1}}
    renderer.apply_override(values, "a.c=true")
    renderer.apply_override(values, "x.y=[1, 2]")
    renderer.apply_override(values, "a.b=2")
    assert values == {"a": {"b": 2, "c": True}, "x": {"y": [1, 2]}}
