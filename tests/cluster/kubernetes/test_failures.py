"""Errors become a metric label and a one-line message without secrets."""

from __future__ import annotations

import json

import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.failures import (
    ResourceExpired,
    StreamFailure,
    describe_failure,
)


def api_error(status: int, message: str) -> ApiException:
    """A client error carrying a Kubernetes Status body."""
    error = ApiException(status=status, reason="Reason")
    error.body = json.dumps({"kind": "Status", "code": status, "message": message})
    return error


def test_an_error_answer_is_labelled_by_its_status_with_the_servers_message() -> None:
    failure = describe_failure(api_error(500, "etcd is sad"), action="list pods")

    assert failure.kind == "http_500"
    assert failure.message == "list pods: HTTP 500: etcd is sad"


def test_a_forbidden_answer_says_which_permissions_are_needed() -> None:
    failure = describe_failure(api_error(403, "pods is forbidden"), action="list pods")

    assert failure.kind == "http_403"
    assert "list and watch on pods, nodes and namespaces" in failure.message


def test_a_refused_connection_is_a_connect_error_without_object_addresses() -> None:
    cause = urllib3.exceptions.NewConnectionError(
        object(), "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    error = urllib3.exceptions.MaxRetryError(None, "/api/v1/pods", cause)

    failure = describe_failure(error, action="watch pods")

    assert failure.kind == "connect"
    assert "Connection refused" in failure.message
    assert " object at 0x" not in failure.message


def test_a_cut_stream_is_a_dropped_error() -> None:
    failure = describe_failure(
        urllib3.exceptions.ProtocolError("Response ended prematurely"), action="watch nodes"
    )

    assert failure == failure.__class__(
        "dropped", "watch nodes: the connection broke: Response ended prematurely"
    )


def test_stream_failures_and_expiry_keep_their_kinds() -> None:
    assert describe_failure(StreamFailure("bad line", kind="decode"), action="x").kind == "decode"
    assert describe_failure(ResourceExpired("too old"), action="x").kind == "http_410"
    assert describe_failure(ValueError("Expecting value"), action="x").kind == "decode"


def test_messages_are_one_line_and_bounded() -> None:
    failure = describe_failure(api_error(500, "line one\nline two " + "x" * 1000), action="a")

    assert "\n" not in failure.message
    assert len(failure.message) <= 300


def test_the_servers_words_are_cut_to_fit_and_the_advice_is_kept_whole() -> None:
    failure = describe_failure(api_error(403, "forbidden " * 100), action="list pods")

    assert len(failure.message) <= 300
    assert failure.message.endswith(
        "…; the service account needs get, list and watch on pods, nodes and namespaces "
        "(the ClusterRole ibm-licensing-service-instance)"
    )


def test_a_forbidden_answer_names_what_the_resource_at_hand_needs() -> None:
    resource = describe_failure(
        api_error(403, "forbidden"), action="list IBMLicensing resources", resource="ibmlicensings"
    )
    secret = describe_failure(api_error(403, "forbidden"), action="watch s", resource="secrets")

    assert resource.message.endswith(
        "the service account needs get, list and watch on ibmlicensings.operator.ibm.com "
        "(the ClusterRole ibm-licensing-service-instance)"
    )
    assert "pods" not in resource.message
    assert "create and update on secrets in the service's namespace" in secret.message
