"""Why samples are missing, kept on disk until the store takes it, across restarts and full disks.

When the store cannot be written (a full disk, a stopped PostgreSQL) the sampler
cannot record why its samples are missing; it keeps the reasons and records them in
the first transaction that works. Kept in memory only, they were lost at a restart,
and the gap then said "no reason recorded". ``UnrecordedMisses`` keeps them in a
file of the data directory (``unrecorded-misses.json``) as well.

The file has a fixed size (``FILE_SIZE``), written in full when the service starts
(``reserve``), and afterwards only overwritten in place: rewriting blocks a file already owns needs
no free space, so the reasons are kept even while the disk is full, which is when
they arise. The JSON text is padded with spaces to the fixed size; when the reasons
do not fit, the oldest are left out. Where the file cannot be created or written, the
reasons stay in memory and one warning says so.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

logger = logging.getLogger(__name__)

FILE_NAME: Final = "unrecorded-misses.json"
FILE_SIZE: Final = 64 * 1024
"""Bytes of the file: room for about a hundred reasons (each error cut to ``MAX_ERROR``)."""
MAX_ERROR: Final = 400
_FILE_MODE: Final = 0o600

MissKind = Literal["failed", "skipped"]


@dataclass(frozen=True, slots=True)
class UnrecordedMiss:
    """Sampling instants without a sample whose reason is not stored yet.

    ``kind`` "failed": ticks that could not store (``error`` is the latest failure);
    "skipped": instants the clock passed over.
    """

    kind: MissKind
    first: datetime
    last: datetime
    count: int
    error: str = ""

    def reason(self) -> str:
        """The reason recorded with the missed sample, naming the instants."""
        span = (
            f"at {_utc_text(self.first)}"
            if self.count == 1
            else f"from {_utc_text(self.first)} to {_utc_text(self.last)}"
        )
        if self.kind == "skipped":
            return (
                f"{self.count} sampling instant(s) {span} skipped: the clock jumped forward or "
                "the service was paused"
            )
        return f"{self.count} sample(s) {span} not stored: {self.error}"


class UnrecordedMisses:
    """The reasons not stored yet, in the fixed-size file at ``path`` (module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False

    def load(self) -> list[UnrecordedMiss]:
        """The reasons a previous run could not store (none if the file is absent or unreadable)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("Cannot read %s (%s): its reasons are lost", self.path, exc)
            return []
        if not text.strip():
            return []
        try:
            return [_miss_from(item) for item in json.loads(text)["missed"]]
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("%s is not as this service writes it (%s): ignored", self.path, exc)
            return []

    def reserve(self) -> None:
        """Give the file its whole size now, while the disk has room (at start)."""
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
            try:
                self._reserve(descriptor)
            finally:
                os.close(descriptor)
        except OSError as exc:
            logger.warning(
                "Cannot reserve %s (%s): reasons of missed samples will be kept in memory only",
                self.path,
                exc.strerror or exc,
            )

    def save(self, misses: list[UnrecordedMiss]) -> None:
        """Keep ``misses`` (oldest first) in the file, instead of what it held."""
        kept = list(misses)
        data = _encoded(kept)
        while len(data) > FILE_SIZE and kept:
            kept.pop(0)
            data = _encoded(kept)
        try:
            self._overwrite(data)
        except OSError as exc:
            if not self._warned:
                logger.warning(
                    "Cannot keep the reasons of missed samples in %s (%s): they are kept in "
                    "memory until the store takes them, and lost if the service stops first",
                    self.path,
                    exc.strerror or exc,
                )
            self._warned = True
            return
        self._warned = False

    def clear(self) -> None:
        """Forget every reason: the store has them."""
        self.save([])

    def _overwrite(self, data: bytes) -> None:
        padded = data + b" " * (FILE_SIZE - len(data))
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        try:
            self._reserve(descriptor)
            os.pwrite(descriptor, padded, 0)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    @staticmethod
    def _reserve(descriptor: int) -> None:
        if os.fstat(descriptor).st_size < FILE_SIZE:
            # Whole blocks of spaces (not a sparse file), once: later writes reuse them.
            os.pwrite(descriptor, b" " * FILE_SIZE, 0)
            os.fsync(descriptor)


def _encoded(misses: list[UnrecordedMiss]) -> bytes:
    items = [
        {
            "kind": miss.kind,
            "first": miss.first.isoformat(),
            "last": miss.last.isoformat(),
            "count": miss.count,
            "error": miss.error[:MAX_ERROR],
        }
        for miss in misses
    ]
    return json.dumps({"missed": items}, ensure_ascii=True).encode("ascii")


def _miss_from(item: dict[str, object]) -> UnrecordedMiss:
    kind = item["kind"]
    if kind not in ("failed", "skipped"):
        raise ValueError(f"unknown kind {kind!r}")
    return UnrecordedMiss(
        kind=kind,
        first=_instant(item["first"]),
        last=_instant(item["last"]),
        count=int(str(item["count"])),
        error=str(item.get("error", "")),
    )


def _instant(value: object) -> datetime:
    instant = datetime.fromisoformat(str(value))
    if instant.tzinfo is None:
        raise ValueError(f"instant {value!r} has no time zone")
    return instant


def _utc_text(instant: datetime) -> str:
    """``instant`` as ISO 8601 in UTC with a ``Z``, as the API writes instants."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
