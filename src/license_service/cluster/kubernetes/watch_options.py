"""How the collector talks to the API server: page size, timeouts, backoff and grace.

The defaults suit a real cluster: pages of 500 (as kubectl), watches the server ends
after 5 minutes (well inside the sampler's 15-minute staleness rule, so even a server
that sends no bookmarks confirms every resource that often), reconnects between 0.5 s
and 30 s apart, and a view still counted as synchronised for 15 minutes of reconnecting
(the SPEC 2.7 limit; ``observed_at`` stops advancing meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass

from license_service.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """Tuning of the list+watch loops; every duration is in seconds."""

    page_size: int = 500
    watch_timeout_seconds: int = 300
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0
    backoff_initial_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0
    reconnect_grace_seconds: float = 900.0
    max_list_restarts: int = 5

    def __post_init__(self) -> None:
        problems = [
            f"{name} is {value}, it must be at least {minimum}"
            for name, value, minimum in (
                ("page_size", self.page_size, 1),
                ("watch_timeout_seconds", self.watch_timeout_seconds, 1),
                ("connect_timeout_seconds", self.connect_timeout_seconds, 0.001),
                ("read_timeout_seconds", self.read_timeout_seconds, 0.001),
                ("backoff_initial_seconds", self.backoff_initial_seconds, 0.0),
                ("backoff_cap_seconds", self.backoff_cap_seconds, self.backoff_initial_seconds),
                ("reconnect_grace_seconds", self.reconnect_grace_seconds, 0.0),
                ("max_list_restarts", self.max_list_restarts, 0),
            )
            if value < minimum
        ]
        if problems:
            raise ConfigurationError("invalid watch options: " + "; ".join(problems))

    @property
    def watch_read_timeout_seconds(self) -> float:
        """How long a watch may stay silent before it counts as dropped.

        The server ends a watch after ``watch_timeout_seconds``; waiting that long plus
        a margin catches a connection that hangs without being closed.
        """
        return self.watch_timeout_seconds + self.read_timeout_seconds
