"""One running service per data directory, and per SQLite database: exclusive lock files.

Two servers on one data directory would both sample into one SQLite file (the
second one's samples refused, with a warning every interval) and both follow its
token file and key. ``serve`` and ``demo`` take ``DataDirLock``
(``DATA_DIR/license-service.lock``) before they open anything in the directory; a
second one refuses to start with a message naming the pid of the first.

Two data directories given one SQLite ``--database-url`` would as well write into
one file, each believing it owns it (two samplers). So before a SQLite database is
opened, ``DatabaseFileLock`` locks ``<file>.lock`` beside it (never the database file:
SQLite keeps its own locks there, and closing any descriptor of a file drops a
process's POSIX locks on it), refused the same way. A PostgreSQL database is shared
on purpose by replicas, which elect a leader: it takes no lock.

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
- Commands that read the directory or the database, or replace the token file atomically
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
DATABASE_LOCK_SUFFIX: Final = ".lock"
"""A SQLite database's lock file is the file's path with this added."""
_MODE: Final = 0o600
# What flock fails with where the file system has no locks.
_NO_LOCKS: Final = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})


@dataclass(slots=True)
class ProcessLock:
    """An exclusive lock held by this process on ``path`` until ``release``."""

    path: Path
    _descriptor: int | None

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


class DataDirLock(ProcessLock):
    """The lock on one data directory."""

    __slots__ = ()

    @classmethod
    def acquire(
        cls, root: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> DataDirLock:
        """Lock the data directory ``root`` (which must exist) for this process.

        Raises ``ConfigurationError`` naming the holder's pid when another process holds
        it, or saying why the lock file cannot be opened.
        """
        path = root / LOCK_FILE
        descriptor = _take(
            path,
            in_use=lambda holder: (
                f"data directory {root} is in use by another License Service ({holder}); "
                "stop that one first, or give this one another --data-dir"
            ),
            unopenable="give a writable --data-dir",
            unprotected="nothing stops a second service on this data directory",
            clock=clock,
        )
        return cls(path, descriptor)


class DatabaseFileLock(ProcessLock):
    """The lock on one SQLite database file, in ``<file>.lock`` beside it (SQLite keeps its
    own locks on the file itself; a lock of ours there could be dropped by SQLite's)."""

    __slots__ = ()

    @classmethod
    def acquire(
        cls, database_file: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> DatabaseFileLock:
        """Lock the SQLite database ``database_file`` for this process (its directory must
        exist). Raises ``ConfigurationError`` naming the holder's pid when another process
        holds it, or saying why the lock file cannot be opened."""
        shown = database_file.absolute()
        path = shown.with_name(shown.name + DATABASE_LOCK_SUFFIX)
        descriptor = _take(
            path,
            in_use=lambda holder: (
                f"SQLite database {shown} is in use by another License Service ({holder}), "
                "with another data directory: two services writing one SQLite file would each "
                "sample into it as if it were theirs alone. Stop that one first, or give this "
                "one its own --database-url (for several replicas of one cluster, use a "
                "PostgreSQL --database-url: they elect a leader)"
            ),
            unopenable="give a --database-url in a writable directory",
            unprotected="nothing stops a second service on this SQLite database",
            clock=clock,
        )
        return cls(path, descriptor)


def _take(
    path: Path,
    *,
    in_use: Callable[[str], str],
    unopenable: str,
    unprotected: str,
    clock: Callable[[], datetime],
) -> int | None:
    """Lock ``path`` (module docstring): its descriptor, or ``None`` where the file system
    has no locks. ``ConfigurationError`` with ``in_use(holder)`` when another holds it."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _MODE)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot open the lock file {path}: {exc.strerror or exc}; {unopenable}"
        ) from exc
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(descriptor)
        os.close(descriptor)
        raise ConfigurationError(in_use(holder)) from None
    except OSError as exc:
        os.close(descriptor)
        if exc.errno not in _NO_LOCKS:
            raise ConfigurationError(f"cannot lock {path}: {exc.strerror or exc}") from exc
        # A file system without locks (some network or FUSE volumes) served before the
        # lock existed: it still does, with the risk said once.
        logger.warning("Cannot lock %s (%s): %s", path, exc.strerror or exc, unprotected)
        return None
    started = clock().astimezone(UTC).isoformat().replace("+00:00", "Z")
    try:
        _write(descriptor, {"pid": os.getpid(), "startedAt": started})
    except OSError as exc:
        # A full disk: the pid only explains the lock, which holds without it.
        logger.warning(
            "Cannot write this process's pid into %s (%s); the lock holds all the same",
            path,
            exc.strerror or exc,
        )
    return descriptor


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
