"""The IBMLicensing document becomes a LicensingConfig, or every problem is reported (SPEC 6)."""

from __future__ import annotations

from typing import Any

import pytest

from license_service.configuration.ibmlicensing import (
    LicensingConfig,
    oldest_ibmlicensing,
    parse_ibmlicensing,
)
from license_service.errors import ConfigurationError
from license_service.metering.settings import MeteringSettings


def document(spec: Any = None, **top_level: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "apiVersion": "operator.ibm.com/v1alpha1",
        "kind": "IBMLicensing",
        "metadata": {"name": "instance"},
    }
    if spec is not None:
        result["spec"] = spec
    result.update(top_level)
    return result


def problems_of(doc: object) -> str:
    with pytest.raises(ConfigurationError) as raised:
        parse_ibmlicensing(doc)
    return str(raised.value)


def test_a_document_without_spec_gives_the_documented_defaults() -> None:
    config = parse_ibmlicensing(document())

    assert config == LicensingConfig(
        api_secret_token="ibm-licensing-token",
        url_based_enabled=True,
        kube_rbac_auth_enabled=True,
        metering=MeteringSettings(threads_per_core=1, node_cpu_capping=True),
        https_enable=False,
        https_certs_source="self-signed",
        instance_namespace=None,
        log_level="INFO",
        chargeback_enabled=False,
        chargeback_retention_period=62,
        sender=None,
    )
    assert config.warnings == ()


def test_every_honoured_field_is_read() -> None:
    config = parse_ibmlicensing(
        document(
            {
                "apiSecretToken": "my-api-token",
                "httpsEnable": True,
                "httpsCertsSource": "custom",
                "instanceNamespace": "ibm-licensing",
                "logLevel": "DEBUG",
                "chargebackEnabled": True,
                "chargebackRetentionPeriod": 90,
                "sender": {"reporterURL": "https://reporter.example.com", "clusterName": "prod"},
                "features": {
                    "auth": {"urlBasedEnabled": False},
                    "kubeRBACAuthEnabled": False,
                    "hyperThreading": {"threadsPerCore": 4},
                    "nodeCpuCappingEnabled": False,
                },
            }
        )
    )

    assert config.api_secret_token == "my-api-token"
    assert config.https_enable is True
    assert config.https_certs_source == "custom"
    assert config.instance_namespace == "ibm-licensing"
    assert config.log_level == "DEBUG"
    assert config.chargeback_enabled is True
    assert config.chargeback_retention_period == 90
    assert config.sender == {"reporterURL": "https://reporter.example.com", "clusterName": "prod"}
    assert config.url_based_enabled is False
    assert config.kube_rbac_auth_enabled is False
    assert config.metering == MeteringSettings(threads_per_core=4, node_cpu_capping=False)
    assert config.warnings == ()


@pytest.mark.parametrize("threads", [1, 2, 4, 8])
def test_threads_per_core_becomes_the_metering_setting(threads: int) -> None:
    config = parse_ibmlicensing(
        document({"features": {"hyperThreading": {"threadsPerCore": threads}}})
    )

    assert config.metering.threads_per_core == threads


def test_removing_url_based_enabled_turns_url_tokens_back_on() -> None:
    off = parse_ibmlicensing(document({"features": {"auth": {"urlBasedEnabled": False}}}))
    removed = parse_ibmlicensing(document({"features": {"auth": {}}}))

    assert off.url_based_enabled is False
    assert removed.url_based_enabled is True


@pytest.mark.parametrize(
    "spec",
    [
        {"features": {"nodeCpuCappingEnabled": False}},
        {"nodeCpuCappingEnabled": False},
        {"nodeCpuCappingEnabled": False, "features": {"nodeCpuCappingEnabled": False}},
    ],
    ids=["spec-place", "operator-place", "both-agreeing"],
)
def test_node_cpu_capping_is_read_where_the_spec_or_the_operator_puts_it(
    spec: dict[str, Any],
) -> None:
    config = parse_ibmlicensing(document(spec))

    assert config.metering.node_cpu_capping is False
    assert config.warnings == ()


def test_capping_fields_that_disagree_are_refused() -> None:
    message = problems_of(
        document({"nodeCpuCappingEnabled": True, "features": {"nodeCpuCappingEnabled": False}})
    )

    assert "spec.features.nodeCpuCappingEnabled (false)" in message
    assert "spec.nodeCpuCappingEnabled (true)" in message


