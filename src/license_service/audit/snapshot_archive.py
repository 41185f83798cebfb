"""Writing a snapshot zip: files deflated on a worker thread as they come, then zipped in order.

``SnapshotArchive`` is the only writer of snapshot bytes. Each file is added from
chunks of bytes as they are produced, in any order: a worker thread hashes (SHA-256
for ``checksum.txt``) and deflates them into a spool (``DeflatedFile``) while the
caller reads and formats the next rows, which on two cores hides most of the
compression. At most ``MAX_PENDING_CHUNKS`` chunks wait for the worker, so memory
stays bounded however long a file is. Files go into the zip in the layout's order
(``ZipWriter``, the bytes ``zipfile`` would write) as soon as they and every file
before them are deflated, and their spools are freed then: a Reporter snapshot of
thousands of files holds only the few not yet written. ``finish`` adds
``checksum.txt`` (the checksummed files in their order), its signature and the
public key, then writes what is left; it refuses to finish a snapshot that lacks a
file. Entries carry the generation time and mode 0644, so unzipped files are readable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import BinaryIO, Final, Protocol, Self

from license_service.audit.checksums import ChecksumLine, checksum_file
from license_service.audit.deflated_files import DeflatedFile
from license_service.audit.snapshot_names import (
    CHECKSUM_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_FILE,
)
from license_service.audit.zip_writer import ZipWriter
from license_service.errors import AuditError
from license_service.signing.keys import SigningKey

# Chunks are gathered up to this size before they go to the worker: every chunk costs
# the worker a few takes of the GIL, which wait while this thread runs Python code.
WRITE_BUFFER_BYTES: Final = 256 * 1024
MAX_PENDING_CHUNKS: Final = 8


class SnapshotLayout(Protocol):
    """The names of a snapshot's files: License Service's (``SnapshotFiles``) or the
    Reporter's (``FleetSnapshotFiles``)."""

    @property
    def suffix(self) -> str:
        """The ``<s>`` of its CSV names (for messages)."""
        ...

    @property
    def checksummed(self) -> tuple[str, ...]:
        """The files ``checksum.txt`` lists, in zip order."""
        ...

    @property
    def every_file(self) -> tuple[str, ...]:
        """Every file, in zip order: the checksummed ones, then the three of the signature."""
        ...


class SnapshotArchive:
    """A snapshot zip to be written to ``out``; use as a context manager, end with ``finish``."""

    def __init__(self, out: BinaryIO, *, files: SnapshotLayout, generated_at: datetime) -> None:
        """Start the snapshot whose file names are ``files``; ``finish`` writes it."""
        instant = generated_at.astimezone(UTC)
        self._zip = ZipWriter(
            out,
            date_time=(
                instant.year,
                instant.month,
                instant.day,
                instant.hour,
                instant.minute,
                instant.second,
            ),
        )
        self._files = files
        # By name: the deflated file, and whether its entry takes ZIP64 sizes.
        self._added: dict[str, tuple[DeflatedFile, bool]] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-deflate")
        self._pending: deque[Future[None]] = deque()
        # The zip order, and how far into it the zip is written.
        self._order = files.every_file
        self._written = 0
        self._closing: dict[str, Future[None]] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the worker and drop the deflated files; an exception goes on unchanged."""
        for pending in self._pending:
            pending.cancel()
        self._worker.shutdown(wait=True, cancel_futures=True)
        for data, _ in self._added.values():
            data.discard()

    def add_chunks(self, name: str, chunks: Iterable[bytes]) -> None:
        """Add the file ``name`` made of ``chunks``, read here and deflated on the worker."""
        data = self._start(name, zip64=True)
        buffer = bytearray()
        for chunk in chunks:
            if not buffer and len(chunk) >= WRITE_BUFFER_BYTES:
                self._submit(data.write, chunk)
                continue
            buffer += chunk
            if len(buffer) >= WRITE_BUFFER_BYTES:
                # The worker gets bytes of its own: the buffer is reused here.
                self._submit(data.write, bytes(buffer))
                buffer.clear()
        if buffer:
            self._submit(data.write, bytes(buffer))
        self._end(name, data)

    def add_bytes(self, name: str, data: bytes) -> None:
        """Add the file ``name`` holding ``data``."""
        deflated = self._start(name, zip64=False)
        self._submit(deflated.write, data)
        self._end(name, deflated)

    def finish(self, signing_key: SigningKey) -> None:
        """Add ``checksum.txt``, ``signature.rsa`` and ``pub_key.pem``, and write the zip."""
        expected = self._files.checksummed
        if sorted(self._added) != sorted(expected):
            missing = sorted(set(expected) - set(self._added))
            extra = sorted(set(self._added) - set(expected))
            raise AuditError(
                f"snapshot {self._files.suffix} cannot be finished: files missing {missing}, "
                f"unexpected {extra}; add exactly the files of SnapshotFiles.checksummed"
            )
        self._wait()
        checksums = checksum_file(
            ChecksumLine(self._added[name][0].sha256, name) for name in expected
        )
        self.add_bytes(CHECKSUM_FILE, checksums)
        self.add_bytes(SIGNATURE_FILE, signing_key.sign(checksums))
        self.add_bytes(PUBLIC_KEY_FILE, signing_key.public_pem())
        self._wait()
        self._write_ready()
        self._zip.close()

    def _start(self, name: str, *, zip64: bool) -> DeflatedFile:
        if name in self._added:
            raise AuditError(f"file {name} is already in snapshot {self._files.suffix}")
        data = DeflatedFile()
        self._added[name] = (data, zip64)
        return data

    def _end(self, name: str, data: DeflatedFile) -> None:
        """Close ``data`` on the worker, and write what is ready into the zip meanwhile."""
        self._submit(data.close)
        self._closing[name] = self._pending[-1]
        self._write_ready()

    def _write_ready(self) -> None:
        """Write the next files in zip order whose deflating is done, and free their spools."""
        while self._written < len(self._order):
            name = self._order[self._written]
            closing = self._closing.get(name)
            if closing is None or not closing.done():
                return
            closing.result()
            data, zip64 = self._added[name]
            self._zip.add(name, data, zip64=zip64)
            data.discard()
            self._written += 1

    def _submit(self, work: Callable[..., None], *arguments: object) -> None:
        """Run ``work`` on the worker after what was submitted before; wait when too much waits."""
        while len(self._pending) >= MAX_PENDING_CHUNKS:
            self._pending.popleft().result()
        self._pending.append(self._worker.submit(work, *arguments))

    def _wait(self) -> None:
        """Wait until the worker has done everything submitted (raising what it raised)."""
        while self._pending:
            self._pending.popleft().result()
