"""The life of one followed object (the token Secret, the IBMLicensing resources), in one place.

A followed object is a list+watch loop in its own thread (``cluster.kubernetes``)
whose changes a subclass turns into what the service uses (a token reading, a
configuration document). Starting, stopping, waiting for the first list and the
health shown under ``/health`` are the same for every one of them: this base class
holds them, over the loop it is given.
"""

from __future__ import annotations

from typing import Protocol


class WatchLoop(Protocol):
    """What the service asks of a running list+watch loop."""

    @property
    def last_error(self) -> str | None:
        """The latest unresolved failure, or ``None``."""
        ...

    @property
    def running(self) -> bool:
        """Whether the loop's thread is alive."""
        ...

    def start(self) -> None:
        """Start the loop in its thread."""
        ...

    def stop(self) -> None:
        """Stop the loop."""
        ...

    def wait_listed(self, timeout: float) -> bool:
        """Wait until the first list was handled; False after ``timeout`` seconds."""
        ...


class FollowedObjects:
    """Starts, stops and reports on the loop following some objects (``_loop``)."""

    _loop: WatchLoop

    @property
    def last_error(self) -> str | None:
        """The latest unresolved failure to follow the objects, or ``None``."""
        return self._loop.last_error

    @property
    def running(self) -> bool:
        """Whether the watch thread is alive."""
        return self._loop.running

    def start(self) -> None:
        """Start following (a thread); the first change is handed on after the first list."""
        self._loop.start()

    def stop(self) -> None:
        """Stop following."""
        self._loop.stop()

    def wait_listed(self, timeout: float) -> bool:
        """Wait until the objects were listed once; False after ``timeout`` seconds."""
        return self._loop.wait_listed(timeout)
