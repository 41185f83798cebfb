"""Binding the service's listening sockets before the servers start.

The sockets are bound up front, so a port already in use stops ``serve`` with
one clear line (instead of uvicorn's exit from inside a running loop), and the
command can print where it listens before the first request arrives.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from license_service.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class Listeners:
    """The bound sockets: the API's, and the metrics server's unless it is turned off."""

    api: socket.socket
    metrics: socket.socket | None

    def close(self) -> None:
        """Close every socket (when the servers never started)."""
        for sock in (self.api, self.metrics):
            if sock is not None:
                sock.close()


def bind_listener(host: str, port: int, *, flag: str) -> socket.socket:
    """A TCP socket bound to ``host``:``port``; ``ConfigurationError`` naming ``flag`` if not."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigurationError(
            f"--host {host!r} cannot be resolved ({exc.strerror}); give an address such as "
            "0.0.0.0 (every interface) or 127.0.0.1 (this machine only)"
        ) from exc
    sock = socket.socket(family, kind, protocol)
    try:
        # A restarted service may bind while the old connections are in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; stop the process that "
            f"uses the port (another License Service?) or give another {flag}"
            + _another_port_hint(family, address, flag=flag)
        ) from exc
    return sock


def _another_port_hint(family: socket.AddressFamily, address: Any, *, flag: str) -> str:
    """``, e.g. --port 8090``: a port near the taken one that is free right now (if any)."""
    hint = ""
    host, port = address[0], address[1]
    for candidate in range(port + 10, min(port + 60, 65536), 10):
        try:
            with socket.create_server((host, candidate), family=family):
                hint = f", e.g. {flag} {candidate}"
                break
        except OSError:
            continue
    if flag == "--metrics-port":
        hint += " (--metrics-port 0 turns metrics off)"
    return hint


def bind_listeners(host: str, *, port: int, metrics_port: int) -> Listeners:
    """Bind the API port and, unless ``metrics_port`` is 0, the metrics port."""
    api = bind_listener(host, port, flag="--port")
    try:
        metrics = bind_listener(host, metrics_port, flag="--metrics-port") if metrics_port else None
    except BaseException:
        api.close()
        raise
    return Listeners(api=api, metrics=metrics)
