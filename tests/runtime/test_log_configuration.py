"""Log lines: UTC timestamps, one format, and credentials rewritten to *** whatever the source."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.log_configuration import (
    configure_logging,
    python_level,
    redact_secrets,
    set_level,
)

TOKEN = "Zq8aWm3pLx7Rt2Vb9Kc4Nd6F"


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
