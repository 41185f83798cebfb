"""The certificate and key the API server reads: given, kept in a Secret, or made once.

``spec.httpsEnable`` (SPEC 6) is read at start only, like the ports. In order
(``served_tls_files``):

1. ``--tls-cert``/``--tls-key`` win whatever the configuration says;
2. in a live cluster, the pair read from its Secret (``secret_store``) is written to
   ``tls.crt``/``tls.key`` of the data directory at every start, so the Secret stays
   the one kept copy and the files follow it;
3. else, with ``spec.httpsEnable`` true, a self-signed pair for ``localhost`` and the
   loopback addresses is made once into the same files and reused at every start,
   renewed by the first start within 30 days of its expiry (delete both to have a new
   one made sooner): ``SelfSignedFiles``;
4. else the API is served over plain HTTP.

Files are written whole or not at all, mode 0600 (``private_files``); the certificate
is written last, so a start interrupted between the two leaves no certificate and the
next start makes a new pair. ``check_tls_files`` loads a pair as the server will, so a
bad one stops the start with a message naming both files.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from license_service.errors import ConfigurationError
from license_service.private_files import replace_private_file
from license_service.tls.certificates import (
    TlsPems,
    generate_self_signed,
    local_names,
    renewal_due,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A PEM certificate (chain) and its private key: the API is served over HTTPS."""

    cert: Path
    key: Path


def served_tls_files(
    given: TlsFiles | None,
    *,
    https_enable: bool,
    files: TlsFiles,
    secret_pems: TlsPems | None,
    clock: Callable[[], datetime],
) -> TlsFiles | None:
    """The TLS files to serve the API with (``None``: plain HTTP), as the module docstring says.

    ``files`` are the data directory's; ``secret_pems`` the pair of a live cluster's Secret.
    """
    if given is not None:
        return given
    if secret_pems is not None:
        write_tls_files(files, secret_pems)
        return files
    if not https_enable:
        return None
    SelfSignedFiles(files).load_or_create(now=clock())
    return files


class SelfSignedFiles:
    """A self-signed pair for this machine kept in files, made once."""

    def __init__(self, files: TlsFiles) -> None:
        """The pair kept in ``files``; nothing is read until ``load_or_create``."""
        self.files = files

    def load_or_create(self, *, now: datetime) -> TlsPems:
        """The pair in the files; made (or renewed when due) and written there first."""
        files = self.files
        if files.cert.is_file() and files.key.is_file() and not _renewal_due(files.cert, now):
            try:
                return TlsPems(
                    certificate=files.cert.read_bytes(), private_key=files.key.read_bytes()
                )
            except OSError as error:
                raise unusable_tls_files(files, error) from error
        dns_names, addresses = local_names()
        pems = generate_self_signed(dns_names=dns_names, ip_addresses=addresses, now=now)
        write_tls_files(files, pems)
        logger.info("Generated a self-signed HTTPS certificate into %s", files.cert)
        return pems


def write_tls_files(files: TlsFiles, pems: TlsPems) -> None:
    """Write the key, then the certificate, each whole, mode 0600."""
    for path, data in ((files.key, pems.private_key), (files.cert, pems.certificate)):
        try:
            replace_private_file(path, data)
        except OSError as error:
            raise ConfigurationError(
                f"cannot write the HTTPS file {path}: {error.strerror or error}; give a writable "
                "--data-dir, or give --tls-cert and --tls-key"
            ) from error


def check_tls_files(tls: TlsFiles) -> None:
    """Load ``tls`` as a server would; ``ConfigurationError`` when the pair cannot serve HTTPS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(tls.cert, tls.key)
    except (ssl.SSLError, OSError) as exc:
        raise unusable_tls_files(tls, exc) from exc


def unusable_tls_files(tls: TlsFiles, error: Exception) -> ConfigurationError:
    """The error that says the pair ``tls`` cannot serve HTTPS, and what to give instead."""
    return ConfigurationError(
        f"--tls-cert {tls.cert} / --tls-key {tls.key} cannot be used: {error}; give a PEM "
        "certificate and the PEM private key that belongs to it (unencrypted)"
    )


def _renewal_due(certificate: Path, now: datetime) -> bool:
    try:
        pem = certificate.read_bytes()
    except OSError:
        return False  # the server's check of the pair says what is wrong with the file
    return renewal_due(pem, now)