def test_unknown_fields_are_ignored_with_one_warning_listing_their_paths() -> None:
    config = parse_ibmlicensing(
        document(
            {
                "colour": "blue",
                "versions": "4.2.10",
                "features": {
                    "alerts": {"enabled": True},
                    "hyperThreading": {"threadsPerCore": 2, "mode": "smt"},
                },
            },
            status={"state": "Running"},
            extra="x",
        )
    )

    assert config.metering.threads_per_core == 2
    assert config.warnings == (
        "IBMLicensing 'instance': ignored 5 unknown fields: extra, spec.colour, "
        "spec.versions, spec.features.alerts, spec.features.hyperThreading.mode",
    )


# A resource as IBM's operator writes it: fields of IBM's CRD that this service does not use.
IBM_OPERATOR_SPEC: Any = {
    "datasource": "datacollector",
    "version": "4.2.10",
    "license": {"accept": True},
    "httpsEnable": True,
    "httpsCertsSource": "self-signed",
    "instanceNamespace": "ibm-licensing",
    "imagePullPolicy": "IfNotPresent",
    "imagePullSecrets": ["ibm-entitlement-key"],
    "resources": {"limits": {"cpu": "500m", "memory": "850Mi"}, "requests": {"cpu": "200m"}},
    "routeEnabled": True,
    "routeOptions": {"tls": {"termination": "reencrypt"}},
    "labels": {"team": "finance"},
    "envVariable": {"SOME_FLAG": "true"},
    "features": {
        "alerting": {"enabled": False},
        "auth": {"urlBasedEnabled": True},
        "hyperThreading": {"threadsPerCore": 2},
        "prometheusQuerySource": {"enabled": True},
        "nssEnabled": False,
    },
    "sender": {"reporterURL": "https://reporter.example.com", "clusterName": "prod"},
    "gatewayEnabled": True,
}


def test_a_resource_as_ibms_operator_writes_it_draws_no_warning() -> None:
    config = parse_ibmlicensing(document(IBM_OPERATOR_SPEC, status={"state": "Running"}))

    assert config.warnings == ()
    assert config.metering.threads_per_core == 2
    assert config.instance_namespace == "ibm-licensing"


def test_fields_of_ibms_crd_this_service_does_not_use_are_noted_once_as_not_applicable() -> None:
    config = parse_ibmlicensing(document(IBM_OPERATOR_SPEC))

    assert config.notes == (
        "IBMLicensing 'instance': 14 fields of IBM's IBMLicensing CRD that License Service "
        "does not use, ignored as not applicable: spec.datasource, spec.version, "
        "spec.license, spec.imagePullPolicy, spec.imagePullSecrets, spec.resources, "
        "spec.routeEnabled, spec.routeOptions, spec.labels, spec.envVariable, "
        "spec.features.alerting, spec.features.prometheusQuerySource, spec.features.nssEnabled, "
        "spec.gatewayEnabled",
    )


def test_a_typo_inside_a_section_of_ibms_crd_is_still_unknown() -> None:
    config = parse_ibmlicensing(
        document(
            {
                "license": {"accept": True, "acept": True},
                "features": {"auth": {"urlBaseEnabled": False}},
            }
        )
    )

    assert config.url_based_enabled is True
    assert config.warnings == (
        "IBMLicensing 'instance': ignored 2 unknown fields: spec.license.acept, "
        "spec.features.auth.urlBaseEnabled",
    )
    assert config.notes == (
        "IBMLicensing 'instance': 1 field of IBM's IBMLicensing CRD that License Service "
        "does not use, ignored as not applicable: spec.license",
    )


def test_every_field_of_ibms_crd_that_the_spec_names_is_honoured() -> None:
    config = parse_ibmlicensing(document(IBM_OPERATOR_SPEC))

    assert "spec.features.hyperThreading" not in " ".join(config.notes)
    assert "spec.httpsEnable" not in " ".join(config.notes)
    assert "spec.sender" not in " ".join(config.notes)


def test_every_invalid_value_is_reported_at_once_with_path_value_and_allowed_values() -> None:
    message = problems_of(
        document(
            {
                "httpsEnable": "no",
                "httpsCertsSource": "ocp",
                "logLevel": "info",
                "apiSecretToken": "My Token",
                "instanceNamespace": "Bad_Namespace",
                "chargebackRetentionPeriod": 0,
                "sender": "reporter",
                "features": {
                    "hyperThreading": {"threadsPerCore": 3},
                    "kubeRBACAuthEnabled": 1,
                },
            }
        )
    )

    assert message.startswith("IBMLicensing 'instance' is invalid (9 problems): ")
    for expected in (
        "spec.httpsEnable: 'no' (a string) is not a boolean; allowed values: true, false",
        "spec.httpsCertsSource: 'ocp' (a string) is not allowed; "
        "allowed values: self-signed, custom",
        "spec.logLevel: 'info' (a string) is not allowed; allowed values: DEBUG, INFO, VERBOSE",
        "spec.apiSecretToken: 'My Token' (a string) is not allowed; allowed values: a Secret name",
        "spec.instanceNamespace: 'Bad_Namespace' (a string) is not allowed; "
        "allowed values: a namespace name",
        "spec.chargebackRetentionPeriod: 0 is not allowed; allowed values: a whole number above 0",
        "spec.sender: 'reporter' (a string) is not a mapping",
        "spec.features.hyperThreading.threadsPerCore: 3 is not allowed; allowed values: 1, 2, 4, 8",
        "spec.features.kubeRBACAuthEnabled: 1 is not a boolean",
    ):
        assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize("value", ["no", "false", "True", 0, 1.0])
