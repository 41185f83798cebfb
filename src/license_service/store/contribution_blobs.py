"""A day's breakdown as stored once the day is over: compressed JSON, one list per row (SPEC 9).

msgspec writes the JSON (NamedTuples as arrays) and zlib's fastest level packs it: a
breakdown of 50,000 rows costs milliseconds, and names repeat enough that the fastest
level keeps most of the gain. Today's breakdowns are kept as cells instead
(``explanation_cells``): faster to write, larger.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Final

import msgspec

from license_service.errors import StorageError
from license_service.metering.usage_explanations import Contribution

_FORMAT: Final = 1


def encode_contributions(contributions: Iterable[Contribution]) -> bytes:
    """The stored form of ``contributions``: compressed JSON, one list per row."""
    document = {"format": _FORMAT, "rows": list(contributions)}
    return zlib.compress(msgspec.json.encode(document), 1)


def decode_contributions(blob: bytes) -> tuple[Contribution, ...]:
    """The contributions stored as ``blob``; ``StorageError`` when it is not ours."""
    try:
        document = msgspec.json.decode(zlib.decompress(blob))
        if document.get("format") != _FORMAT:
            raise ValueError(f"format {document.get('format')!r}")
        return tuple(Contribution(*row) for row in document["rows"])
    except (
        zlib.error,
        msgspec.DecodeError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
    ) as exc:
        raise StorageError(
            f"a stored usage explanation cannot be read ({exc}); it was written by another "
            "program or damaged: the next sample that raises the day's peak writes it again"
        ) from exc
