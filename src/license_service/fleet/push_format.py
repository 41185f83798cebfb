"""The Reporter push format, version 1 (PUSH_FORMAT.md): the envelope, the payload, both ways.

A push is an envelope ``{"formatVersion", "payload", "signature", "publicKey"}``: the
payload's bytes in base64, their RSA PKCS#1 v1.5 SHA-256 signature by the cluster's
snapshot signing key, and that key's public PEM. The payload holds the cluster, when
it was sent and its consecutive UTC days, each with the daily peak rows of products,
bundled products and services (written and read by the row specs, never a field list
of their own), the day's accepted uploads and its sampling coverage.

``encode_push`` builds the body (the sender's, and the tests'); ``decode_push`` reads
one and checks everything that needs no store: JSON shape, version, base64, the key,
the signature, consecutive days, each row. A refusal is a ``RequestError`` (400) whose
message names the field and how to fix it. Which key is trusted for a cluster is the
store's question (409), not this module's. Pure apart from the cryptography.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar

import msgspec
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from license_service.audit.snapshot_names import snapshot_file_name
from license_service.errors import AuditError, RequestError
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import MAX_STORED_INTEGER, RowSpec
from license_service.metering.uploads import AggregationPolicy
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    BundledProductUsage,
    ProductUsage,
    ServiceUsage,
)
from license_service.signing.keys import KEY_BITS, SigningKey, public_key_fingerprint

FORMAT_VERSION: Final = 1
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
"""The largest body the Reporter reads (413 above); the sender pushes at most 31 days."""
MAX_DAYS_PER_PUSH: Final = 31
MAX_CLUSTER_ID_LENGTH: Final = 253


class Coverage(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Samples taken and expected on a day (``store.sampling_coverage``)."""

    samples_taken: int
    samples_expected: int


