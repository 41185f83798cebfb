"""Sending one upload to a server's ``POST /v2/metric_upload`` (SPEC 10), and its answer.

The one HTTP exchange of ``license-service upload``, with the standard library: the
upload token goes in the ``Authorization`` header (never in the URL, so no proxy or
log on the way keeps it); an HTTPS server is verified against ``ca_file`` (the
``crt.pem`` of ConfigMap ``ibm-licensing-upload-config``) or the system's
certificates. Every outcome is a value (``UploadAnswer``) or a ``LicenseServiceError``
saying what to check: the command turns them into messages.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from license_service.errors import ConfigurationError, LicenseServiceError

UPLOAD_PATH: Final = "/v2/metric_upload"
TIMEOUT_SECONDS: Final = 60.0


@dataclass(frozen=True, slots=True)
class UploadAnswer:
    """The server's answer: its status and the message or the count it sent."""

    status: int
    accepted: int | None
    message: str


def send_upload(body: bytes, *, url: str, token: str, ca_file: Path | None = None) -> UploadAnswer:
    """POST ``body`` (JSON) to ``url``'s upload endpoint with the upload ``token``."""
    endpoint = _endpoint(url)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked: http or https)
        endpoint,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=TIMEOUT_SECONDS, context=context
        ) as response:
            return _answer(response.status, response.read())
    except urllib.error.HTTPError as refused:
        return _answer(refused.code, refused.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LicenseServiceError(
            f"cannot reach {endpoint}: {reason}; check --url (and --ca-file for HTTPS) and "
            "that the service runs"
        ) from exc


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"--url {url!r} is not an http:// or https:// address of the service; give e.g. "
            "http://127.0.0.1:8080"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{UPLOAD_PATH}"


def _answer(status: int, raw: bytes) -> UploadAnswer:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict):
        accepted = body.get("accepted")
        message = body.get("message")
        return UploadAnswer(
            status,
            accepted if isinstance(accepted, int) else None,
            message if isinstance(message, str) else "",
        )
    text = raw.decode("utf-8", errors="replace").strip().splitlines()
    return UploadAnswer(status, None, text[0][:300] if text else "")
