"""Log lines: UTC timestamps, one format, and credentials rewritten to *** whatever the source."""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.log_configuration import (
    configure_logging,
    python_level,
    redact_secrets,
    redacting,
    set_level,
)
from license_service.tokens.file_source import TokenFile
from license_service.tokens.file_store import write_token_file

TOKEN = "Zq8aWm3pLx7Rt2Vb9Kc4Nd6F"
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /products?token={TOKEN}&dateFrom=x", "GET /products?token=***&dateFrom=x"),
        (f"GET /products?dateFrom=x&TOKEN={TOKEN}", "GET /products?dateFrom=x&TOKEN=***"),
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer ***"),
        (f"authorization: bearer {TOKEN}, next", "authorization: bearer ***, next"),
        ('WWW-Authenticate: Bearer realm="license-service"', None),
        ("already token=*** hidden", None),
        ("a token file is in /data/api-token", None),
        ("Refused credential=bearer client='127.0.0.1' path='/products'", None),
    ],
    ids=["query", "query-upper", "bearer", "bearer-lower", "realm", "redacted", "prose", "field"],
)
def test_credentials_are_redacted(line: str, expected: str | None) -> None:
    assert redact_secrets(line) == (line if expected is None else expected)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    output = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("INFO", stream=output)
    yield output
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_token_never_reaches_the_output_even_in_a_traceback(stream: io.StringIO) -> None:
    logger = logging.getLogger("license_service.test")
    try:
        raise ValueError(f"bad request /products?token={TOKEN}")
    except ValueError:
        logger.exception("Request failed: %s", f"Bearer {TOKEN}")

    text = stream.getvalue()
    assert TOKEN not in text
    assert "Request failed: Bearer ***" in text
    assert "ValueError: bad request /products?token=***" in text


def test_lines_carry_a_utc_timestamp_the_level_and_the_logger(stream: io.StringIO) -> None:
    logging.getLogger("license_service.sampling").warning("no sample")

    line = stream.getvalue().strip()
    assert line.endswith(" WARNING license_service.sampling: no sample")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line)


def test_the_level_can_change_while_running(stream: io.StringIO) -> None:
    logger = logging.getLogger("license_service.test")
    logger.debug("hidden")
    set_level("VERBOSE")
    logger.debug("shown")

    assert "hidden" not in stream.getvalue()
    assert "shown" in stream.getvalue()


def test_verbose_is_debug_and_unknown_levels_are_refused() -> None:
    assert python_level("verbose") == logging.DEBUG
    with pytest.raises(ConfigurationError, match="log level 'LOUD' is not known; use one of"):
        python_level("LOUD")


def test_library_chatter_is_hidden_unless_debugging(stream: io.StringIO) -> None:
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    set_level("DEBUG")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")

    text = stream.getvalue()
    assert "Context impl" not in text
    assert "Invalid HTTP request received." in text
    assert "Running upgrade" in text


def percent_encoded(text: str, *, every: int = 1, upper: bool = True) -> str:
    """``text`` with every ``every``-th character percent-encoded."""
    spelled = [
        (f"%{ord(char):02X}" if upper else f"%{ord(char):02x}") if index % every == 0 else char
        for index, char in enumerate(text)
    ]
    return "".join(spelled)


@pytest.mark.parametrize(
    "line",
    [
        f"GET /products?dateFrom={TOKEN}&dateTo=2026-11-01 400",
        f"GET /products?token%3D{TOKEN} 401",
        f"GET /products;token={TOKEN} 404",
        f"GET /{TOKEN} 404",
        f"GET /products?metricName={percent_encoded(TOKEN)} 200",
        f"GET /products?x={percent_encoded(TOKEN, every=3, upper=False)} 200",
        f"ValueError: no date in {TOKEN!r}",
    ],
    ids=["other-parameter", "encoded-equals", "path-parameter", "path", "encoded", "mixed", "repr"],
)
def test_the_token_in_force_is_hidden_wherever_and_however_it_is_written(line: str) -> None:
    redacted = redact_secrets(line, [TOKEN])
    assert TOKEN not in redacted
    assert percent_encoded(TOKEN) not in redacted
    assert "***" in redacted


def test_a_wrong_token_after_an_encoded_equals_is_hidden_too() -> None:
    assert (
        redact_secrets("GET /products?token%3Dwrong-guess 401") == "GET /products?token%3D*** 401"
    )


def test_short_values_are_not_searched_for() -> None:
    assert redact_secrets("GET /abc 404", ["abc"]) == "GET /abc 404"


def test_while_redacting_every_line_hides_the_secrets_in_force(stream: io.StringIO) -> None:
    tokens = [TOKEN]
    logger = logging.getLogger("license_service.test")
    with redacting(lambda: tokens):
        logger.warning("GET /products?dateFrom=%s 400", TOKEN)
        tokens[0] = "Rotated9Token8Value7Here"
        logger.warning("GET /%s 404", "Rotated9Token8Value7Here")
    logger.warning("GET /%s 404 after the service stopped", TOKEN)

    text = stream.getvalue()
    assert text.count(TOKEN) == 1  # only the line logged after the block
    assert "Rotated9Token8Value7Here" not in text
    assert "dateFrom=*** 400" in text


def test_a_token_file_logs_its_changes_without_waiting_on_itself(
    stream: io.StringIO, tmp_path: Path
) -> None:
    """The formatter asks the token source for its tokens: it must never log under its lock."""
    path = tmp_path / "api-token"
    write_token_file(path, TOKEN)
    tokens = TokenFile(
        path, generate_if_missing=False, grace_period=timedelta(minutes=5), clock=lambda: NOW
    )

    def rotate_twice() -> None:
        write_token_file(path, "Second1Token2Value3Here4")
        tokens.refresh()
        path.write_text("bad token with spaces")
        tokens.refresh()

    with redacting(lambda: tokens.current().tokens):
        worker = threading.Thread(target=rotate_twice, daemon=True)
        worker.start()
        worker.join(timeout=10)
    assert not worker.is_alive(), "logging a token change waited on the token source's lock"
    assert "changed" in stream.getvalue()