def test_a_boolean_must_be_a_yaml_boolean(value: object) -> None:
    message = problems_of(document({"features": {"auth": {"urlBasedEnabled": value}}}))

    assert f"spec.features.auth.urlBasedEnabled: {value!r}" in message
    assert "allowed values: true, false" in message


@pytest.mark.parametrize("value", ["2", 2.0, True])
def test_threads_per_core_must_be_the_number_itself(value: object) -> None:
    message = problems_of(document({"features": {"hyperThreading": {"threadsPerCore": value}}}))

    assert "spec.features.hyperThreading.threadsPerCore" in message
    assert "allowed values: 1, 2, 4, 8" in message


def test_a_section_that_is_not_a_mapping_is_refused() -> None:
    message = problems_of(document({"features": ["auth"]}))

    assert "spec.features: a list ['auth'] is not a mapping" in message


def test_null_values_mean_not_set() -> None:
    config = parse_ibmlicensing(
        document(
            {
                "features": {"hyperThreading": {"threadsPerCore": None}, "auth": None},
                "logLevel": None,
            }
        )
    )

    assert config == LicensingConfig()


def test_a_document_of_another_kind_is_refused_without_judging_its_spec() -> None:
    message = problems_of(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "spec": {"a": "b"}}
    )

    assert message == (
        "IBMLicensing 'x' is invalid (2 problems): kind: 'Secret' (a string) is not allowed; "
        "allowed values: IBMLicensing; apiVersion: 'v1' (a string) is not allowed; "
        "allowed values: operator.ibm.com/v1alpha1"
    )


def test_a_wrong_api_version_is_reported_with_the_spec_problems() -> None:
    message = problems_of(document({"logLevel": "TRACE"}, apiVersion="operator.ibm.com/v1"))

    assert "(2 problems)" in message
    assert "apiVersion: 'operator.ibm.com/v1' (a string) is not allowed" in message
    assert "spec.logLevel: 'TRACE'" in message


def test_a_document_without_kind_is_refused() -> None:
    message = problems_of({"spec": {}})

    assert "kind: missing is not allowed; allowed values: IBMLicensing" in message


@pytest.mark.parametrize("value", [["IBMLicensing"], "IBMLicensing", None])
def test_a_document_that_is_not_a_mapping_is_refused(value: object) -> None:
    message = problems_of(value)

    assert "not an IBMLicensing document" in message


def test_sender_is_kept_raw_and_read_only_and_an_unknown_field_is_warned() -> None:
    sender = {"reporterURL": "https://reporter.example.com", "futureField": [1, 2]}

    config = parse_ibmlicensing(document({"sender": sender}))
    sender["reporterURL"] = "changed"

    assert config.sender is not None
    assert config.sender["reporterURL"] == "https://reporter.example.com"
    assert config.sender["futureField"] == [1, 2]
    with pytest.raises(TypeError):
        config.sender["reporterURL"] = "x"  # type: ignore[index]
    assert config.warnings == (
        "IBMLicensing 'instance': ignored 1 unknown field: spec.sender.futureField",
    )


def test_warnings_do_not_make_two_configurations_differ() -> None:
    plain = parse_ibmlicensing(document({"logLevel": "VERBOSE"}))
    with_unknown = parse_ibmlicensing(document({"logLevel": "VERBOSE", "colour": "x"}))

    assert plain == with_unknown
    assert with_unknown.warnings != ()


def test_the_oldest_document_wins_then_the_first_name() -> None:
    newer = document(metadata={"name": "a", "creationTimestamp": "2026-11-02T00:00:00Z"})
    oldest_b = document(metadata={"name": "b", "creationTimestamp": "2026-11-01T00:00:00Z"})
    oldest_c = document(metadata={"name": "c", "creationTimestamp": "2026-11-01T00:00:00Z"})
    undated = document(metadata={"name": "0"})

    assert oldest_ibmlicensing([newer, oldest_c, undated, oldest_b]) is oldest_b
