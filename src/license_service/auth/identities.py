"""What an authentication decision yields: who the caller is, or why it is refused.

Both are plain values, so the web layer maps them to responses in one place and
authenticators can be combined (tried in turn) without exceptions. Neither ever
holds a secret: they are logged and their messages are sent to clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthMethod = Literal["api-token", "service-account", "upload-token"]
"""How a caller proved who it is."""


@dataclass(frozen=True, slots=True)
class Identity:
    """An authenticated caller; ``name`` is ``"api-token"`` or a service account's user name."""

    method: AuthMethod
    name: str


@dataclass(frozen=True, slots=True)
class Denied:
    """A refused request.

    ``reason`` is a short, fixed label for metrics and logs (``"missing"``,
    ``"invalid"``, ``"url-token-disabled"``, ``"configured-token-invalid"``,
    ``"rate-limited"``); ``message`` says what was wrong and how to fix it, for the
    JSON error body; ``retry_after`` is in seconds, set for 429.
    """

    status: Literal[401, 403, 429, 503]
    reason: str
    message: str
    retry_after: int | None = None
