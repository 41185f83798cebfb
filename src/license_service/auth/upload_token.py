"""Who may upload usage (SPEC 10): the upload token alone, never the API token.

``UploadTokenAuthenticator`` guards ``POST /v2/metric_upload`` only. It accepts the
upload token (``?token=`` or ``Authorization: Bearer``), compared in constant time
(``token_comparison``); the API token is refused there (403: it reads usage, it may not
write it), and service-account tokens are not reviewed (401). The API gate
(``authenticator_chain``) never knows the upload token, so it works nowhere else:
neither token works in the other's place. Failed attempts are slowed down like the
API's, and decisions are logged with the method, never a token. Fail closed: with no
usable upload token configured, every upload is refused with the reason's pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from license_service.auth.authenticators import log_decision
from license_service.auth.credentials import Credentials, oversized_refusal
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.auth.token_comparison import any_same_token
from license_service.tokens.followed import TokenSource

UPLOAD_TOKEN_IDENTITY: Final = Identity("upload-token", "upload-token")
_GET: Final = "`license-service token get --upload` prints it"


class UploadTokenAuthenticator:
    """Accepts the upload token of ``upload_tokens``; refuses the API token of ``api_tokens``."""

    def __init__(
        self,
        upload_tokens: TokenSource,
        *,
        api_tokens: TokenSource,
        limiter: FailedAttemptLimiter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._upload_tokens = upload_tokens
        self._api_tokens = api_tokens
        self._limiter = limiter
        self._clock = clock

    async def authenticate(
        self, credentials: Credentials, *, path: str, client: str
    ) -> Identity | Denied:
        """Accept the upload token, or say why not (see the module docstring)."""
        now = self._clock()
        refusal = self._limiter.refusal(client, now) if credentials.present else None
        decision = refusal or self.check(credentials)
        self._limiter.record(decision, client, now)
        log_decision(decision, credentials, method="upload-token", path=path, client=client)
        return decision

    def problem(self) -> str | None:
        """Why the configured upload token cannot be used, or ``None``."""
        return self._upload_tokens.current().invalid_reason

    def check(self, credentials: Credentials) -> Identity | Denied:
        """The decision on ``credentials`` alone: no slow-down, nothing logged."""
        if not credentials.present:
            return Denied(
                401,
                "missing",
                "uploading needs the upload token: add ?token=<upload token> to the URL or "
                f"send Authorization: Bearer <upload token> ({_GET})",
            )
        too_long = oversized_refusal(credentials)
        if too_long is not None:
            return too_long
        presented = [v for v in (credentials.url_token, credentials.bearer) if v is not None]
        accepted = self._upload_tokens.current().tokens
        # Every comparison is made, whatever matches first (constant time per token).
        is_api_token = any_same_token(presented, self._api_tokens.current().tokens)
        is_upload_token = any_same_token(presented, accepted)
        if is_api_token:
            # Also when both are equal by mistake: fail closed, the API token reads only.
            return Denied(
                403,
                "api-token-not-for-upload",
                "the API token reads usage and may not upload it; send the upload token "
                f"instead ({_GET})",
            )
        if not accepted:
            return Denied(
                401,
                "configured-token-invalid",
                "the upload token configured on the server is invalid, so uploads are refused "
                "until an operator fixes it: the service log says why; set a new one with "
                "`license-service token generate --upload`",
            )
        if is_upload_token:
            return UPLOAD_TOKEN_IDENTITY
        return Denied(
            401,
            "invalid",
            f"the token is not this service's upload token; get the current one ({_GET}) "
            "and try again",
        )
