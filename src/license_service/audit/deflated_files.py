"""A file's bytes deflated as they come, into a spool, with what its zip entry and checksum need.

``DeflatedFile`` compresses exactly as ``zipfile`` does for ``ZIP_DEFLATED`` (raw
deflate at zlib's default level, which gives the same bytes however the input is
split), and computes the CRC-32 of the zip entry, the SHA-256 of ``checksum.txt`` and
both sizes on the way. The compressed bytes wait in a spool (memory up to
``SPOOL_MEMORY_BYTES``, then an anonymous temporary file), so a file can be
compressed before the files that precede it in the zip are known.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zlib
from typing import BinaryIO, Final

SPOOL_MEMORY_BYTES: Final = 1024 * 1024
_COPY_BYTES: Final = 1024 * 1024
# zipfile's deflate: zlib's default level, no zlib header or trailer (wbits -15).
_RAW_DEFLATE_BITS: Final = -15


class DeflatedFile:
    """One file being deflated into a spool; ``close`` when its last byte was written."""

    def __init__(self) -> None:
        """Start an empty file."""
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        self._compressor = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, _RAW_DEFLATE_BITS
        )
        self._sha256 = hashlib.sha256()
        self.crc = 0
        self.size = 0
        self.compressed_size = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        """Append ``data`` (uncompressed) to the file."""
        self._sha256.update(data)
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self._store(self._compressor.compress(data))

    def close(self) -> None:
        """End the file: the compressor's last bytes go to the spool."""
        if not self.closed:
            self._store(self._compressor.flush())
            self.closed = True

    @property
    def sha256(self) -> str:
        """The SHA-256 of the uncompressed bytes written so far, lowercase hex."""
        return self._sha256.hexdigest()

    def copy_to(self, out: BinaryIO) -> None:
        """Write the compressed bytes (the file must be closed) to ``out``."""
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, out, _COPY_BYTES)

    def discard(self) -> None:
        """Free the spool (and delete its temporary file, if any)."""
        self._spool.close()

    def _store(self, compressed: bytes) -> None:
        if compressed:
            self._spool.write(compressed)
            self.compressed_size += len(compressed)
