"""Logging of the running service: one format, one level, and no secret in any line.

``configure_logging`` is called once, in the command's ``main``; it sends every
record (ours and uvicorn's) to standard error as
``2026-11-28T10:00:00Z INFO license_service.sampling.sampler: ...``. The level
comes from ``--log-level``, else ``spec.logLevel`` of the configuration
(``VERBOSE`` is Python's ``DEBUG``), else ``INFO``; a change of ``spec.logLevel``
applies while running unless the flag was given. Alembic and uvicorn's server
logger say only warnings and errors unless the level is ``DEBUG``.

Modules never log a token; as a second line of defence the formatter rewrites
``token=<value>`` and ``Bearer <value>`` in every formatted line, tracebacks
included, to ``***``.
"""

from __future__ import annotations

import logging
import re
import sys
import time
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
_SECRETS: Final = (
    re.compile(r"(?i)(\btoken=)(?!\*\*\*)[^&\s\"'<>#]+"),
    # Not a log field that follows the word (``credential=bearer client='...'``).
    re.compile(r"(?i)(\bbearer\s+)(?!\*\*\*|realm=|[a-z_]+=)[^\s\"',;<>]+"),
)


def redact_secrets(text: str) -> str:
    """``text`` with the values of ``token=`` and ``Bearer`` credentials replaced by ``***``."""
    for pattern in _SECRETS:
        text = pattern.sub(r"\1***", text)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter that writes UTC timestamps and hides credentials in the whole line."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time in UTC (the service's logs never use local time)."""
        return time.strftime(datefmt or DATE_FORMAT, time.gmtime(record.created))

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` (message, traceback and all), then redact it."""
        return redact_secrets(super().format(record))


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
