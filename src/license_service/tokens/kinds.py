"""The two tokens of the service: the API token (SPEC 4) and the upload token (SPEC 10).

Both follow the same rules (``rules``), are kept, followed and rotated the same way
(``file_source``, ``secret_source``, ``followed``); a ``TokenKind`` says which one a
file or Secret holds: its name in messages, its file in the data directory, its
Secret and key in Kubernetes, and the ``token`` command's flag that selects it.
Neither token works in the other's place (``auth.upload_token``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class TokenKind:
    """Which token: its name, data-directory file, Secret, Secret key and command flag."""

    name: str
    file_name: str
    secret_name: str
    secret_key: str
    flag: str


# Names of files, Secrets and keys, not tokens.
API_TOKEN: Final = TokenKind("API token", "api-token", "ibm-licensing-token", "token", "")
UPLOAD_TOKEN: Final = TokenKind(
    "upload token",
    "upload-token",
    "ibm-licensing-upload-token",
    "token-upload",
    " --upload",
)
REPORTER_TOKEN: Final = TokenKind(
    "Reporter token",
    "token",
    "ibm-license-service-reporter-token",
    "token",
    " --reporter",
)
"""The Reporter's token (SPEC 11): its read API and the clusters' pushes; SPEC 4's rules."""
UPLOAD_CONFIG_MAP: Final = "ibm-licensing-upload-config"
"""The ConfigMap telling uploaders where to send (``url``) and what to trust (``crt.pem``)."""
