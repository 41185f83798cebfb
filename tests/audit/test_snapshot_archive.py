"""``SnapshotArchive`` writes each file into the zip as soon as its turn comes, so a snapshot
of thousands of files (a Reporter's) holds only a few at a time, and the zip is the same."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from license_service.audit.snapshot_archive import MAX_PENDING_CHUNKS, SnapshotArchive
from license_service.audit.snapshot_names import CHECKSUM_FILE, PUBLIC_KEY_FILE, SIGNATURE_FILE
from license_service.signing.keys import SigningKey

FILE_BYTES = 64 * 1024
COUNT = 40


@dataclass(frozen=True)
class _Layout:
    suffix: str
    checksummed: tuple[str, ...]

    @property
    def every_file(self) -> tuple[str, ...]:
        return (*self.checksummed, CHECKSUM_FILE, SIGNATURE_FILE, PUBLIC_KEY_FILE)


def test_files_reach_the_zip_while_later_ones_are_still_added(signing_key: SigningKey) -> None:
    names = tuple(f"folder/file-{n:03}.bin" for n in range(COUNT))
    contents = {name: os.urandom(FILE_BYTES) for name in names}  # incompressible
    out = io.BytesIO()
    written_before_finish = 0
    with SnapshotArchive(
        out, files=_Layout("test", names), generated_at=datetime(2026, 12, 6, tzinfo=UTC)
    ) as archive:
        for name in names:
            archive.add_bytes(name, contents[name])
        written_before_finish = out.tell()
        archive.finish(signing_key)
    # Each file is two jobs of the worker; at most MAX_PENDING_CHUNKS wait, so only the
    # last few files may still be waiting when the last one was added.
    waiting = MAX_PENDING_CHUNKS // 2 + 1
    assert written_before_finish >= (COUNT - waiting) * FILE_BYTES
    with zipfile.ZipFile(out) as result:
        assert result.namelist() == [*names, CHECKSUM_FILE, SIGNATURE_FILE, PUBLIC_KEY_FILE]
        assert all(result.read(name) == contents[name] for name in names)
        assert result.testzip() is None
