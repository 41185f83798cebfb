"""The signing key kept in a file (``signing-key.pem`` of the data directory, or ``--signing-key``).

``SigningKeyFile.load_or_create`` reads the key file, or, when there is none,
generates an RSA 3072-bit key and creates the file with mode 0600 whole or not at all
(``private_files.create_private_file``): the name is hard-linked to a complete
temporary file, which never replaces an existing file, so a key file is never
overwritten, half-written or raced (two processes starting together end up with the
same key). A file that exists but is not a usable key raises ``AuditError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from license_service.errors import AuditError
from license_service.private_files import create_private_file
from license_service.signing.keys import SigningKey

SIGNING_KEY_FILE: Final = "signing-key.pem"


class SigningKeyFile:
    """A ``SigningKeyStore`` backed by one PEM file (unencrypted PKCS#8, mode 0600)."""

    def __init__(self, path: Path) -> None:
        """The key kept in ``path``; nothing is read until ``load_or_create``."""
        self.path = path

    def load_or_create(self) -> SigningKey:
        """The key kept in the file; generated and stored there (mode 0600) if missing."""
        path = self.path
        try:
            return self._load()
        except FileNotFoundError:
            pass
        if not path.parent.is_dir():
            raise AuditError(
                f"cannot store a new signing key in {path}: directory {path.parent} does not "
                "exist; create it (the data directory) or give the right path"
            )
        key = SigningKey.generate()
        try:
            created = create_private_file(path, key.private_pem())
        except OSError as exc:
            raise AuditError(
                f"cannot store the new signing key in {path}: {exc.strerror or exc}; make the "
                "directory exist and be writable by the service"
            ) from exc
        # Another process created it meanwhile: its key is the one kept.
        return key if created else self._load()

    def _load(self) -> SigningKey:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise AuditError(
                f"cannot read the signing key {self.path}: {exc.strerror or exc}; make it "
                "readable by the service (mode 0600, owned by its user)"
            ) from exc
        return SigningKey.from_pem(data, source=f"signing key file {self.path}")
