"""A watch stream is read in blocks of what has arrived, and every line comes out whole.

The chunked body is cut at every odd place (inside a chunk-size line, inside the CRLF
after a chunk, inside an event, several events in one chunk, one event over several
chunks); the lines that come out are always the events that went in. Over a real HTTP
response from the official client, a burst of events comes out as one block and a
lone event comes out before the next one is even sent.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client
from urllib3.exceptions import ProtocolError

from license_service.cluster.kubernetes.watch_lines import dechunked, line_blocks, split_lines

EVENTS = [
    b'{"type":"ADDED","object":{"metadata":{"name":"a","annotations":{"note":"\xc3\xa9\xe2\x98\x83"}}}}',
    b'{"type":"MODIFIED","object":{"metadata":{"name":"b"},"spec":{"x":"' + b"y" * 3000 + b'"}}}',
    b'{"type":"DELETED","object":{"metadata":{"name":"c"}}}',
    b'{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}',
]


def chunked(*chunks: bytes, end: bytes = b"0\r\n\r\n") -> bytes:
    """A chunked HTTP body of ``chunks``."""
    return b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks) + end


def reads(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    """``data`` handed out in pieces ending at ``cuts``, then nothing (the connection closed)."""
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        if cut > start:
            yield data[start:cut]
            start = cut
    while True:
        yield b""


def lines_of(data: bytes, cuts: list[int]) -> list[list[bytes]]:
    pieces = reads(data, cuts)
    return list(split_lines(dechunked(lambda size: next(pieces))))


def one_event_per_chunk() -> bytes:
    return chunked(*(event + b"\n" for event in EVENTS))


def flatten(blocks: list[list[bytes]]) -> list[bytes]:
    return [line for block in blocks for line in block]


@pytest.mark.parametrize("seed", range(40))
def test_lines_come_out_whole_wherever_the_reads_cut_the_stream(seed: int) -> None:
    rng = random.Random(seed)
    # Several events in one chunk, one event over several chunks, and one per chunk.
    stream = b"".join(event + b"\n" for event in EVENTS)
    splits = sorted(rng.sample(range(1, len(stream)), 5))
    chunks = [stream[a:b] for a, b in zip([0, *splits], [*splits, len(stream)], strict=True)]
    data = chunked(*chunks)
    cuts = rng.sample(range(1, len(data)), rng.randrange(1, 30))

    assert flatten(lines_of(data, cuts)) == EVENTS


def test_a_read_of_one_byte_at_a_time_still_gives_every_line() -> None:
    data = one_event_per_chunk()

    assert flatten(lines_of(data, list(range(1, len(data))))) == EVENTS


def test_events_that_arrived_together_come_out_as_one_block() -> None:
    assert lines_of(one_event_per_chunk(), []) == [EVENTS]


def test_a_chunk_with_extensions_and_blank_keep_alive_lines_are_read() -> None:
    data = b"5;name=value\r\n\n \n\n\n\r\n" + chunked(EVENTS[2] + b"\n")

    assert lines_of(data, [3, 9]) == [[EVENTS[2]]]


def test_a_last_line_without_newline_is_given_at_the_end() -> None:
    assert lines_of(chunked(EVENTS[0], b"\n" + EVENTS[1]), [10]) == [[EVENTS[0]], [EVENTS[1]]]


def test_a_stream_cut_before_its_last_chunk_is_a_broken_connection() -> None:
    data = one_event_per_chunk()

    with pytest.raises(ProtocolError, match="Response ended prematurely"):
        lines_of(data[: len(data) - 5], [])
    with pytest.raises(ProtocolError, match="Response ended prematurely"):
        lines_of(data[:-30], [])


def test_a_chunk_size_that_is_not_one_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="Invalid chunk size line b'zz'"):
        lines_of(b"zz\r\nabc\r\n", [])
    with pytest.raises(ProtocolError, match="chunk size line exceeded"):
        lines_of(b"1" * 2000, [])


# -- over HTTP, through the official client ------------------------------------------------


class _Stream:
    """A watch answer sent in steps: each step waits for the test's go-ahead."""

    def __init__(self, steps: list[bytes]) -> None:
        self.steps = steps
        self.go = [threading.Event() for _ in steps]


def _serve(stream: _Stream) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            for go, step in zip(stream.go, stream.steps, strict=True):
                if not go.wait(10):
                    return
                self.wfile.write(step)
                self.wfile.flush()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_over_http_a_burst_is_one_block_and_a_lone_event_comes_out_at_once() -> None:
    first, second = EVENTS[0] + b"\n", EVENTS[2] + b"\n"
    burst = chunked(EVENTS[1] + b"\n", EVENTS[3][:20], end=b"")
    stream = _Stream([chunked(first, end=b""), burst, chunked(EVENTS[3][20:] + b"\n", second)])
    server = _serve(stream)
    api = client.CoreV1Api(
        client.ApiClient(client.Configuration(host=f"http://127.0.0.1:{server.server_address[1]}"))
    )
    try:
        stream.go[0].set()
        response = api.list_pod_for_all_namespaces(watch=True, _preload_content=False)
        blocks = line_blocks(response)

        assert next(blocks) == [EVENTS[0]]  # nothing more was sent: it did not wait for more
        stream.go[1].set()
        assert next(blocks) == [EVENTS[1]]  # the half event waits for its other half
        stream.go[2].set()
        assert next(blocks) == [EVENTS[3], EVENTS[2]]  # two chunks in one read: one block
        assert list(blocks) == []
        response.release_conn()
    finally:
        server.shutdown()
        server.server_close()


def test_over_http_a_connection_cut_mid_event_is_a_broken_connection() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
                + chunked(EVENTS[0] + b"\n", end=b"")
                + b"80\r\n{"
            )

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    api = client.CoreV1Api(
        client.ApiClient(client.Configuration(host=f"http://127.0.0.1:{listener.getsockname()[1]}"))
    )
    try:
        response = api.list_pod_for_all_namespaces(watch=True, _preload_content=False)
        blocks = line_blocks(response)
        assert next(blocks) == [EVENTS[0]]
        with pytest.raises(ProtocolError):
            next(blocks)
        response.release_conn()
    finally:
        thread.join(5)
        listener.close()
