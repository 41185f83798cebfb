"""A SQLite database file looked at before it is opened: present, intact, private.

SQLite makes a new, empty database of a path that does not exist or of a file of 0
bytes, and opens a file with overwritten pages without a word until a query reaches
them. ``check_sqlite_file`` tells these cases apart before the store opens the file:

- absent or 0 bytes: an empty store, which the caller may refuse (``EmptyDatabaseError``);
  a new file is created with mode 0600, so the store is private whatever the umask;
- not a database, or failing ``PRAGMA quick_check``: ``DamagedDatabaseError``, the file
  left as it is, unless the caller asks to set it aside (renamed with its ``-wal`` and
  ``-shm`` files to ``<name>.damaged-<UTC time>``, never deleted) and begin anew.

SQLite gives a database's ``-wal`` and ``-shm`` files the mode of the database file,
so a 0600 database keeps its companions private too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from license_service.errors import DamagedDatabaseError, EmptyDatabaseError

logger = logging.getLogger(__name__)

FILE_MODE: Final = 0o600
COMPANION_SUFFIXES: Final = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database file, which belong with it."""
_BUSY_TIMEOUT_SECONDS: Final = 10
# Result codes that mean the file's content is not a sound database.
_DAMAGE_CODES: Final = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_FIX: Final = "restore the file from a backup"

IfEmpty = Literal["create", "refuse"]
IfDamaged = Literal["refuse", "set aside"]


def check_sqlite_file(
    path: Path,
    *,
    if_empty: IfEmpty,
    if_damaged: IfDamaged,
    now: Callable[[], datetime],
) -> None:
    """Make sure the store may open the SQLite file at ``path`` (see the module docstring).

    Raises ``EmptyDatabaseError`` (absent or 0 bytes, when ``if_empty`` is "refuse")
    or ``DamagedDatabaseError`` (when ``if_damaged`` is "refuse"); a file that cannot
    be read at all is left for the store's own open to report.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if if_empty == "refuse":
            raise EmptyDatabaseError(f"the database file {path} does not exist") from None
        _create_private(path)
        return
    except OSError:
        return
    if size == 0:
        if if_empty == "refuse":
            raise EmptyDatabaseError(f"the database file {path} is empty (0 bytes)")
        return
    problem = integrity_problem(path)
    if problem is None:
        return
    if if_damaged == "refuse":
        raise DamagedDatabaseError(
            f"the database file {path} is damaged ({problem}); it was left unchanged: {_FIX}"
        )
    aside = set_aside(path, now=now)
    logger.warning(
        "The database file %s is damaged (%s): moved to %s, and an empty database begins",
        path,
        problem,
        aside,
    )
    if if_empty == "create":
        _create_private(path)


def integrity_problem(path: Path, *, busy_timeout: float = _BUSY_TIMEOUT_SECONDS) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong with the database at ``path``, or ``None``.

    ``None`` also when the file cannot be opened, or stays locked ``busy_timeout``
    seconds: that is not damage, and the store's own open says what it is.
    """
    uri = f"{path.resolve().as_uri()}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=busy_timeout)
    except sqlite3.Error:
        return None
    try:
        rows = connection.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES:
            return str(exc)
        return None
    finally:
        connection.close()
    findings = [str(row[0]) for row in rows]
    if findings == ["ok"]:
        return None
    return "quick_check: " + "; ".join(findings)


def set_aside(path: Path, *, now: Callable[[], datetime]) -> Path:
    """Rename the database at ``path`` and its companion files; return the database's new path."""
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", *COMPANION_SUFFIXES):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    return aside


def _create_private(path: Path) -> None:
    """Create an empty file with mode 0600 for SQLite to make a database of."""
    # A missing directory or no permission: SQLite's own open reports it.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
