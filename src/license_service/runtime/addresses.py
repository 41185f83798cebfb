"""The URLs people and tools should use to reach the service, from the sockets it listens on.

A service bound to every interface (``0.0.0.0`` or ``::``) is reached from the
same machine at the loopback address, so that is the URL printed; pure.
"""

from __future__ import annotations

import socket
from typing import Final

_EVERY_INTERFACE: Final = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


def base_url(sock: socket.socket, *, scheme: str) -> str:
    """``<scheme>://<host>:<port>`` of the bound ``sock``, a loopback host for a wildcard bind."""
    host, port = sock.getsockname()[:2]
    return url_for(host, port, scheme=scheme)


def url_for(host: str, port: int, *, scheme: str) -> str:
    """``<scheme>://<host>:<port>``, brackets around an IPv6 host; pure."""
    shown = _EVERY_INTERFACE.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"{scheme}://{shown}:{port}"
