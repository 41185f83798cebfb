"""Finding the credentials of a request, and hiding them in logged query strings; pure.

``credentials_from`` reads ``?token=`` and ``Authorization: Bearer <x>`` without
judging them: an empty ``?token=`` is kept as ``""`` (it is a wrong token, not a
missing one), and a malformed ``Authorization`` header counts as no bearer token.
``oversized_refusal`` refuses a credential longer than any real token
(``MAX_CREDENTIAL_LENGTH``) before it is compared or sent to the Kubernetes API.
``redact_query`` replaces every ``token`` value of a raw query string by ``***``,
however the parameter name is spelled (percent-encoded, in another case, repeated,
after ``;``), so access logs never hold a token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote_plus

from license_service.auth.identities import Denied

# The query parameter's name, not a token.
TOKEN_PARAMETER: Final = "token"  # noqa: S105
REDACTED: Final = "***"
MAX_CREDENTIAL_LENGTH: Final = 8 * 1024
"""The longest credential read: an API token has at most 1,024 characters
(``tokens.rules``), a service-account JWT a few thousand."""
_BEARER: Final = re.compile(r"bearer[ \t]+(?P<token>[^ \t]+)", re.IGNORECASE)
_SEPARATORS: Final = re.compile(r"([&;])")


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presents; ``None`` when absent. Their ``repr`` hides the values."""

    url_token: str | None = field(default=None, repr=False)
    bearer: str | None = field(default=None, repr=False)

    @property
    def present(self) -> bool:
        """True when the request presents any credential."""
        return self.url_token is not None or self.bearer is not None


def credentials_from(query: Mapping[str, str], authorization: str | None) -> Credentials:
    """The credentials in a request's query parameters and ``Authorization`` header."""
    return Credentials(url_token=query.get(TOKEN_PARAMETER), bearer=bearer_token(authorization))


def oversized_refusal(credentials: Credentials) -> Denied | None:
    """The 401 answer to a credential longer than ``MAX_CREDENTIAL_LENGTH``, else ``None``.

    It counts as a failed attempt (reason ``invalid``); the message gives the length only.
    """
    for name, value in (("?token=", credentials.url_token), ("bearer", credentials.bearer)):
        if value is not None and len(value) > MAX_CREDENTIAL_LENGTH:
            return Denied(
                401,
                "invalid",
                f"the {name} token has {len(value)} characters, more than the "
                f"{MAX_CREDENTIAL_LENGTH} any token of this service has; send the API token "
                "(`license-service token get`) or a service-account token",
            )
    return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme in any case), else ``None``."""
    if authorization is None:
        return None
    match = _BEARER.fullmatch(authorization.strip(" \t"))
    return match["token"] if match else None


def redact_query(query_string: str) -> str:
    """``query_string`` with every ``token`` value replaced by ``***``; other parameters kept."""
    parts = _SEPARATORS.split(query_string)
    # Odd indexes hold the separators themselves (the pattern captures them).
    for index in range(0, len(parts), 2):
        name, equals, _value = parts[index].partition("=")
        if equals and unquote_plus(name).strip().lower() == TOKEN_PARAMETER:
            parts[index] = f"{name}={REDACTED}"
    return "".join(parts)
