"""One push over HTTP(S) to a Reporter (PUSH_FORMAT.md): ``POST {reporterURL}/v1/push``.

The standard library's client, so the service needs no HTTP client dependency. TLS is
verified against the Reporter's CA when ``validateReporterCerts`` is on; else an
``https`` Reporter's certificate is not checked (IBM's default), which the status says.
Every outcome is a ``PushAnswer``: a refused push is an answer, not an exception; only
a Reporter out of reach (connection refused, timeout, TLS failure) is ``unreachable``.
No message holds the token.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from datetime import date
from typing import Final
from urllib.parse import urlsplit

PUSH_PATH: Final = "/v1/push"
TIMEOUT_SECONDS: Final = 30.0
"""Per connect, send and read: a push in flight delays a stop at most about this long."""
_MAX_ANSWER: Final = 64 * 1024
# Long enough for the Reporter's longest refusal (a 409 names two fingerprints and the
# `reporter trust` command that fixes it); a bound against a page-sized body all the same.
_MAX_MESSAGE: Final = 600


@dataclass(frozen=True, slots=True)
class PushAnswer:
    """What came of a push: the HTTP status (0: no answer), and what the Reporter said.

    ``acknowledged_through`` and ``accepted`` come from a 200 answer; ``message`` says
    what went wrong otherwise (the Reporter's own message when it gave one).
    """

    status: int
    acknowledged_through: date | None = None
    accepted: int | None = None
    message: str = ""

    @property
    def succeeded(self) -> bool:
        """The Reporter stored the days."""
        return self.status == http.client.OK

    @property
    def retryable(self) -> bool:
        """Worth trying again soon: no answer, or a server error (5xx)."""
        return self.status == 0 or self.status >= http.client.INTERNAL_SERVER_ERROR


@dataclass(frozen=True, slots=True)
class ReporterConnection:
    """Where and how to reach the Reporter: its URL, token, and CA (``None``: not verified)."""

    url: str
    token: str
    ca_pem: bytes | None
    timeout: float = TIMEOUT_SECONDS

    def __repr__(self) -> str:
        # Never the token: reprs end up in logs and tracebacks.
        return f"ReporterConnection({self.url!r})"


def send_push(reporter: ReporterConnection, body: bytes) -> PushAnswer:
    """POST ``body`` to the Reporter's push endpoint and read its answer."""
    parts = urlsplit(reporter.url)
    path = parts.path.rstrip("/") + PUSH_PATH
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, parts.port, timeout=reporter.timeout, context=_tls_context(reporter.ca_pem)
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=reporter.timeout)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Authorization": f"Bearer {reporter.token}",
                "Content-Type": "application/json",
            },
        )
        response = connection.getresponse()
        answer = response.read(_MAX_ANSWER)
    except (OSError, http.client.HTTPException) as error:
        return PushAnswer(0, message=f"cannot reach the Reporter at {reporter.url}: {error}")
    finally:
        connection.close()
    return _answer(response.status, answer)


def _tls_context(ca_pem: bytes | None) -> ssl.SSLContext:
    if ca_pem is None:
        # validateReporterCerts off: encrypted, but the Reporter's identity is not checked.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cadata=ca_pem.decode("ascii", errors="replace"))


def _answer(status: int, body: bytes) -> PushAnswer:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if status == http.client.OK:
        understood = _acknowledgement(document)
        if understood is None:
            return PushAnswer(
                502, message=f"the Reporter's answer is not understood: {body[:200]!r}"
            )
        through, accepted = understood
        return PushAnswer(status, acknowledged_through=through, accepted=accepted)
    message = document.get("message") if isinstance(document, dict) else None
    if not isinstance(message, str):
        message = body[:_MAX_MESSAGE].decode("utf-8", errors="replace").strip()
    # The Reporter's words go to the log and the status page: one line, printable only.
    shown = "".join(c if c.isprintable() else " " for c in message[:_MAX_MESSAGE])
    return PushAnswer(status, message=f"the Reporter answered {status}: {shown}")


def _acknowledgement(document: object) -> tuple[date | None, int] | None:
    """``acknowledgedThrough`` and ``accepted`` of a 200 answer; ``None``: not understood.

    ``acknowledgedThrough`` is ``null`` while the Reporter holds no complete day of this
    cluster without a gap (a new or emptied Reporter): nothing is acknowledged, so the
    next push starts again from the initial days.
    """
    if not isinstance(document, dict) or "acknowledgedThrough" not in document:
        return None
    through, accepted = document["acknowledgedThrough"], document.get("accepted", 0)
    if not isinstance(accepted, int) or isinstance(accepted, bool):
        return None
    if through is None:
        return None, accepted
    if not isinstance(through, str):
        return None
    try:
        return date.fromisoformat(through), accepted
    except ValueError:
        return None
