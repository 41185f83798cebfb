"""Opening the service's store at start: private files, an intact database, never a silent new one.

A SQLite file truncated to 0 bytes, deleted, or a PostgreSQL schema dropped, looks
to the database like a new installation: opened as usual, it would be given new empty
tables and the history would be gone without a word. So the data directory remembers
the databases it has used: ``store-marker.json`` lists each one's URL (no password)
and when it was first opened. At start:

- the data directory is made private (0700) and the SQLite files 0600, where they
  were open to others and this user owns them; what was changed is logged once;
- a database the marker lists that is now empty is refused (``StorageError``, exit
  code 3) with what to do: restore it, or ``--start-over`` to begin an empty one;
- a damaged SQLite file is refused and left unchanged; with ``--start-over`` it is
  moved aside (``<file>.damaged-<time>``) and an empty database begins;
- a database the marker does not list (a first start, another ``--database-url``,
  or a data directory from before the marker) is opened as usual and then listed.

``--start-over`` never deletes anything. A marker that cannot be written (a full
disk, a read-only directory) costs only this protection: the service starts and
logs why.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final

from license_service.errors import DamagedDatabaseError, EmptyDatabaseError
from license_service.store.database import Database, shown_url, sqlite_file_of
from license_service.store.sqlite_files import COMPANION_SUFFIXES

logger = logging.getLogger(__name__)

MARKER_FILE: Final = "store-marker.json"
DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_OTHERS: Final = 0o077


def open_service_store(
    root: Path,
    *,
    database_url: str,
    start_over: bool,
    clock: Callable[[], datetime],
) -> Database:
    """Open the store of the data directory ``root`` at ``database_url`` (module docstring).

    Raises ``DamagedDatabaseError`` or ``EmptyDatabaseError`` (storage errors, exit code
    3) saying the way out, or the ``StorageError`` of ``Database.open``.
    """
    make_private(root, sqlite_file_of(database_url))
    marker = root / MARKER_FILE
    known = _read_marker(marker)
    shown = shown_url(database_url)
    first_opened = known.get(shown)
    expected = first_opened is not None and not start_over
    try:
        database = Database.open(
            database_url,
            if_empty="refuse" if expected else "create",
            if_damaged="set aside" if start_over else "refuse",
        )
    except EmptyDatabaseError as exc:
        raise EmptyDatabaseError(
            f"{exc}, but this data directory has used it since {first_opened} ({marker}): "
            "it was truncated, deleted or emptied since. Stop here and restore it from a "
            "backup; or, to begin again with an empty database and lose that history, "
            "start with --start-over"
        ) from exc
    except DamagedDatabaseError as exc:
        raise DamagedDatabaseError(
            f"{exc}; or, to begin again with an empty database, start with --start-over, "
            "which moves the damaged file aside (nothing is deleted)"
        ) from exc
    if start_over:
        logger.warning(
            "Started with --start-over: database %s is used as found (empty or not)", shown
        )
    if first_opened is None:
        known[shown] = clock().isoformat()
        _write_marker(marker, known)
    return database


def make_private(root: Path, sqlite_file: Path | None) -> list[str]:
    """Take group and other access away from ``root`` and the SQLite files; log it once.

    Returns what was changed (``"<path> 0755 -> 0700"``). Files and directories of
    another owner (a mounted volume) are left as they are.
    """
    targets = [(root, DIRECTORY_MODE)]
    if sqlite_file is not None:
        targets += [
            (Path(f"{sqlite_file}{suffix}"), FILE_MODE) for suffix in ("", *COMPANION_SUFFIXES)
        ]
    changed = []
    for path, mode in targets:
        try:
            status = path.stat()
            if status.st_mode & _OTHERS == 0 or status.st_uid != os.geteuid():
                continue
            path.chmod(mode)
        except OSError:
            continue
        changed.append(f"{path} {stat.S_IMODE(status.st_mode):04o} -> {mode:04o}")
    if changed:
        logger.warning(
            "Other users could read the service's data: tightened %s", "; ".join(changed)
        )
    return changed


def _read_marker(marker: Path) -> dict[str, str]:
    try:
        document = json.loads(marker.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning(
            "Cannot read %s (%s): it is written again; the databases it listed are not "
            "checked for emptiness at this start",
            marker,
            exc,
        )
        return {}
    databases = document.get("databases") if isinstance(document, dict) else None
    if not isinstance(databases, dict):
        return {}
    return {str(url): str(since) for url, since in databases.items()}


def _write_marker(marker: Path, databases: dict[str, str]) -> None:
    text = json.dumps({"databases": databases}, indent=2, sort_keys=True) + "\n"
    try:
        descriptor, temporary = tempfile.mkstemp(dir=marker.parent, prefix=f".{marker.name}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, marker)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    except OSError as exc:
        logger.warning(
            "Cannot write %s (%s): if this database is emptied later, the next start will "
            "not notice",
            marker,
            exc.strerror or exc,
        )
