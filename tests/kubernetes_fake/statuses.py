"""Failures as the Kubernetes API reports them: an HTTP code and a ``Status`` object.

Handlers raise ``ApiError``; the request handler turns it into the response once. The bodies
follow the real server's ``metav1.Status`` (kind, apiVersion, status, message, reason,
details, code), because clients (kubectl, the Python client) read ``reason`` and ``code``.
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

FAILURE_REASONS = {
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
"""The ``reason`` upstream gives the failure codes a test injects."""


class ApiError(Exception):
    """A request failed the way the real API server would fail it."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: JsonObject | None = None,
        metadata: JsonObject | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.metadata = metadata

    def status(self) -> JsonObject:
        """The ``Status`` body the real server sends with this failure."""
        return failure_status(
            code=self.code,
            reason=self.reason,
            message=self.message,
            details=self.details,
            metadata=self.metadata,
        )


def failure_status(
    *,
    code: int,
    reason: str,
    message: str,
    details: JsonObject | None = None,
    metadata: JsonObject | None = None,
) -> JsonObject:
    """A ``Status`` object with ``status: Failure``."""
    body: JsonObject = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": metadata or {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def not_found(plural: str, name: str, *, group: str = "") -> ApiError:
    """404: the named object does not exist (``details.kind`` is the plural, as upstream)."""
    qualified = plural if not group else f"{plural}.{group}"
    details: JsonObject = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return ApiError(404, "NotFound", f'{qualified} "{name}" not found', details=details)


def already_exists(plural: str, name: str, *, group: str = "") -> ApiError:
    """409: create of a name that is taken."""
    qualified = plural if not group else f"{plural}.{group}"
    details: JsonObject = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return ApiError(409, "AlreadyExists", f'{qualified} "{name}" already exists', details=details)


def conflict(plural: str, name: str, *, group: str = "", why: str | None = None) -> ApiError:
    """409: the write was based on a stale resourceVersion (optimistic concurrency)."""
    qualified = plural if not group else f"{plural}.{group}"
    reason_text = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    details: JsonObject = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified} "{name}": {reason_text}',
        details=details,
    )


def invalid(kind: str, name: str, field: str, message: str, *, group: str = "") -> ApiError:
    """422: the object fails validation; one cause naming the field."""
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {field}: {message}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}],
        },
    )


def bad_request(message: str) -> ApiError:
    """400: the request itself is malformed."""
    return ApiError(400, "BadRequest", message)


def gone(message: str, *, continue_token: str | None = None) -> ApiError:
    """410 Expired: a resourceVersion or continue token is older than the kept history."""
    metadata: JsonObject = {}
    if continue_token:
        metadata["continue"] = continue_token
    return ApiError(410, "Expired", message, metadata=metadata)


def method_not_allowed(verb: str, what: str) -> ApiError:
    """405: the resource does not support this verb."""
    return ApiError(405, "MethodNotAllowed", f"the server does not allow this method on {what}")


def unauthorized() -> ApiError:
    """401: the caller presented no acceptable credentials."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def internal_error(message: str) -> ApiError:
    """500: an injected or unexpected server failure."""
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        details={"causes": [{"message": message}]},
    )
