"""What went wrong talking to the API server, as a metric label and a message without secrets.

Exceptions of the client, of urllib3 and of JSON decoding are sorted into the error
kinds of ``counters``. The message names the request (``watch pods``), the HTTP status
and the server's own message, never a header or a token, and fits on one line: it is
what ``/health`` and the sampler's gap records show as ``last_error``. An answer the
decoder cannot read (``InputError``: not a list page, not a watch event) is ``decode``.

``FailureStreak`` is the one rule for logging a retry loop's failures: a streak once
as a warning, its retries at INFO. A 410 is routine (history compacted: the loop lists
again) and never opens a streak; a failure of the list after it does. A failure that
is a defect of ours (``unexpected``) is logged as an error with its traceback every time.
An expected condition (a Secret the service may not create, a namespace that is not
there) is never logged with a traceback: its message says what to do.

The server's own words in a message (a Status message, a connection error) are cut so
the message keeps to ``MAX_MESSAGE`` characters: a huge answer cannot flood a log line.
Our words, which say what to do, are never cut.

Three exceptions steer the watch loop and never leave this package::

    ClusterError
    +-- ResourceExpired   410 Gone (at watch start, as an ERROR event, for a continue
    |                     token): the resourceVersion is compacted away; re-list
    +-- StreamFailure     an answer the loop cannot use (a line that is not JSON, an
                          ERROR event other than 410): reconnect with backoff
    CallbackFailure       a sink's reaction to a change failed: list again after a delay
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Final

import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from license_service.errors import ClusterError, InputError

GONE: Final = 410
MAX_MESSAGE: Final = 300
"""The length a message keeps to by cutting the server's words in it (ours are kept whole)."""
_MIN_DETAIL: Final = 80
_OBJECT_REPR: Final = re.compile(r"<[^<>]* object at 0x[0-9a-f]+>:?\s*")
_SERVICE_ROLE: Final = "ClusterRole ibm-licensing-service-instance"
_RBAC_HINTS: Final = {
    "ibmlicensings": f"get, list and watch on ibmlicensings.operator.ibm.com (the {_SERVICE_ROLE})",
    "secrets": "get, list, watch, create and update on secrets in the service's namespace "
    "(its Role)",
    "leases": "get, create and update on the Lease license-service-leader in the service's "
    "namespace (its Role)",
}
_COLLECTOR_HINT: Final = f"get, list and watch on pods, nodes and namespaces (the {_SERVICE_ROLE})"


class ResourceExpired(ClusterError):
    """The server answered 410 Gone: the resourceVersion or continue token is too old."""


