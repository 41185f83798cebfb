"""How many connections and requests each HTTP server may hold, within the process's file budget.

Every open connection holds a file descriptor, and the process has a fixed number
(``RLIMIT_NOFILE``). Connections that were never capped once used them all: then
neither server could accept, the store could not open its files and samples were
skipped. ``server_limits`` divides the budget: a reserve (a quarter, at least
``MIN_RESERVED_FDS``) stays for the store, the dump files, the Kubernetes API, the
logs and the connections accepted in one go before they are counted
(``ACCEPT_BACKLOG``); the metrics server gets a small share and the API the rest, up
to ``MAX_API_CONNECTIONS``. Requests being answered at once are capped lower than
connections: an idle connection costs a descriptor, a request costs a thread and
memory. Pure: the descriptor limit is a parameter.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from typing import Final

HEAD_TIMEOUT_SECONDS: Final = 5.0
"""A connection must send a whole request head this soon after it opens or after its last answer."""
WRITE_STALL_SECONDS: Final = 60.0
"""A client that reads none of its answer for this long is disconnected."""
ACCEPT_BACKLOG: Final = 64
"""Connections the kernel queues, and asyncio accepts in one go, before they are counted."""
MIN_RESERVED_FDS: Final = 64 + 4 * ACCEPT_BACKLOG
MAX_API_CONNECTIONS: Final = 2048
MAX_API_REQUESTS: Final = 128
MAX_METRICS_CONNECTIONS: Final = 32
MAX_METRICS_REQUESTS: Final = 8
LIVENESS_PATH: Final = "/livez"


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one server may hold at once.

    Past ``max_connections`` a new connection closes the one that has waited longest
    for a request head (or, when every connection is busy, is answered 503 at once);
    past ``max_requests`` in progress a request is answered 503, except the paths of
    ``always_answered`` (the liveness probe must not fail because clients crowd in).
    """

    max_connections: int
    max_requests: int
    head_timeout: float = HEAD_TIMEOUT_SECONDS
    write_stall: float = WRITE_STALL_SECONDS
    always_answered: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.max_requests < 1:
            raise ValueError(f"limits must be positive: {self}")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The limits of the API server and of the metrics server."""

    api: ConnectionLimits
    metrics: ConnectionLimits


def server_limits(fd_limit: int) -> ServerLimits:
    """The limits for a process that may open ``fd_limit`` file descriptors; pure."""
    reserved = max(MIN_RESERVED_FDS, fd_limit // 4)
    budget = max(fd_limit - reserved, 8)
    metrics_connections = max(2, min(MAX_METRICS_CONNECTIONS, budget // 8))
    api_connections = max(4, min(MAX_API_CONNECTIONS, budget - metrics_connections))
    return ServerLimits(
        api=ConnectionLimits(
            max_connections=api_connections,
            max_requests=max(2, min(MAX_API_REQUESTS, api_connections // 2)),
            always_answered=frozenset({LIVENESS_PATH}),
        ),
        metrics=ConnectionLimits(
            max_connections=metrics_connections,
            max_requests=max(1, min(MAX_METRICS_REQUESTS, metrics_connections // 2)),
        ),
    )


def process_fd_limit() -> int:
    """The number of file descriptors this process may open (the soft ``RLIMIT_NOFILE``)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return hard if hard != resource.RLIM_INFINITY else 1 << 20
    return soft
