"""The process runs out of file descriptors: one warning per streak, and the service recovers.

The connection limits keep the service's own connections within its descriptor
budget, so to make it run short the test lowers the running process's limit
(``prlimit``) below what it already holds and then connects. Before, asyncio
logged every failed accept with a traceback (thousands a second: "socket.accept()
out of system resource"); now the shortage is one WARNING, and once the limit is
back the same process answers again.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from pathlib import Path

import httpx

from tests.e2e.processes import eventually, start_service

SHORT_FOR_SECONDS = 3.0


def test_running_out_of_descriptors_is_logged_once_and_the_service_recovers(
    tmp_path: Path,
) -> None:
    service = start_service(tmp_path, fd_limit=1024)
    pid = service.process.pid
    try:
        limit = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        held_now = len(os.listdir(f"/proc/{pid}/fd"))
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (held_now + 4, limit[1]))
        connections = []
        started = time.monotonic()
        while time.monotonic() - started < SHORT_FOR_SECONDS:
            connection = socket.socket()
            connection.setblocking(False)
            connection.connect_ex(("127.0.0.1", service.port))
            connections.append(connection)
            time.sleep(0.01)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, limit)
        for connection in connections:
            connection.close()
        # The token file could not be read meanwhile (fail closed): it is read again each second.
        answered = eventually(
            lambda: (
                httpx.get(
                    f"{service.url}/products", params={"token": service.token}, timeout=2
                ).status_code
                == 200
            ),
            within=10,
            what="/products answering again",
        )
    finally:
        service.stop()
    log = service.log()

    assert answered
    warnings = [line for line in log.splitlines() if "Connections cannot be accepted" in line]
    assert len(warnings) == 1, warnings
    assert "Too many open files (EMFILE)" in warnings[0]
    assert "Traceback" not in log
    assert "out of system resource" not in log
    print(
        f"\n{len(connections)} connections tried over {SHORT_FOR_SECONDS:g} s with no "
        f"descriptor free: {len(warnings)} warning, {log.count('Traceback')} tracebacks, "
        f"{len(log.splitlines())} log lines in all"
    )