class PushUpload(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """An accepted upload submission of a day, as in ``uploads_<s>.csv`` without ``clusterId``."""

    received_at: datetime
    date: date
    product_id: str
    product_name: str
    product_metric: str
    metric_value: Decimal
    aggregation_policy: AggregationPolicy
    cloudpak_id: str
    submission_id: str


class ClusterIdentity(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Who pushes: the cluster's id and name, and the License Service version."""

    cluster_id: str
    cluster_name: str
    service_version: str


_NO_COVERAGE: Final = Coverage(0, 0)


@dataclass(frozen=True, slots=True)
class PushDay:
    """One UTC day of one cluster: its daily peak rows, uploads and coverage.

    ``complete`` is false only for the sender's today (its peaks may still rise).
    """

    date: date
    complete: bool
    products: tuple[ProductUsage, ...] = ()
    bundled_products: tuple[BundledProductUsage, ...] = ()
    services: tuple[ServiceUsage, ...] = ()
    uploads: tuple[PushUpload, ...] = ()
    coverage: Coverage = _NO_COVERAGE


@dataclass(frozen=True, slots=True)
class ReceivedPush:
    """A push that decoded and whose signature verified with ``public_key_pem``."""

    cluster: ClusterIdentity
    sent_at: datetime
    days: tuple[PushDay, ...]
    fingerprint: str
    public_key_pem: str


# The wire form. Rows stay JSON objects here: the row specs read them (``from_json``).
class PushPayloadDay(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """A day of the payload as sent: rows as JSON objects (the rows of /products etc.)."""

    date: date
    complete: bool
    products: list[dict[str, Any]]
    bundled_products: list[dict[str, Any]]
    services: list[dict[str, Any]]
    uploads: list[PushUpload]
    coverage: Coverage


class PushPayload(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """The signed payload: the cluster, when it was sent and its consecutive UTC days."""

    format_version: int
    cluster: ClusterIdentity
    sent_at: datetime
    days: list[PushPayloadDay]


class PushEnvelope(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """The body of POST /v1/push: the payload in base64, its signature and the public key."""

    format_version: int
    payload: str
    signature: str
    public_key: str


class _Version(msgspec.Struct, rename="camel"):
    format_version: Any = None


_ROWS: Final[tuple[tuple[str, str, RowSpec[Any]], ...]] = (
    ("products", "products", PRODUCT_ROWS),
    ("bundledProducts", "bundled_products", BUNDLED_PRODUCT_ROWS),
    ("services", "services", SERVICE_ROWS),
)
T = TypeVar("T")
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")


def encode_payload(
    cluster: ClusterIdentity, days: Sequence[PushDay], *, sent_at: datetime
) -> bytes:
    """The payload bytes of ``days`` of ``cluster`` (the rows as the row specs write them)."""
    wire = PushPayload(
        format_version=FORMAT_VERSION,
        cluster=cluster,
        sent_at=sent_at.astimezone(UTC),
        days=[
            PushPayloadDay(
                date=day.date,
                complete=day.complete,
                products=[PRODUCT_ROWS.json(row) for row in day.products],
                bundled_products=[BUNDLED_PRODUCT_ROWS.json(row) for row in day.bundled_products],
                services=[SERVICE_ROWS.json(row) for row in day.services],
                uploads=list(day.uploads),
                coverage=day.coverage,
            )
            for day in days
        ],
    )
    return _ENCODER.encode(wire)


def encode_push(
    cluster: ClusterIdentity, days: Sequence[PushDay], *, key: SigningKey, sent_at: datetime
) -> bytes:
    """The body of ``POST /v1/push``: the payload of ``days``, signed with ``key``."""
    payload = encode_payload(cluster, days, sent_at=sent_at)
    return envelope(payload, key=key)


def envelope(payload: bytes, *, key: SigningKey) -> bytes:
    """The envelope of ``payload`` bytes signed with ``key`` (tests sign odd payloads too)."""
    return _ENCODER.encode(
        PushEnvelope(
            format_version=FORMAT_VERSION,
            payload=base64.b64encode(payload).decode("ascii"),
            signature=base64.b64encode(key.sign(payload)).decode("ascii"),
            public_key=key.public_pem().decode("ascii"),
        )
    )


def decode_push(body: bytes, *, today: date | None = None) -> ReceivedPush:
    """Read and check a push body; ``RequestError`` (400) naming the field and the fix.

    ``today`` (UTC, the Reporter's): a day after tomorrow is refused (clocks may differ
    by hours, never by days).
    """
    outer = _decode(body, PushEnvelope, "the body")
    payload = _base64(outer.payload, "payload")
    signature = _base64(outer.signature, "signature")
    public_key = _public_key(outer.public_key)
    try:
        public_key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise RequestError(
            "signature does not match the payload: sign the exact payload bytes with the "
            "key given in publicKey (RSA PKCS#1 v1.5, SHA-256)"
        ) from None
    inner = _decode(payload, PushPayload, "the payload")
    cluster = _checked_cluster(inner.cluster)
    days = tuple(_day(day, index) for index, day in enumerate(inner.days))
    _check_days(days, today=today)
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ReceivedPush(
        cluster=cluster,
        sent_at=_utc(inner.sent_at),
        days=days,
        fingerprint=public_key_fingerprint(der),
        public_key_pem=outer.public_key,
    )


def _decode(data: bytes, kind: type[T], what: str) -> T:
    """``data`` as ``kind``, its version checked first; a refusal names the JSON path."""
    try:
        version = msgspec.json.decode(data, type=_Version).format_version
    except msgspec.DecodeError as exc:
        raise RequestError(
            f"{what} is not a JSON object ({exc}): send the push format of /openapi.json"
        ) from None
    if version != FORMAT_VERSION:
        raise RequestError(
            f"{what}: formatVersion {version!r} is not one this Reporter reads: send "
            f"formatVersion {FORMAT_VERSION} (upgrade the Reporter to read newer formats)"
        )
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as exc:
        raise RequestError(f"{what}: {exc}: fix that field as the push format says") from None
    except msgspec.DecodeError as exc:
        raise RequestError(f"{what} is not JSON ({exc}): send UTF-8 JSON") from None


def _base64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(
            f"{field} is not base64: write it in standard, padded base64 (RFC 4648)"
        ) from None


def _public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise RequestError(
            "publicKey is not a PEM public key: send the signing key's public key as "
            "'-----BEGIN PUBLIC KEY-----' PEM (SubjectPublicKeyInfo)"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < KEY_BITS:
        raise RequestError(
            f"publicKey must be an RSA key of {KEY_BITS} bits or more: sign with the "
            "cluster's snapshot signing key"
        )
    return key


def _checked_cluster(cluster: ClusterIdentity) -> ClusterIdentity:
    for field, value in (("clusterId", cluster.cluster_id), ("clusterName", cluster.cluster_name)):
        found = first_unsafe_character(value)
        if found is not None:
            raise RequestError(
                f"cluster.{field} holds {found.describe()}, which no stored text can hold: "
                "remove it from the cluster's id or name"
            )
    try:
        # The rule of snapshot file names: a Reporter names its files by cluster too.
        snapshot_file_name(
            ClusterId(cluster.cluster_id), DatePeriod(date(2000, 1, 1), date(2000, 1, 1))
        )
    except AuditError:
        raise RequestError(
            f"cluster.clusterId must be 1 to {MAX_CLUSTER_ID_LENGTH} letters, digits, '.', '_' "
            "or '-', starting with a letter or digit: send the cluster's id "
            "(spec.sender.clusterID, default its own)"
        ) from None
    return cluster


def _day(day: PushPayloadDay, index: int) -> PushDay:
    """A wire day read into rows; a bad row is named by its day, list and position."""
    rows: dict[str, tuple[Any, ...]] = {}
    for field, attribute, spec in _ROWS:
        read = []
        keys = set()
        for position, document in enumerate(getattr(day, attribute)):
            where = f"days[{index}] ({day.date.isoformat()}).{field}[{position}]"
            try:
                row = spec.from_json(document)
            except ValueError as exc:
                raise RequestError(f"{where}: {exc}") from None
            key = spec.key_of(row)
            if key in keys:
                raise RequestError(
                    f"{where}: a second row with the same key: send one daily peak per "
                    "product and metric a day"
                )
            keys.add(key)
            read.append(row)
        rows[attribute] = tuple(read)
    for position, upload in enumerate(day.uploads):
        where = f"days[{index}].uploads[{position}]"
        if upload.metric_value < 0 or not upload.metric_value.is_finite():
            raise RequestError(f"{where}.metricValue must be a number of 0 or more")
        for info in msgspec.structs.fields(upload):
            value = getattr(upload, info.name)
            found = first_unsafe_character(value) if isinstance(value, str) else None
            if found is not None:
                raise RequestError(
                    f"{where}.{info.encode_name} holds {found.describe()}, which no stored "
                    "text can hold: remove it"
                )
    coverage = day.coverage
    counts = (coverage.samples_taken, coverage.samples_expected)
    if not all(0 <= count <= MAX_STORED_INTEGER for count in counts):
        raise RequestError(f"days[{index}].coverage: sample counts are 0 to 2^63 - 1")
    return PushDay(
        date=day.date,
        complete=day.complete,
        products=rows["products"],
        bundled_products=rows["bundled_products"],
        services=rows["services"],
        uploads=tuple(day.uploads),
        coverage=coverage,
    )


def _check_days(days: Sequence[PushDay], *, today: date | None) -> None:
    for index, (before, after) in enumerate(itertools.pairwise(days), start=1):
        if after.date != before.date + timedelta(days=1):
            raise RequestError(
                f"days[{index}] is {after.date.isoformat()}, not the day after "
                f"{before.date.isoformat()}: send consecutive UTC days in ascending order"
            )
    for index, day in enumerate(days[:-1]):
        if not day.complete:
            raise RequestError(
                f"days[{index}] ({day.date.isoformat()}) is not complete but a later day "
                "follows: only the last day (today) may be incomplete"
            )
    if today is not None and days and days[-1].date > today + timedelta(days=1):
        raise RequestError(
            f"days[{len(days) - 1}] is {days[-1].date.isoformat()}, after today "
            f"({today.isoformat()}, UTC): check the sending cluster's clock"
        )


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a time without an offset is taken as UTC (SPEC: all times UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
