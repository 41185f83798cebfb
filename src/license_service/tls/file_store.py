"""The certificate and key the API server reads: given, kept in a Secret, or made once.

``spec.httpsEnable`` (SPEC 6) is read at start only, like the ports. In order:

1. ``--tls-cert``/``--tls-key`` win whatever the configuration says;
2. in a live cluster, the pair read from its Secret (``KubernetesParts.tls``) is
   written to ``tls.crt``/``tls.key`` of the data directory at every start, so the
   Secret stays the one kept copy and the files follow it;
3. else, with ``spec.httpsEnable`` true, a self-signed pair for ``localhost`` and
   the loopback addresses is made once into the same files and reused at every
   start, renewed by the first start within 30 days of its expiry (delete both to
   have a new one made sooner);
4. else the API is served over plain HTTP.

Files are written whole or not at all (a temporary file renamed over the target),
mode 0600; the certificate is written last, so a start interrupted between the two
leaves no certificate and the next start makes a new pair.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final

from license_service.errors import ConfigurationError
from license_service.runtime.options import TlsFiles
from license_service.runtime.paths import DataDir
from license_service.tls.certificates import (
    TlsPems,
    generate_self_signed,
    local_names,
    renewal_due,
)

logger = logging.getLogger(__name__)

FILE_MODE: Final = 0o600


def served_tls_files(
    given: TlsFiles | None,
    *,
    https_enable: bool,
    data_dir: DataDir,
    secret_pems: TlsPems | None,
    clock: Callable[[], datetime],
) -> TlsFiles | None:
    """The TLS files to serve the API with (``None``: plain HTTP), as the module docstring says."""
    if given is not None:
        return given
    files = TlsFiles(cert=data_dir.tls_cert_file, key=data_dir.tls_key_file)
    if secret_pems is not None:
        write_tls_files(files, secret_pems)
        return files
    if not https_enable:
        return None
    if files.cert.is_file() and files.key.is_file() and not _renewal_due(files.cert, clock()):
        return files
    dns_names, addresses = local_names()
    write_tls_files(
        files, generate_self_signed(dns_names=dns_names, ip_addresses=addresses, now=clock())
    )
    logger.info("Generated a self-signed HTTPS certificate into %s", files.cert)
    return files


def _renewal_due(certificate: Path, now: datetime) -> bool:
    try:
        pem = certificate.read_bytes()
    except OSError:
        return False  # the server's check of the pair says what is wrong with the file
    return renewal_due(pem, now)


def write_tls_files(files: TlsFiles, pems: TlsPems) -> None:
    """Write the key, then the certificate, each whole, mode 0600."""
    _write_whole(files.key, pems.private_key)
    _write_whole(files.cert, pems.certificate)


def _write_whole(path: Path, data: bytes) -> None:
    try:
        # mkstemp creates the file with mode 0600 whatever the umask.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    except OSError as error:
        raise ConfigurationError(
            f"cannot write the HTTPS file {path}: {error.strerror or error}; give a writable "
            "--data-dir, or give --tls-cert and --tls-key"
        ) from error
