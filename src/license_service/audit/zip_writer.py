"""A zip written entry by entry from files deflated beforehand, byte for byte as ``zipfile`` does.

``zipfile`` compresses an entry while writing it, so entries must be produced in
zip order. A snapshot's period files come first in the zip yet are computed from the
daily rows that follow them; ``ZipWriter`` takes entries already deflated
(``DeflatedFile``), so any entry can be compressed before those that precede it.

Its bytes are those of ``zipfile.ZipFile(out, "w", ZIP_DEFLATED)`` writing the same
entries with ``open(info, "w", force_zip64=zip64)`` (a test compares them): local
headers with the final CRC and sizes when ``out`` can seek (``zipfile`` rewrites
them in place), zeros and a data descriptor after the data when it cannot; ZIP64
fields where ``zipfile`` puts them; the central directory and end records. Entries
are regular files (mode 0644, made on Unix), deflated, dated ``date_time``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Final

from license_service.audit.deflated_files import DeflatedFile

# What zipfile calls ZIP64_LIMIT: sizes and offsets above it take ZIP64 fields.
ZIP64_LIMIT: Final = (1 << 31) - 1
_FILE_COUNT_LIMIT: Final = (1 << 16) - 1
_LOCAL_HEADER: Final = struct.Struct("<4s2B4HL2L2H")
_CENTRAL_HEADER: Final = struct.Struct("<4s4B4HL2L5H2L")
_END_RECORD: Final = struct.Struct("<4s4H2LH")
_ZIP64_END_RECORD: Final = struct.Struct("<4sQ2H2L4Q")
_ZIP64_END_LOCATOR: Final = struct.Struct("<4sLQL")
_DATA_DESCRIPTOR_SIGNATURE: Final = 0x08074B50
_DEFLATED: Final = 8
_VERSION: Final = 20
_ZIP64_VERSION: Final = 45
_USE_DATA_DESCRIPTOR: Final = 0x08
_UTF8_NAME: Final = 0x800
_UNIX: Final = 3
_REGULAR_FILE_0644: Final = 0o100644 << 16
_NO_32_BIT_VALUE: Final = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class _Entry:
    name: bytes
    flags: int
    version: int
    crc: int
    size: int
    compressed_size: int
    offset: int


class ZipWriter:
    """A zip being written to ``out``; ``add`` entries in order, then ``close``."""

    def __init__(self, out: BinaryIO, *, date_time: tuple[int, int, int, int, int, int]) -> None:
        """Start a zip at ``out``'s position; its entries are dated ``date_time`` (UTC fields)."""
        self._out = out
        self._position, self._seekable = _start(out)
        year, month, day, hour, minute, second = date_time
        self._dos_date = (year - 1980) << 9 | month << 5 | day
        self._dos_time = hour << 11 | minute << 5 | second // 2
        self._entries: list[_Entry] = []

    def add(self, name: str, data: DeflatedFile, *, zip64: bool) -> None:
        """Write the entry ``name`` holding ``data`` (closed), with ZIP64 sizes when ``zip64``."""
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), _UTF8_NAME
        described = not self._seekable
        if described:
            flags |= _USE_DATA_DESCRIPTOR
        zip64 = zip64 or data.size * 1.05 > ZIP64_LIMIT
        entry = _Entry(
            name=encoded,
            flags=flags,
            version=_ZIP64_VERSION if zip64 else _VERSION,
            crc=data.crc,
            size=data.size,
            compressed_size=data.compressed_size,
            offset=self._position,
        )
        crc, compressed_size, size = (
            (0, 0, 0) if described else (entry.crc, data.compressed_size, data.size)
        )
        extra = b""
        if zip64:
            extra = struct.pack("<HHQQ", 1, 16, size, compressed_size)
            size = compressed_size = _NO_32_BIT_VALUE
        self._write(
            _LOCAL_HEADER.pack(
                b"PK\x03\x04",
                entry.version,
                0,
                flags,
                _DEFLATED,
                self._dos_time,
                self._dos_date,
                crc,
                compressed_size,
                size,
                len(encoded),
                len(extra),
            )
            + encoded
            + extra
        )
        data.copy_to(self._out)
        self._position += data.compressed_size
        if described:
            layout = "<LLQQ" if zip64 else "<LLLL"
            self._write(
                struct.pack(
                    layout, _DATA_DESCRIPTOR_SIGNATURE, entry.crc, entry.compressed_size, entry.size
                )
            )
        self._entries.append(entry)

    def close(self) -> None:
        """Write the central directory and the end records."""
        start = self._position
        for entry in self._entries:
            self._write(self._central_header(entry))
        count, size, offset = len(self._entries), self._position - start, start
        if count > _FILE_COUNT_LIMIT or offset > ZIP64_LIMIT or size > ZIP64_LIMIT:
            end = self._position
            self._write(
                _ZIP64_END_RECORD.pack(
                    b"PK\x06\x06",
                    44,
                    _ZIP64_VERSION,
                    _ZIP64_VERSION,
                    0,
                    0,
                    count,
                    count,
                    size,
                    offset,
                )
                + _ZIP64_END_LOCATOR.pack(b"PK\x06\x07", 0, end, 1)
            )
            count = min(count, 0xFFFF)
            size = min(size, _NO_32_BIT_VALUE)
            offset = min(offset, _NO_32_BIT_VALUE)
        self._write(_END_RECORD.pack(b"PK\x05\x06", 0, 0, count, count, size, offset, 0))
        self._out.flush()

    def _central_header(self, entry: _Entry) -> bytes:
        zip64_values = []
        size, compressed_size, offset = entry.size, entry.compressed_size, entry.offset
        if size > ZIP64_LIMIT or compressed_size > ZIP64_LIMIT:
            zip64_values += [size, compressed_size]
            size = compressed_size = _NO_32_BIT_VALUE
        if offset > ZIP64_LIMIT:
            zip64_values.append(offset)
            offset = _NO_32_BIT_VALUE
        extra = b""
        version = entry.version
        if zip64_values:
            count = len(zip64_values)
            extra = struct.pack(f"<HH{count}Q", 1, 8 * count, *zip64_values)
            version = max(version, _ZIP64_VERSION)
        return (
            _CENTRAL_HEADER.pack(
                b"PK\x01\x02",
                version,
                _UNIX,
                version,
                0,
                entry.flags,
                _DEFLATED,
                self._dos_time,
                self._dos_date,
                entry.crc,
                compressed_size,
                size,
                len(entry.name),
                len(extra),
                0,
                0,
                0,
                _REGULAR_FILE_0644,
                offset,
            )
            + entry.name
            + extra
        )

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)


def _start(out: BinaryIO) -> tuple[int, bool]:
    """Where the zip starts in ``out`` and whether ``out`` can seek, decided as zipfile does."""
    try:
        position = out.tell()
    except (AttributeError, OSError):
        # Offsets then count from the first byte written.
        return 0, False
    try:
        out.seek(position)
    except (AttributeError, OSError):
        return position, False
    return position, True
