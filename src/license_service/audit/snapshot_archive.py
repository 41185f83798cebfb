"""Writing a snapshot zip: each file hashed while it is written, then checksums and signature.

``SnapshotArchive`` is the only writer of snapshot bytes. Files go into the zip in the
order they are added, each SHA-256 computed from the very bytes written (nothing is
read back), through a small buffer: memory stays bounded however long a file is.
``finish`` adds ``checksum.txt`` (the checksummed files in their SPEC order), its
signature and the public key, and refuses to finish a snapshot that lacks a file.
Entries carry the generation time and mode 0644, so unzipped files are readable.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO, Final, Self

from license_service.audit.checksums import ChecksumLine, checksum_file
from license_service.audit.signing_keys import SigningKey
from license_service.audit.snapshot_names import (
    CHECKSUM_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_FILE,
    SnapshotFiles,
)
from license_service.errors import AuditError

# Lines are gathered up to this size before one write: fewer, larger compressor calls.
WRITE_BUFFER_BYTES: Final = 64 * 1024
_UNIX: Final = 3
_REGULAR_FILE_0644: Final = 0o100644 << 16


class SnapshotArchive:
    """A snapshot zip being written to ``out``; use as a context manager, end with ``finish``."""

    def __init__(self, out: BinaryIO, *, files: SnapshotFiles, generated_at: datetime) -> None:
        """Start the zip of the snapshot whose file names are ``files`` in ``out``."""
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        self._files = files
        instant = generated_at.astimezone(UTC)
        self._date_time = (
            instant.year,
            instant.month,
            instant.day,
            instant.hour,
            instant.minute,
            instant.second,
        )
        self._digests: dict[str, str] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._zip.close()

    def add_lines(self, name: str, lines: Iterable[bytes]) -> int:
        """Write the file ``name`` from ``lines`` as they come; return how many lines it has."""
        count = 0
        digest = hashlib.sha256()
        buffer = bytearray()
        # Size unknown in advance: ZIP64 sizes let a daily file pass 4 GiB.
        with self._zip.open(self._entry(name), "w", force_zip64=True) as entry:
            for line in lines:
                buffer += line
                count += 1
                if len(buffer) >= WRITE_BUFFER_BYTES:
                    digest.update(buffer)
                    entry.write(buffer)
                    buffer.clear()
            digest.update(buffer)
            entry.write(buffer)
        self._digests[name] = digest.hexdigest()
        return count

    def add_bytes(self, name: str, data: bytes) -> None:
        """Write the file ``name`` holding ``data``."""
        self._zip.writestr(self._entry(name), data)
        self._digests[name] = hashlib.sha256(data).hexdigest()

    def finish(self, signing_key: SigningKey) -> None:
        """Add ``checksum.txt``, ``signature.rsa`` and ``pub_key.pem``, and close the zip."""
        expected = self._files.checksummed
        if sorted(self._digests) != sorted(expected):
            missing = sorted(set(expected) - set(self._digests))
            extra = sorted(set(self._digests) - set(expected))
            raise AuditError(
                f"snapshot {self._files.suffix} cannot be finished: files missing {missing}, "
                f"unexpected {extra}; add exactly the files of SnapshotFiles.checksummed"
            )
        checksums = checksum_file(ChecksumLine(self._digests[name], name) for name in expected)
        self._write(CHECKSUM_FILE, checksums)
        self._write(SIGNATURE_FILE, signing_key.sign(checksums))
        self._write(PUBLIC_KEY_FILE, signing_key.public_pem())
        self._zip.close()

    def _write(self, name: str, data: bytes) -> None:
        self._zip.writestr(self._entry(name), data)

    def _entry(self, name: str) -> zipfile.ZipInfo:
        if name in self._digests:
            raise AuditError(f"file {name} is already in snapshot {self._files.suffix}")
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = _UNIX
        info.external_attr = _REGULAR_FILE_0644
        return info
