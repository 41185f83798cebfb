"""The body of one push (PUSH_FORMAT.md, version 1): the signed envelope around the payload.

The one place the sender writes the push format, so it can give way to the shared
``fleet.push_format`` module in one call. The payload is UTF-8 JSON; the envelope
carries it in standard padded base64 with the RSA PKCS#1 v1.5 SHA-256 signature of
those exact bytes and the signing key's public key (PEM). Pure apart from signing.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from license_service.reporting.push_days import PushDay
from license_service.signing.keys import SigningKey

FORMAT_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class PushedCluster:
    """Who pushes: the cluster's id and name as the Reporter shows them, and our version."""

    cluster_id: str
    cluster_name: str
    service_version: str


def push_body(
    days: Sequence[PushDay], cluster: PushedCluster, key: SigningKey, *, sent_at: datetime
) -> bytes:
    """The request body of a push of ``days``, signed with ``key``."""
    payload = _exact_numbers(
        json.dumps(
            {
                "formatVersion": FORMAT_VERSION,
                "cluster": {
                    "clusterId": cluster.cluster_id,
                    "clusterName": cluster.cluster_name,
                    "serviceVersion": cluster.service_version,
                },
                "sentAt": sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "days": [_day(day) for day in days],
            },
            ensure_ascii=False,
            separators=(",", ":"),
            default=_decimal_marker,
        )
    ).encode()
    envelope = {
        "formatVersion": FORMAT_VERSION,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signature": base64.b64encode(key.sign(payload)).decode("ascii"),
        "publicKey": key.public_pem().decode("ascii"),
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def _day(day: PushDay) -> dict[str, object]:
    return {
        "date": day.day.isoformat(),
        "complete": day.complete,
        **day.rows,
        "uploads": day.uploads,
        "coverage": {"samplesTaken": day.samples_taken, "samplesExpected": day.samples_expected},
    }


# ``json`` writes a Decimal through ``default`` only, as text: it is marked there, then the
# marked strings become the exact numbers (a float would round 21 significant digits). NUL
# never occurs in stored text (formats.unsafe_characters), so no text reads as a marker.
_MARKED_DECIMAL: Final = re.compile(r'"\\u0000([0-9]+(?:\.[0-9]+)?)\\u0000"')


def _decimal_marker(value: object) -> str:
    if isinstance(value, Decimal) and value.is_finite() and value >= 0:
        return f"\0{value:f}\0"
    raise TypeError(f"{type(value).__name__} cannot be written in a push")


def _exact_numbers(text: str) -> str:
    return _MARKED_DECIMAL.sub(r"\1", text)
