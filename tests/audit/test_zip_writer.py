"""``ZipWriter`` writes the very bytes ``zipfile`` writes for the same entries, in every case."""

from __future__ import annotations

import io
import random
import zipfile
from typing import BinaryIO

import pytest

from license_service.audit import zip_writer
from license_service.audit.deflated_files import DeflatedFile
from license_service.audit.zip_writer import ZipWriter

DATE_TIME = (2026, 11, 4, 8, 0, 31)
# (name, data, ZIP64 sizes forced): CSV files are forced, small files are not.
Entry = tuple[str, bytes, bool]


class _Unseekable(io.RawIOBase):
    """A write-only stream that can neither seek nor tell, like a pipe."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.data += data
        return len(data)

    def getvalue(self) -> bytes:
        return bytes(self.data)


def _outputs(*, seekable: bool) -> tuple[BinaryIO, BinaryIO]:
    if seekable:
        return io.BytesIO(), io.BytesIO()
    return _Unseekable(), _Unseekable()  # type: ignore[return-value]


def _entries(seed: int) -> list[Entry]:
    generator = random.Random(seed)
    text = "".join(generator.choice("abc,\r\n0123456789Ωé") for _ in range(50_000)).encode()
    noise = generator.randbytes(70_000)
    return [
        ("products_2026-11-01_2026-11-03_cluster-a.csv", text, True),
        ("empty.csv", b"", True),
        ("noise.bin", noise, False),
        ("données.txt", b"non-ASCII name\n", False),
        ("data_condition.txt", text[:3_000], False),
    ]


def _by_zipfile(out: BinaryIO, entries: list[Entry]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data, zip64 in entries:
            info = zipfile.ZipInfo(name, date_time=DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            if zip64:
                with archive.open(info, "w", force_zip64=True) as entry:
                    # zipfile gets the data in pieces, ZipWriter in others: same bytes.
                    for start in range(0, len(data), 7_777):
                        entry.write(data[start : start + 7_777])
            else:
                archive.writestr(info, data)


def _by_zip_writer(out: BinaryIO, entries: list[Entry]) -> None:
    writer = ZipWriter(out, date_time=DATE_TIME)
    for name, data, zip64 in entries:
        deflated = DeflatedFile()
        for start in range(0, len(data), 65_536):
            deflated.write(data[start : start + 65_536])
        deflated.close()
        writer.add(name, deflated, zip64=zip64)
        deflated.discard()
    writer.close()


@pytest.fixture
def small_zip64_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes and offsets over 10 kB take ZIP64 fields, in zipfile and ZipWriter alike."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 10_000)
    monkeypatch.setattr(zip_writer, "ZIP64_LIMIT", 10_000)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_seekable_output_gets_zipfiles_bytes(seed: int) -> None:
    expected, produced = io.BytesIO(), io.BytesIO()
    _by_zipfile(expected, _entries(seed))
    _by_zip_writer(produced, _entries(seed))
    assert produced.getvalue() == expected.getvalue()


def test_a_zip_after_other_bytes_counts_offsets_from_the_start_as_zipfile_does() -> None:
    expected, produced = io.BytesIO(b"prefix"), io.BytesIO(b"prefix")
    expected.seek(0, io.SEEK_END)
    produced.seek(0, io.SEEK_END)
    _by_zipfile(expected, _entries(3))
    _by_zip_writer(produced, _entries(3))
    assert produced.getvalue() == expected.getvalue()


def test_an_unseekable_output_gets_zipfiles_data_descriptors() -> None:
    expected, produced = _outputs(seekable=False)
    _by_zipfile(expected, _entries(4))
    _by_zip_writer(produced, _entries(4))
    assert produced.getvalue() == expected.getvalue()  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(produced.getvalue())) as archive:  # type: ignore[attr-defined]
        assert archive.read("noise.bin") == _entries(4)[2][1]


@pytest.mark.usefixtures("small_zip64_limit")
@pytest.mark.parametrize("seekable", [True, False])
def test_large_entries_and_offsets_get_zipfiles_zip64_fields_and_end_records(
    seekable: bool,
) -> None:
    expected, produced = _outputs(seekable=seekable)
    _by_zipfile(expected, _entries(5))
    _by_zip_writer(produced, _entries(5))
    produced_bytes: bytes = produced.getvalue()  # type: ignore[attr-defined]
    assert produced_bytes == expected.getvalue()  # type: ignore[attr-defined]
    assert b"PK\x06\x06" in produced_bytes  # the ZIP64 end record


def test_the_entries_read_back_whole_with_their_dates_and_modes() -> None:
    out = io.BytesIO()
    _by_zip_writer(out, _entries(6))
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        for (name, data, _), info in zip(_entries(6), archive.infolist(), strict=True):
            assert info.filename == name
            assert archive.read(name) == data
            assert info.date_time == (2026, 11, 4, 8, 0, 30)
            assert info.external_attr >> 16 == 0o100644
