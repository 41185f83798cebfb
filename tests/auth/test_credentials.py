"""Reading credentials from a request, and hiding tokens in logged query strings."""

from __future__ import annotations

import pytest

from license_service.auth.credentials import Credentials, credentials_from, redact_query


def test_the_url_token_comes_from_the_token_query_parameter() -> None:
    credentials = credentials_from({"token": "abc", "dateFrom": "2026-01-01"}, None)

    assert credentials == Credentials(url_token="abc", bearer=None)


def test_an_empty_url_token_is_kept_as_presented_not_taken_as_missing() -> None:
    credentials = credentials_from({"token": ""}, None)

    assert credentials.url_token == ""
    assert credentials.present


def test_no_token_and_no_header_present_nothing() -> None:
    assert not credentials_from({"Token": "abc"}, None).present


@pytest.mark.parametrize(
    "header",
    ["Bearer abc123", "bearer abc123", "BEARER abc123", "Bearer   abc123", " Bearer abc123 "],
)
def test_the_bearer_scheme_is_read_in_any_case(header: str) -> None:
    assert credentials_from({}, header).bearer == "abc123"


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Bearerabc123", "Basic dXNlcjpwYXNz", "Bearer abc 123", "abc123"],
)
def test_a_malformed_authorization_header_means_no_bearer_token(header: str) -> None:
    assert credentials_from({}, header).bearer is None


def test_both_credentials_can_be_present_at_once() -> None:
    credentials = credentials_from({"token": "url"}, "Bearer header")

    assert (credentials.url_token, credentials.bearer) == ("url", "header")


def test_the_repr_of_credentials_hides_the_values() -> None:
    shown = repr(Credentials(url_token="urlsecret", bearer="bearersecret"))

    assert "urlsecret" not in shown
    assert "bearersecret" not in shown


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("token=abc", "token=***"),
        (
            "dateFrom=2026-01-01&token=abc&dateTo=2026-01-31",
            "dateFrom=2026-01-01&token=***&dateTo=2026-01-31",
        ),
        ("token=a&token=b", "token=***&token=***"),
        ("%74oken=abc", "%74oken=***"),
        ("tok%65n=abc&x=1", "tok%65n=***&x=1"),
        ("TOKEN=abc", "TOKEN=***"),
        ("a=1;token=abc", "a=1;token=***"),
        ("token=abc%26def&b=2", "token=***&b=2"),
        ("token=", "token=***"),
        ("token=a=b", "token=***"),
        ("tokens=abc&mytoken=def", "tokens=abc&mytoken=def"),
        ("token", "token"),
        ("", ""),
        ("format=csv", "format=csv"),
    ],
)
def test_every_token_value_in_a_query_string_is_redacted(query: str, logged: str) -> None:
    assert redact_query(query) == logged
