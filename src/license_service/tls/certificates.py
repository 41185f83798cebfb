"""Self-signed TLS certificates for ``spec.httpsEnable`` (SPEC 6), made in memory; no I/O.

When HTTPS is asked for without a certificate of one's own, the service makes one:
an EC P-256 key and a certificate signed by that key, valid about 825 days (the
longest validity clients such as macOS still accept for a server certificate),
whose Subject Alternative Names are the names clients use to reach the service:
the ``ibm-licensing-service-instance`` Service's DNS names in a cluster
(``service_dns_names``), ``localhost`` and the loopback addresses outside one
(``local_names``). The result is kept in the data directory's files (``file_store``)
or in a Secret (``secret_store``). The time is a parameter; only the key is random.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVICE_NAME: Final = "ibm-licensing-service-instance"
VALIDITY: Final = timedelta(days=825)
RENEW_BEFORE: Final = timedelta(days=30)
"""A certificate this module made is replaced at a start this close to its expiry."""
# Tolerate clocks of clients a little behind the service's.
_BACKDATING: Final = timedelta(minutes=5)
_COMMON_NAME: Final = "License Service (self-signed)"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TlsPems:
    """A PEM certificate and its unencrypted PEM (PKCS#8) private key; the key is never shown."""

    certificate: bytes
    private_key: bytes = field(repr=False)


def service_dns_names(namespace: str) -> tuple[str, ...]:
    """The DNS names of the service's Kubernetes Service in ``namespace``; pure."""
    return (
        SERVICE_NAME,
        f"{SERVICE_NAME}.{namespace}",
        f"{SERVICE_NAME}.{namespace}.svc",
        f"{SERVICE_NAME}.{namespace}.svc.cluster.local",
    )


def local_names() -> tuple[tuple[str, ...], tuple[IpAddress, ...]]:
    """The DNS names and addresses of a service reached on this machine; pure."""
    return ("localhost",), (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def generate_self_signed(
    *,
    dns_names: Sequence[str],
    ip_addresses: Sequence[IpAddress] = (),
    now: datetime,
    validity: timedelta = VALIDITY,
) -> TlsPems:
    """A new key and a certificate it signs for ``dns_names`` and ``ip_addresses``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _COMMON_NAME)])
    alternative_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alternative_names += [x509.IPAddress(address) for address in ip_addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATING)
        .not_valid_after(now + validity)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TlsPems(
        certificate=certificate.public_bytes(serialization.Encoding.PEM),
        private_key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def renewal_due(certificate_pem: bytes, now: datetime) -> bool:
    """Whether a certificate this module made expires within ``RENEW_BEFORE`` of ``now``.

    A certificate it did not make (another subject, not self-issued) or cannot read is
    never due: it is not ours to replace, and the server's own check reports it.
    """
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
    except ValueError:
        return False
    ours = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _COMMON_NAME)])
    if certificate.subject != ours or certificate.issuer != ours:
        return False
    expires = certificate.not_valid_after_utc
    if expires - now > RENEW_BEFORE:
        return False
    logger.info(
        "The self-signed HTTPS certificate %s on %s: a new one replaces it",
        "expired" if expires <= now else "expires",
        expires.date().isoformat(),
    )
    return True
