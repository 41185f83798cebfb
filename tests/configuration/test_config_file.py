"""An IBMLicensing YAML file (--config) is read strictly; errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from license_service.configuration.config_file import load_licensing_file, parse_licensing_yaml
from license_service.errors import ConfigurationError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config"


def test_a_resource_saved_by_kubectl_is_read_and_its_operator_fields_reported() -> None:
    config = load_licensing_file(FIXTURES / "ibmlicensing-threads-2.yaml")

    assert config.metering.threads_per_core == 2
    assert config.url_based_enabled is False
    assert config.https_enable is True
    # Fields of IBM's CRD for IBM's operator: not applicable here, and no warning.
    assert config.warnings == ()
    assert config.notes == (
        "IBMLicensing 'instance': 2 fields of IBM's IBMLicensing CRD that License Service "
        "does not use, ignored as not applicable: spec.datasource, spec.version",
    )


def test_an_unquoted_no_is_refused_rather_than_read_as_false() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_licensing_file(FIXTURES / "ibmlicensing-invalid.yaml")

    message = str(raised.value)
    assert message.startswith(f"{FIXTURES / 'ibmlicensing-invalid.yaml'}: IBMLicensing 'instance'")
    assert "spec.features.auth.urlBasedEnabled: 'no' (a string) is not a boolean" in message
    assert "spec.features.hyperThreading.threadsPerCore: 3 is not allowed" in message


def test_invalid_yaml_names_the_file_line_and_column() -> None:
    text = "apiVersion: operator.ibm.com/v1alpha1\nkind: IBMLicensing\nspec:\n  features: [\n"

    with pytest.raises(ConfigurationError) as raised:
        parse_licensing_yaml(text, source="licensing.yaml")

    assert str(raised.value).startswith("licensing.yaml: not valid YAML: line 5, column 1:")
    assert "\n" not in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(ConfigurationError, match=r"nowhere\.yaml: configuration file not found"):
        load_licensing_file(missing)


def test_a_directory_is_not_a_configuration_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the configuration file"):
        load_licensing_file(tmp_path)


def test_a_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "licensing.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x81kind")

    with pytest.raises(ConfigurationError, match="not UTF-8 text"):
        load_licensing_file(binary)


@pytest.mark.parametrize("text", ["", "# nothing here\n", "---\n...\n"])
def test_a_file_without_a_document_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"licensing\.yaml: the file holds no document"):
        parse_licensing_yaml(text, source="licensing.yaml")


def test_a_saved_list_of_resources_uses_the_oldest() -> None:
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: operator.ibm.com/v1alpha1
  kind: IBMLicensing
  metadata: {name: newer, creationTimestamp: "2026-11-02T00:00:00Z"}
  spec: {logLevel: DEBUG}
- apiVersion: operator.ibm.com/v1alpha1
  kind: IBMLicensing
  metadata: {name: instance, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec: {logLevel: VERBOSE}
"""
    assert parse_licensing_yaml(text, source="list.yaml").log_level == "VERBOSE"


def test_the_ibmlicensing_document_is_found_among_other_documents() -> None:
    text = """\
apiVersion: v1
kind: Secret
metadata: {name: ibm-licensing-token}
---
apiVersion: operator.ibm.com/v1alpha1
kind: IBMLicensing
metadata: {name: instance}
spec: {features: {hyperThreading: {threadsPerCore: 8}}}
"""
    assert parse_licensing_yaml(text, source="all.yaml").metering.threads_per_core == 8


def test_several_documents_without_ibmlicensing_are_refused() -> None:
    text = "kind: Secret\n---\nkind: ConfigMap\n"

    with pytest.raises(ConfigurationError, match="none of the 2 documents is of kind IBMLicensing"):
        parse_licensing_yaml(text, source="other.yaml")


def test_one_document_of_another_kind_is_refused_naming_its_kind() -> None:
    with pytest.raises(ConfigurationError, match="kind: 'Secret' \\(a string\\) is not allowed"):
        parse_licensing_yaml("apiVersion: v1\nkind: Secret\n", source="secret.yaml")
