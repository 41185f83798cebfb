"""The lines of a watch stream, read in blocks of whatever has arrived.

The API server flushes every watch event as its own HTTP chunk. urllib3's
``stream()`` hands out one chunk per step, through several layers of Python per
chunk: at tens of thousands of events per second that costs as much as decoding
them. Here the chunked body is read from the response's own buffered socket file in
blocks (``read1``: whatever is there, waiting only when nothing is), the chunk framing
is removed and the block split into lines, so one step yields every event that has
arrived: the caller takes its lock and reads its clock once per block, and an event
is still applied as soon as it arrives (nothing waits for a block to fill).

The request and the response's status and headers stay the official client's
(urllib3 underneath); only the body's transfer coding is read here. When the response
is not a plain chunked one this module can read (compressed, not chunked, already
read from, or a urllib3 without the attributes used), the lines come from urllib3's
own ``stream()`` instead: the same lines, one batch per chunk.

Failures are urllib3's: a cut connection is a ``ProtocolError`` (``Response ended
prematurely`` when the stream stops before its last chunk), a read timeout a
``ReadTimeoutError``, as when urllib3 reads the chunks itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Final, cast

from urllib3.exceptions import ProtocolError

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

BLOCK_BYTES: Final = 256 * 1024
"""The most one read takes; less whenever less has arrived."""
_MAX_SIZE_LINE: Final = 1024  # a chunk-size line is a few hex digits (and extensions)

ReadBlock = Callable[[int], bytes]


def line_blocks(response: HTTPResponse) -> Iterator[list[bytes]]:
    """The non-empty lines of a watch stream, one list per block of bytes received.

    Ends when the server ends the stream; a connection cut mid-stream raises the
    urllib3 error (``ProtocolError``, ``ReadTimeoutError``).
    """
    read = _block_reader(response)
    if read is None:
        yield from split_lines(response.stream(amt=None, decode_content=True))
        return
    yield from split_lines(dechunked(read))


def split_lines(pieces: Iterator[bytes]) -> Iterator[list[bytes]]:
    """The non-empty lines of consecutive body pieces; a line split over pieces is joined."""
    pending: list[bytes] = []
    for piece in pieces:
        if b"\n" not in piece:
            pending.append(piece)
            continue
        if pending:
            pending.append(piece)
            data = b"".join(pending)
            pending = []
        else:
            data = piece
        *lines, rest = data.split(b"\n")
        if rest:
            pending.append(rest)
        batch = [line for line in lines if line and not line.isspace()]
        if batch:
            yield batch
    tail = b"".join(pending)
    if tail.strip():
        yield [tail]


def dechunked(read: ReadBlock) -> Iterator[bytes]:
    """The body of a chunked HTTP response read by ``read(n)``: every data byte of each block.

    Ends after the last (empty) chunk; its trailer is left unread (the caller closes
    the connection). A read that returns nothing before the last chunk is a
    ``ProtocolError``, as is a chunk-size line that is not one.
    """
    head = b""  # an unfinished chunk-size line, carried to the next block
    left = 0  # data bytes of the current chunk still to come
    skip = 0  # bytes of the CRLF that ends a chunk's data still to come
    while True:
        block = read(BLOCK_BYTES)
        if not block:
            raise ProtocolError("Response ended prematurely")
        if head:
            block, head = head + block, b""
        end = len(block)
        position = 0
        pieces: list[bytes] = []
        while position < end:
            if left:
                taken = min(left, end - position)
                pieces.append(block[position : position + taken])
                left -= taken
                position += taken
                skip = 0 if left else 2
            elif skip:
                skipped = min(skip, end - position)
                skip -= skipped
                position += skipped
            else:
                newline = block.find(b"\n", position)
                if newline < 0:
                    head = block[position:]
                    if len(head) > _MAX_SIZE_LINE:
                        raise ProtocolError("Response chunk size line exceeded maximum length")
                    break
                left = _chunk_size(block[position:newline])
                position = newline + 1
                if not left:
                    if pieces:
                        yield b"".join(pieces)
                    return
        if pieces:
            yield pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    if not text or text.startswith((b"-", b"+")):
        raise ProtocolError(f"Invalid chunk size line {line.strip()[:40]!r}")
    try:
        return int(text, 16)
    except ValueError:
        raise ProtocolError(f"Invalid chunk size line {line.strip()[:40]!r}") from None


def _block_reader(response: HTTPResponse) -> ReadBlock | None:
    """``read(n)`` of the response's raw chunked body, or ``None`` when it cannot be read so."""
    encoding = str(response.headers.get("content-encoding", "identity")).strip().lower()
    original = getattr(response, "_fp", None)
    raw = getattr(original, "fp", None)
    read1 = getattr(raw, "read1", None)
    catcher = getattr(response, "_error_catcher", None)
    if (
        not response.chunked
        or encoding not in ("", "identity")
        or response.chunk_left is not None
        or response.tell() != 0
        or read1 is None
        or catcher is None
    ):
        return None
    read_raw = cast(ReadBlock, read1)
    errors = cast(Callable[[], contextlib.AbstractContextManager[None]], catcher)

    def read(size: int) -> bytes:
        # urllib3's own translation of socket errors and timeouts, and its clean-up.
        with errors():
            return read_raw(size)

    return read
