"""The data directory's layout, in one place: where the database, token and signing key live.

``--data-dir`` (default ``./license-service-data``, relative to the working
directory, the same default ``license-service token`` uses) holds:

==========================  ===============================================  ====
``license-service.db``      the SQLite store (unless ``--database-url``)     0600
``store-marker.json``       the databases this directory has used            0600
``unrecorded-misses.json``  reasons of missed samples not stored yet         0600
``api-token``               the API token (unless ``--token-file``)          0600
``signing-key.pem``         the RSA key that signs audit snapshots           0600
``tls.crt``                 the HTTPS certificate (``tls.file_store``)       0600
``tls.key``                 its private key                                  0600
``license-service.lock``    held by the running service (``data_dir_lock``)  0600
==========================  ===============================================  ====

The directory is created with mode 0700; at start ``store_start`` takes group and
other access away from it and from the SQLite files where they had it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from license_service.errors import ConfigurationError
from license_service.runtime.options import DATABASE_FILE, DEFAULT_DATA_DIR, DEMO_DATA_DIR
from license_service.signing.file_store import SIGNING_KEY_FILE
from license_service.store.database import sqlite_url
from license_service.tls.file_store import TlsFiles
from license_service.tokens.file_store import token_file_path
from license_service.tokens.kinds import UPLOAD_TOKEN

__all__ = ["DATABASE_FILE", "DEFAULT_DATA_DIR", "DEMO_DATA_DIR", "DataDir"]

DIRECTORY_MODE: Final = 0o700
TLS_CERT_FILE: Final = "tls.crt"
TLS_KEY_FILE: Final = "tls.key"


@dataclass(frozen=True, slots=True)
class DataDir:
    """The files of one service instance under ``root``."""

    root: Path

    @property
    def database_file(self) -> Path:
        """The SQLite database used when no ``--database-url`` is given."""
        return self.root / DATABASE_FILE

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of ``database_file``."""
        return sqlite_url(self.database_file)

    @property
    def token_file(self) -> Path:
        """The API token file used when no ``--token-file`` is given."""
        return token_file_path(self.root)

    @property
    def upload_token_file(self) -> Path:
        """The upload token file (SPEC 10): ``DATA_DIR/upload-token``."""
        return self.root / UPLOAD_TOKEN.file_name

    @property
    def signing_key_file(self) -> Path:
        """The private key that signs audit snapshots."""
        return self.root / SIGNING_KEY_FILE

    @property
    def tls_cert_file(self) -> Path:
        """The HTTPS certificate used when ``spec.httpsEnable`` is true and no ``--tls-cert``."""
        return self.root / TLS_CERT_FILE

    @property
    def tls_key_file(self) -> Path:
        """The private key of ``tls_cert_file``."""
        return self.root / TLS_KEY_FILE

    @property
    def tls_files(self) -> TlsFiles:
        """``tls_cert_file`` and ``tls_key_file``, as the server reads them."""
        return TlsFiles(cert=self.tls_cert_file, key=self.tls_key_file)

    def create(self) -> None:
        """Create the directory (mode 0700) if it does not exist; an existing one is kept as is."""
        try:
            self.root.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise ConfigurationError(
                f"data directory {self.root} is a file, not a directory; give another --data-dir"
            ) from exc
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the data directory {self.root}: {exc.strerror or exc}; "
                "give a writable --data-dir"
            ) from exc
