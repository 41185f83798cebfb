"""The RSA key that signs audit snapshots (SPEC 5), and where it is kept.

A key is generated once and then kept: in the data directory's ``signing-key.pem``
(``file_store``) or, in Kubernetes, in a Secret (``secret_store``); both are a
``SigningKeyStore``. A kept key that is not usable raises ``AuditError`` instead of
being replaced: replacing it silently would make every snapshot signed before
unverifiable against the published key.

The fingerprint is ``SHA256:<hex>`` of the DER SubjectPublicKeyInfo, which anyone can
recompute: ``openssl pkey -pubin -in pub_key.pem -outform DER | sha256sum``.
"""

from __future__ import annotations

import hashlib
from typing import Final, Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from license_service.errors import AuditError

KEY_BITS: Final = 3072
_PUBLIC_EXPONENT: Final = 65537


class SigningKey:
    """An RSA private key of at least 3072 bits that signs with PKCS#1 v1.5 and SHA-256."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        """Wrap ``private_key``; use ``generate``, ``from_pem`` or a ``SigningKeyStore`` instead."""
        if private_key.key_size < KEY_BITS:
            raise AuditError(
                f"signing key of {private_key.key_size} bits is too short: audit snapshots "
                f"need an RSA key of at least {KEY_BITS} bits; generate a new one"
            )
        self._private_key = private_key
        self._public_der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random RSA 3072-bit key (takes a fraction of a second)."""
        return cls(rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=KEY_BITS))

    @classmethod
    def from_pem(cls, data: bytes, *, source: str = "signing key") -> SigningKey:
        """The key in the unencrypted PEM ``data``; ``source`` names it in error messages."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise AuditError(
                f"{source} is not an unencrypted PEM private key ({exc}): restore the key "
                "from a backup, or move the file away to have a new key generated (snapshots "
                "signed before then verify only with the old public key)"
            ) from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise AuditError(
                f"{source} holds a {type(key).__name__}, not an RSA key: audit snapshots are "
                f"signed with RSA ({KEY_BITS} bits or more); restore the right key or move "
                "the file away to have one generated"
            )
        return cls(key)

    def sign(self, data: bytes) -> bytes:
        """The RSA PKCS#1 v1.5 SHA-256 signature of ``data`` (``openssl dgst -sha256 -sign``)."""
        return self._private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def public_pem(self) -> bytes:
        """The public key as a SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, for storing it (file or Secret)."""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def fingerprint(self) -> str:
        """``SHA256:<hex>`` of the DER public key: what status pages and snapshots show."""
        return public_key_fingerprint(self._public_der)

    def __repr__(self) -> str:
        # Never the key material: reprs end up in logs and tracebacks.
        return f"SigningKey({self.fingerprint})"


def public_key_fingerprint(public_der: bytes) -> str:
    """``SHA256:<hex>`` of a DER SubjectPublicKeyInfo."""
    return f"SHA256:{hashlib.sha256(public_der).hexdigest()}"


class SigningKeyStore(Protocol):
    """Where the signing key is kept: a file, or a Kubernetes Secret."""

    def load_or_create(self) -> SigningKey:
        """The kept key; generated and kept there first when there is none."""
        ...
