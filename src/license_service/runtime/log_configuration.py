"""Logging of the running service: one format, one level, and no secret in any line.

``configure_logging`` is called once, in the command's ``main``; it sends every
record (ours and uvicorn's) to standard error as
``2026-11-28T10:00:00Z INFO license_service.sampling.sampler: ...``. The level
comes from ``--log-level``, else ``spec.logLevel`` of the configuration
(``VERBOSE`` is Python's ``DEBUG``), else ``INFO``; a change of ``spec.logLevel``
applies while running unless the flag was given. Alembic and uvicorn's server
logger say only warnings and errors unless the level is ``DEBUG``.

Modules never log a token; as a second line of defence the formatter rewrites
``token=<value>`` (``token%3D<value>`` too) and ``Bearer <value>`` in every formatted
line, tracebacks included, to ``***``. While the service runs (``redacting``), it
also replaces the API tokens in force wherever they appear, spelled as they are or
with any character percent-encoded: a token pasted into another parameter
(``dateFrom=<token>``), into the path (``/products;token=<token>``) or after an encoded
``=`` never reaches the log either.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Final, TextIO

from license_service.errors import ConfigurationError

LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
LEVELS: Final = {
    "VERBOSE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}

# Their INFO lines (each migration step, each server's start-up) repeat what ours say.
_CHATTY_LOGGERS: Final = ("alembic", "uvicorn.error")
SecretSource = Callable[[], Iterable[str]]
"""Returns the secrets in force now; called for every line, so cheap, and never logging."""
REDACTED: Final = "***"
MIN_REDACTED_LENGTH: Final = 8
"""Shorter values are not searched for: they would mangle ordinary words (and no valid
token is that short)."""
_SECRETS: Final = (
    re.compile(r"(?i)(\btoken(?:=|%3d))(?!\*\*\*)[^&\s\"'<>#]+"),
    # Not a log field that follows the word (``credential=bearer client='...'``).
    re.compile(r"(?i)(\bbearer\s+)(?!\*\*\*|realm=|[a-z_]+=)[^\s\"',;<>]+"),
)


def redact_secrets(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with ``token=`` and ``Bearer`` values, and every ``known`` secret, as ``***``."""
    for pattern in _SECRETS:
        text = pattern.sub(r"\1***", text)
    for secret in known:
        if len(secret) >= MIN_REDACTED_LENGTH:
            text = _spellings(secret).sub(REDACTED, text)
    return text


@functools.lru_cache(maxsize=8)
def _spellings(secret: str) -> re.Pattern[str]:
    """``secret`` as written, or with any of its characters percent-encoded (either case)."""
    return re.compile(
        "".join(f"(?:{re.escape(char)}|%{ord(char):02X}|%{ord(char):02x})" for char in secret)
    )


def _no_secrets() -> tuple[str, ...]:
    return ()


class RedactingFormatter(logging.Formatter):
    """A formatter that writes UTC timestamps and hides credentials in the whole line.

    ``known_secrets`` gives the secrets to hide besides ``token=`` and ``Bearer``
    values (none unless ``redacting`` sets it).
    """

    known_secrets: SecretSource = staticmethod(_no_secrets)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time in UTC (the service's logs never use local time)."""
        return time.strftime(datefmt or DATE_FORMAT, time.gmtime(record.created))

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` (message, traceback and all), then redact it."""
        try:
            known = tuple(self.known_secrets())
        except Exception:  # a line is still written, with the rules above
            known = ()
        return redact_secrets(super().format(record), known)


@contextlib.contextmanager
def redacting(secrets: SecretSource) -> Iterator[None]:
    """While the block runs, the service's log lines hide the values ``secrets`` returns.

    ``secrets`` is called for every line, in the thread that logs: it must not block,
    and must not log while holding a lock it takes (the token sources log after
    releasing theirs).
    """
    formatters = [
        handler.formatter
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, RedactingFormatter)
    ]
    for formatter in formatters:
        formatter.known_secrets = secrets
    try:
        yield
    finally:
        for formatter in formatters:
            formatter.known_secrets = _no_secrets


def python_level(name: str) -> int:
    """The ``logging`` level of ``name``: VERBOSE, DEBUG, INFO, WARNING or ERROR."""
    try:
        return LEVELS[name.strip().upper()]
    except KeyError:
        raise ConfigurationError(
            f"log level {name!r} is not known; use one of {', '.join(LEVELS)}"
        ) from None


def configure_logging(level: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream`` (standard error); once per process.

    Returns the handler, so tests can remove it.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, DATE_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    set_level(level)
    return handler


def set_level(level: str) -> None:
    """Change the level of every log line; chatty libraries say only warnings unless DEBUG."""
    value = python_level(level)
    logging.getLogger().setLevel(value)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.NOTSET if value <= logging.DEBUG else max(value, logging.WARNING)
        )
