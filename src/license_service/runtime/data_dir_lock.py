"""One running service per data directory: an exclusive lock on ``DATA_DIR/license-service.lock``.

Two servers on one data directory would both sample into one SQLite file (the
second one's samples refused, with a warning every interval) and both follow its
token file and key. ``serve`` and ``demo`` take this lock before they open anything
in the directory; a second one refuses to start with a message naming the pid of
the first.

Guarantees:

- ``flock(LOCK_EX | LOCK_NB)`` on an open file: the kernel releases the lock when the
  process ends, however it ends (``kill -9`` included), so there is never a stale lock
  to clean up by hand; the descriptor is not inherited by child processes.
- A file system that has no locks at all does not stop the service: it starts, with a
  warning that nothing keeps a second one off the directory.
- The file is never removed (a process starting meanwhile could lock a file that was
  just unlinked, and two processes would hold "the" lock). What it holds, the holder's
  pid and start time, only explains the lock: written once the lock is held, emptied
  when it is released.
- Commands that read the directory, or replace the token file atomically
  (``token get|set|generate``, ``snapshot create``), take no lock: they work beside a
  running server, which is how an operator rotates its token or takes a snapshot.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from license_service.errors import ConfigurationError

logger = logging.getLogger(__name__)

LOCK_FILE: Final = "license-service.lock"
"""The lock file of a data directory."""
_MODE: Final = 0o600
# What flock fails with where the file system has no locks.
_NO_LOCKS: Final = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})


@dataclass(slots=True)
class DataDirLock:
    """The lock on one data directory, held by this process until ``release``."""

    path: Path
    _descriptor: int | None

    @classmethod
    def acquire(
        cls, root: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> DataDirLock:
        """Lock the data directory ``root`` (which must exist) for this process.

        Raises ``ConfigurationError`` naming the holder's pid when another process holds
        it, or saying why the lock file cannot be opened.
        """
        path = root / LOCK_FILE
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _MODE)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot open the lock file {path}: {exc.strerror or exc}; give a writable "
                "--data-dir"
            ) from exc
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            os.close(descriptor)
            raise ConfigurationError(
                f"data directory {root} is in use by another License Service ({holder}); "
                "stop that one first, or give this one another --data-dir"
            ) from None
        except OSError as exc:
            os.close(descriptor)
            if exc.errno not in _NO_LOCKS:
                raise ConfigurationError(f"cannot lock {path}: {exc.strerror or exc}") from exc
            # A file system without locks (some network or FUSE volumes) served before the
            # lock existed: it still does, with the risk said once.
            logger.warning(
                "Cannot lock %s (%s): nothing stops a second service on this data directory",
                path,
                exc.strerror or exc,
            )
            return cls(path, None)
        started = clock().astimezone(UTC).isoformat().replace("+00:00", "Z")
        _write(descriptor, {"pid": os.getpid(), "startedAt": started})
        return cls(path, descriptor)

    @property
    def held(self) -> bool:
        """Whether this process still holds the lock."""
        return self._descriptor is not None

    def release(self) -> None:
        """Empty the file and let the lock go; calling it again does nothing."""
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is None:
            return
        try:
            os.ftruncate(descriptor, 0)
        finally:
            # Closing the descriptor releases the lock.
            os.close(descriptor)


def _holder(descriptor: int) -> str:
    """Who holds the lock, from what the holder wrote: ``pid 1234, started ...``."""
    try:
        content = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
        pid, started = content.get("pid"), content.get("startedAt")
    except (OSError, ValueError, AttributeError):
        pid = started = None
    if not isinstance(pid, int):
        # Between the holder's flock and its write, or a file of another program.
        return "its pid is not written in the lock file yet"
    return f"pid {pid}, started {started}" if isinstance(started, str) else f"pid {pid}"


def _write(descriptor: int, content: dict[str, object]) -> None:
    data = (json.dumps(content) + "\n").encode()
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, data, 0)