class StreamFailure(ClusterError):
    """An answer the loop cannot use; ``kind`` is its error kind (``decode``, ``http_500``)."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class CallbackFailure(Exception):
    """A sink's reaction to a change failed; the loop lists again after a delay to retry it.

    ``kind`` is the error kind of its cause (``http_403`` for a Secret the service may
    not create). ``logged`` says whether it was logged already (with its traceback,
    where a defect happened); an expected one is logged by the loop, once per streak.
    """

    def __init__(self, message: str, *, kind: str = "unexpected", logged: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.logged = logged


@dataclass(frozen=True, slots=True)
class Failure:
    """An error kind for the counters and a one-line message for ``last_error``."""

    kind: str
    message: str


def describe_failure(error: BaseException, *, action: str, resource: str | None = None) -> Failure:
    """Sort ``error`` (raised while doing ``action``, e.g. ``list pods``) into a ``Failure``.

    ``resource`` (``pods``, ``secrets``, ``ibmlicensings``...) names what a 401 or 403
    says the service account needs (default: the collector's resources).
    """
    if isinstance(error, StreamFailure | CallbackFailure):
        return Failure(error.kind, _one_line(f"{action}: {error}"))
    if isinstance(error, ResourceExpired):
        return Failure(f"http_{GONE}", _one_line(f"{action}: {error}"))
    if isinstance(error, InputError):
        return Failure("decode", _one_line(f"{action}: {error}"))
    if isinstance(error, ApiException):
        return _api_failure(error, action=action, resource=resource)
    if isinstance(error, urllib3.exceptions.MaxRetryError):
        cause = error.reason if error.reason is not None else error
        if isinstance(
            cause, urllib3.exceptions.ReadTimeoutError | urllib3.exceptions.ProtocolError
        ):
            return Failure("dropped", _fitted(f"{action}: the connection broke: ", _text(cause)))
        return Failure("connect", _fitted(f"{action}: cannot reach the API server: ", _text(cause)))
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return Failure("connect", _fitted(f"{action}: cannot reach the API server: ", _text(error)))
    if isinstance(error, urllib3.exceptions.HTTPError | OSError):
        return Failure("dropped", _fitted(f"{action}: the connection broke: ", _text(error)))
    if isinstance(error, ValueError):  # json.JSONDecodeError, UnicodeDecodeError
        return Failure("decode", _fitted(f"{action}: the answer is not valid JSON: ", str(error)))
    return Failure("unexpected", _fitted(f"{action}: {type(error).__name__}: ", str(error)))


def error_event_failure(status: object) -> ResourceExpired | StreamFailure:
    """What a watch ERROR event carrying ``status`` (a Kubernetes ``Status``) means for the loop."""
    code = status.get("code") if isinstance(status, dict) else None
    message = status_message(status)
    if code == GONE:
        return ResourceExpired(f"the server expired the watch (410): {message}")
    kind = f"http_{code}" if isinstance(code, int) else "decode"
    return StreamFailure(f"the server ended the watch with an error: {message}", kind=kind)


def status_code(error: ApiException) -> int:
    """The HTTP status of a client error (0 when there was no answer, e.g. a TLS failure)."""
    return int(error.status or 0)


def status_message(document: object) -> str:
    """The message of a Kubernetes ``Status`` document, or its JSON when it has none."""
    if isinstance(document, dict):
        message = document.get("message")
        if isinstance(message, str) and message:
            return _cut(message)
        reason = document.get("reason")
        if isinstance(reason, str) and reason:
            return _cut(reason)
    return _cut(json.dumps(document))


def _api_failure(error: ApiException, *, action: str, resource: str | None) -> Failure:
    status = status_code(error)
    if status == 0:
        return Failure(
            "connect", _fitted(f"{action}: cannot reach the API server: ", str(error.reason))
        )
    detail = _body_message(error.body) or str(error.reason or "")
    needed = _RBAC_HINTS.get(resource or "", _COLLECTOR_HINT)
    hint = f"; the service account needs {needed}" if status in (401, 403) else ""
    return Failure(f"http_{status}", _fitted(f"{action}: HTTP {status}: ", detail, hint))


def _body_message(body: object) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str) or not body:
        return ""
    try:
        return status_message(json.loads(body))
    except ValueError:
        return body.strip().splitlines()[0] if body.strip() else ""


def _text(error: BaseException) -> str:
    # urllib3 puts the connection object's repr in front of the useful part.
    return _OBJECT_REPR.sub("", str(error)) or type(error).__name__


def _fitted(ours: str, detail: str, after: str = "") -> str:
    """``ours + detail + after`` on one line, the detail (the server's or a library's words)
    cut so that the whole fits in ``MAX_MESSAGE`` characters when it can; our words, which
    say what to do, are never cut."""
    budget = max(_MIN_DETAIL, MAX_MESSAGE - len(ours) - len(after))
    return ours + _cut(detail, budget) + after


def _cut(detail: str, limit: int = MAX_MESSAGE) -> str:
    """``detail`` on one line, at most ``limit`` characters (cut ones end with an ellipsis)."""
    single_line = _one_line(detail)
    if len(single_line) <= limit:
        return single_line
    return single_line[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


class FailureStreak:
    """The logging state of one retry loop; ``end()`` when the loop makes progress."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._warned = False

    def log(self, error: BaseException, failure: Failure) -> None:
        """Log ``failure`` (what ``error`` was) as the rule above says."""
        if failure.kind == "unexpected":
            self._logger.error("%s; retrying", failure.message, exc_info=error)
            return
        first = not self._warned and not isinstance(error, ResourceExpired)
        self._warned = self._warned or first
        self._logger.log(
            logging.WARNING if first else logging.INFO, "%s; retrying", failure.message
        )

    def end(self) -> None:
        """The loop made progress: the next failure opens a new streak."""
        self._warned = False
