"""Logging trouble that repeats many times a second once per streak, not once per occurrence.

When the process runs out of file descriptors, asyncio logs every accept that
fails, with a traceback (tens of thousands a minute: the log filled with them and
the service slowed down further). ``ResourceShortage.exception_handler`` replaces
the event loop's handler: an ``EMFILE``, ``ENFILE``, ``ENOBUFS`` or ``ENOMEM`` error
opens a ``Streak``, logged once as a warning; every other error goes to the
loop's default handler. The first connection accepted after ``SHORTAGE_QUIET_SECONDS``
without a failure (``accepted``) ends the streak with one line saying how many
accepts failed. ``Streak`` serves any such trouble
(requests refused for overload use it too). Everything runs on the loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Final

logger = logging.getLogger(__name__)

SHORTAGE_ERRNOS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
SHORTAGE_QUIET_SECONDS: Final = 10.0
"""A shortage ends at the first connection accepted after this long without a failure."""


@dataclass
class Streak:
    """Occurrences of one trouble: the first is logged as a warning, the end once at INFO.

    ``started`` is logged with the first occurrence's detail, ``ended`` with the count.
    ``end`` closes the streak only after ``quiet`` seconds without an occurrence, so
    trouble that comes and goes many times a second is still one streak.
    """

    log: logging.Logger
    _: KW_ONLY
    started: str
    ended: str
    quiet: float = 0.0
    clock: Callable[[], float] = time.monotonic
    count: int = field(default=0, init=False)
    _last: float = field(default=0.0, init=False, repr=False)

    def occurred(self, detail: object) -> None:
        """One more occurrence; only the first of a streak is logged."""
        if self.count == 0:
            self.log.warning(self.started, detail)
        self.count += 1
        self._last = self.clock()

    def end(self) -> None:
        """Things went well: after ``quiet`` seconds without trouble, say how often it occurred."""
        if self.count and self.clock() - self._last >= self.quiet:
            self.log.info(self.ended, self.count)
            self.count = 0


class ResourceShortage:
    """The process's descriptor and memory shortages, as the event loop reports them."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._streak = Streak(
            logger,
            started=(
                "Connections cannot be accepted: %s. Clients wait or are refused until "
                "descriptors are free; this is said once until a connection is accepted again"
            ),
            ended="Connections are accepted again, after %d failed attempts",
            quiet=SHORTAGE_QUIET_SECONDS,
            clock=clock,
        )

    @property
    def failures(self) -> int:
        """Failed attempts in the current streak (0 when there is none)."""
        return self._streak.count

    def exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """An event loop exception handler: shortages counted, anything else logged as usual."""
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in SHORTAGE_ERRNOS:
            name = errno.errorcode.get(error.errno or 0, "?")
            self._streak.occurred(f"{error.strerror} ({name})")
            return
        loop.default_exception_handler(context)

    def accepted(self) -> None:
        """A connection was accepted: a shortage, if any, may be over."""
        self._streak.end()

    @contextlib.contextmanager
    def handling(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """Make ``exception_handler`` the handler of ``loop`` while the block runs."""
        previous = loop.get_exception_handler()
        loop.set_exception_handler(self.exception_handler)
        try:
            yield
        finally:
            loop.set_exception_handler(previous)
