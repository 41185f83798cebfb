"""``checksum.txt`` is exactly what ``sha256sum`` prints, and reads back the same way."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from license_service.audit.checksums import ChecksumLine, checksum_file, parse_checksum_file
from license_service.errors import AuditError

DIGEST = "a" * 64


def test_checksum_file_is_byte_for_byte_what_sha256sum_prints(tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum not installed: cannot compare with its output")
    files = {"products_x.csv": b"name\r\n", "data_condition.txt": "ü\n".encode()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    printed = subprocess.run(
        ["sha256sum", *files], cwd=tmp_path, capture_output=True, check=True
    ).stdout
    ours = checksum_file(
        ChecksumLine(hashlib.sha256(data).hexdigest(), name) for name, data in files.items()
    )
    assert ours == printed


def test_lines_read_back_as_written() -> None:
    lines = [ChecksumLine(DIGEST, "a.csv"), ChecksumLine("b" * 64, "b c.csv")]
    parsed = parse_checksum_file(checksum_file(lines))
    assert parsed.lines == tuple(lines)
    assert parsed.problems == ()


def test_binary_mode_and_uppercase_lines_are_read_as_sha256sum_reads_them() -> None:
    parsed = parse_checksum_file(f"{DIGEST.upper()} *a.csv\n".encode())
    assert parsed.lines == (ChecksumLine(DIGEST, "a.csv"),)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(b"", "is empty", id="empty"),
        pytest.param(f"{DIGEST}  a.csv".encode(), "does not end with a newline", id="no-newline"),
        pytest.param(b"abc  a.csv\n", "line 1 'abc  a.csv' is not", id="short-digest"),
        pytest.param(f"{DIGEST} a.csv\n".encode(), "line 1", id="one-space"),
        pytest.param(f"{DIGEST}  a.csv\n\n".encode(), "line 2 '' is not", id="blank-line"),
        pytest.param(b"\xff\n", "is not UTF-8 text", id="not-utf8"),
    ],
)
def test_a_malformed_checksum_file_is_described(data: bytes, problem: str) -> None:
    parsed = parse_checksum_file(data)
    assert any(problem in text for text in parsed.problems), parsed.problems


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(ChecksumLine("A" * 64, "a.csv"), id="uppercase-digest"),
        pytest.param(ChecksumLine(DIGEST, "two\nlines"), id="newline-in-name"),
        pytest.param(ChecksumLine(DIGEST, "back\\slash"), id="backslash-in-name"),
        pytest.param(ChecksumLine(DIGEST, ""), id="empty-name"),
    ],
)
def test_a_line_sha256sum_would_read_differently_is_refused(line: ChecksumLine) -> None:
    with pytest.raises(AuditError, match="cannot list file"):
        checksum_file([line])
