"""The RSA key that signs audit snapshots (SPEC 5), generated once and then kept.

``SigningKey.load_or_create`` reads the key file, or, when there is none, generates an
RSA 3072-bit key and creates the file with mode 0600 atomically: the key is written to
a temporary file that is then hard-linked to its name, which fails if the name exists,
so a file is never overwritten, half-written or raced (two processes starting together
end up with the same key). A file that exists but is not a usable key raises
``AuditError``: replacing it silently would make every snapshot signed before
unverifiable against the published key.

The fingerprint is ``SHA256:<hex>`` of the DER SubjectPublicKeyInfo, which anyone can
recompute: ``openssl pkey -pubin -in pub_key.pem -outform DER | sha256sum``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from license_service.errors import AuditError

SIGNING_KEY_FILE: Final = "signing-key.pem"
KEY_BITS: Final = 3072
KEY_FILE_MODE: Final = 0o600
_PUBLIC_EXPONENT: Final = 65537


class SigningKey:
    """An RSA private key of at least 3072 bits that signs with PKCS#1 v1.5 and SHA-256."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        """Wrap ``private_key``; use ``generate``, ``from_pem`` or ``load_or_create`` instead."""
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

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """The key kept in ``path``; generated and stored there (mode 0600) if missing."""
        try:
            return cls._load(path)
        except FileNotFoundError:
            pass
        if not path.parent.is_dir():
            raise AuditError(
                f"cannot store a new signing key in {path}: directory {path.parent} does not "
                "exist; create it (the data directory) or give the right path"
            )
        key = cls.generate()
        try:
            _create_exclusively(path, key.private_pem())
        except FileExistsError:
            # Another process created it meanwhile: its key is the one kept.
            return cls._load(path)
        except OSError as exc:
            raise AuditError(
                f"cannot store the new signing key in {path}: {exc.strerror or exc}; make the "
                "directory exist and be writable by the service"
            ) from exc
        return key

    @classmethod
    def _load(cls, path: Path) -> SigningKey:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise AuditError(
                f"cannot read the signing key {path}: {exc.strerror or exc}; make it readable "
                "by the service (mode 0600, owned by its user)"
            ) from exc
        return cls.from_pem(data, source=f"signing key file {path}")

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


def _create_exclusively(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, mode 0600, whole or not at all; never replace a file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # The umask may have narrowed the mode, never widened it; make it exactly 0600.
        os.chmod(temporary, KEY_FILE_MODE)
        os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
