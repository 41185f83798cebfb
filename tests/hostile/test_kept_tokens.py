"""The server uses only a token ``token set`` would write, and every such token fits in a URL.

Before (issue 11.7), a one-character token written into the token file by hand was
used (``/health`` OK, ``?token=x`` let in), while ``token set`` accepted tokens of
9,000 or 200,000 characters that every request then refused (414, or 401 past the
8 KiB credential bound). Now one set of rules holds for both, the length included
(16 to 1,024 characters, or 8 to 15 with ``token set --force``, which the server
therefore uses): the server fails closed on any other token and says why and how to
fix it, and a request carrying the longest valid token with every other
parameter at its longest passes the request limits.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.cli.app import build_app
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.tokens.file_source import TokenFile
from license_service.tokens.rules import MAX_LENGTH, MIN_FORCED_LENGTH, MIN_LENGTH
from license_service.web.app_state import AppState
from license_service.web.application import create_app
from license_service.web.middleware.request_limits import MAX_QUERY_BYTES
from license_service.web.probes.service_routes import current_health
from tests.hostile.conftest import NOW, ServiceSettings, build_state

PERIOD = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}
LONGEST = ("Ab9-_.~" * MAX_LENGTH)[:MAX_LENGTH]
"""A valid token of the greatest length, of characters that need no percent-encoding."""


def hand_written(
    token_text: str,
    database: Database,
    signing_key: SigningKey,
    tmp_path: Path,
    settings: ServiceSettings,
) -> AppState:
    """The service whose token file holds ``token_text``, as written by hand."""
    path = tmp_path / "hand-written-token"
    path.write_text(f"{token_text}\n")
    path.chmod(0o600)
    authenticator = ApiTokenAuthenticator(
        TokenFile(path, generate_if_missing=False, grace_period=timedelta(0), clock=lambda: NOW),
        url_based_enabled=lambda: True,
        limiter=FailedAttemptLimiter(),
        clock=lambda: NOW,
    )
    state = build_state(database, signing_key, tmp_path, settings)
    return dataclasses.replace(state, authenticator=authenticator)


def serving(*args: Any) -> TestClient:
    """A client of the API of ``hand_written(*args)``."""
    return TestClient(create_app(hand_written(*args)))


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("x", "the token has 1 characters; at least 16 are required"),
        ("x" * (MIN_FORCED_LENGTH - 1), "the token has 7 characters; at least 16 are required"),
        ("x" * (MAX_LENGTH + 1), "the token has 1025 characters; at most 1024 are allowed"),
        ("x" * 9_000, "the token has 9000 characters; at most 1024 are allowed"),
        ("x" * 200_000, "the token has 200000 characters; at most 1024 are allowed"),
        ("abcdefghij;klmnopqrstu", "character ';' at position 11 of 22 is not allowed"),
    ],
    ids=["1", "7", "1025", "9000", "200000", "semicolon"],
)
def test_a_hand_written_token_token_set_refuses_is_not_used_and_health_says_why(
    database: Database,
    signing_key: SigningKey,
    tmp_path: Path,
    service_settings: ServiceSettings,
    token: str,
    problem: str,
) -> None:
    with serving(token, database, signing_key, tmp_path, service_settings) as client:
        refused = client.get("/products", params={**PERIOD, "token": token[:8_000]})
        health = client.get("/health", params={"token": token[:8_000]})
    set_by_command = CliRunner().invoke(
        build_app(),
        ["token", "set", "-", "--token-file", str(tmp_path / "set-token")],
        input=f"{token}\n",
    )
    forced_by_command = CliRunner().invoke(
        build_app(),
        ["token", "set", "-", "--force", "--token-file", str(tmp_path / "set-token")],
        input=f"{token}\n",
    )

    assert refused.status_code == 401
    assert "configured on the server is invalid" in refused.json()["message"]
    assert health.status_code == 401
    assert set_by_command.exit_code == 2
    assert problem in set_by_command.stderr
    assert forced_by_command.exit_code == 2
    assert not (tmp_path / "set-token").exists()


def test_a_forced_15_character_token_written_by_hand_is_used(
    database: Database,
    signing_key: SigningKey,
    tmp_path: Path,
    service_settings: ServiceSettings,
) -> None:
    # SPEC 4.3: `token set --force` writes 8 to 15 characters, so the server uses them.
    token = ("Ab9" * MIN_LENGTH)[: MIN_LENGTH - 1]

    with serving(token, database, signing_key, tmp_path, service_settings) as client:
        answer = client.get("/products", params={**PERIOD, "token": token})
        wrong = client.get("/products", params={**PERIOD, "token": token[:-1]})
    refused_by_command = CliRunner().invoke(
        build_app(), ["token", "set", token, "--token-file", str(tmp_path / "set-token")]
    )
    forced_by_command = CliRunner().invoke(
        build_app(), ["token", "set", token, "--force", "--token-file", str(tmp_path / "forced")]
    )

    assert answer.status_code == 200, answer.text
    assert wrong.status_code == 401
    assert refused_by_command.exit_code == 2
    assert "or --force accepts 8 to 15" in refused_by_command.stderr
    assert forced_by_command.exit_code == 0, forced_by_command.output


def test_the_reason_says_how_to_fix_it_and_health_shows_it(
    database: Database,
    signing_key: SigningKey,
    tmp_path: Path,
    service_settings: ServiceSettings,
) -> None:
    state = hand_written("x", database, signing_key, tmp_path, service_settings)

    reason = state.authenticator.problem()
    health = current_health(state)

    assert reason is not None
    assert "the token has 1 characters; at least 16 are required" in reason
    assert "license-service token set --token-file" in reason
    assert "license-service token generate --token-file" in reason
    assert health["status"] == "DEGRADED"
    assert any(reason in warning for warning in health["warnings"])


def test_the_longest_token_travels_with_every_other_parameter_at_its_longest(
    database: Database,
    signing_key: SigningKey,
    tmp_path: Path,
    service_settings: ServiceSettings,
) -> None:
    query = urlencode({**PERIOD, "metricName": "é" * 1_024, "format": "csv", "token": LONGEST})

    with serving(LONGEST, database, signing_key, tmp_path, service_settings) as client:
        answer = client.get(f"/products?{query}")

    assert len(query.encode()) <= MAX_QUERY_BYTES
    assert answer.status_code == 200, answer.text
    set_by_command = CliRunner().invoke(
        build_app(), ["token", "set", LONGEST, "--token-file", str(tmp_path / "set-token")]
    )
    assert set_by_command.exit_code == 0, set_by_command.output
