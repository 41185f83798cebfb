"""``checksum.txt`` in the format of GNU ``sha256sum`` (SPEC 5), written and read back.

One line per file, ``<64 lowercase hex digits><two spaces><name>\\n``, in the order
given: exactly what ``sha256sum FILE...`` prints, so ``sha256sum -c checksum.txt``
checks an extracted snapshot. Names never hold a newline or a backslash (see
``snapshot_names``), so no line needs ``sha256sum``'s escaping. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from license_service.errors import AuditError

_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
_NAME: Final = re.compile(r"[^\r\n\\]+")
_LINE: Final = re.compile(r"(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>[^\r\n\\]+)")


@dataclass(frozen=True, slots=True)
class ChecksumLine:
    """One line of ``checksum.txt``: the SHA-256 of the file ``name``, lowercase hex."""

    digest: str
    name: str


@dataclass(frozen=True, slots=True)
class ParsedChecksums:
    """``checksum.txt`` read back: its well-formed lines, and a message per malformed line."""

    lines: tuple[ChecksumLine, ...]
    problems: tuple[str, ...]


def checksum_file(lines: Iterable[ChecksumLine]) -> bytes:
    """The bytes of ``checksum.txt`` for ``lines``, in their order."""
    text = []
    for line in lines:
        if not _DIGEST.fullmatch(line.digest) or not _NAME.fullmatch(line.name):
            raise AuditError(
                f"cannot list file {line.name!r} with digest {line.digest!r} in checksum.txt: "
                "the digest must be 64 lowercase hex digits and the name one line "
                "without a backslash"
            )
        text.append(f"{line.digest}  {line.name}\n")
    return "".join(text).encode("utf-8")


def parse_checksum_file(data: bytes) -> ParsedChecksums:
    """Read ``checksum.txt`` as ``sha256sum -c`` would (text or binary mode lines)."""
    if not data:
        return ParsedChecksums((), ("is empty: it lists no file",))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ParsedChecksums((), (f"is not UTF-8 text ({exc.reason} at byte {exc.start})",))
    lines: list[ChecksumLine] = []
    problems: list[str] = []
    rows: Sequence[str] = text.split("\n")
    if rows and rows[-1] == "":
        rows = rows[:-1]
    else:
        problems.append("does not end with a newline")
    for number, row in enumerate(rows, start=1):
        match = _LINE.fullmatch(row)
        if match is None:
            problems.append(f"line {number} {row[:80]!r} is not '<64 hex digits>  <file name>'")
            continue
        lines.append(ChecksumLine(match["digest"].lower(), match["name"]))
    return ParsedChecksums(tuple(lines), tuple(problems))
