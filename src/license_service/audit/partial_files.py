"""Writing a snapshot file whole or not at all, and removing what killed runs left behind.

``writing_whole(target)`` hands out a temporary file beside ``target``, named
``.<target name>.<random>.partial``, and renames it over ``target`` only once it is
complete, so a half-written snapshot never carries the final name. While it is being
written the file is locked (``flock``); the kernel drops the lock when its process
ends, however it ends.

A run killed with ``kill -9`` cannot remove its temporary file. ``remove_stale_partials``
(called by the next run, before it writes) removes the ones that are ours by name and
that no live process writes: unlocked and untouched for ``STALE_AFTER``. It also knows
the ``.tmp`` name that earlier versions used for the standard snapshot name. Nothing
else in the folder is touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Final

from license_service.errors import InputError
from license_service.full_disks import full_disk_error

PARTIAL_SUFFIX: Final = ".partial"
STALE_AFTER: Final = timedelta(minutes=1)
"""How long a temporary file must have been left alone before a later run removes it:
a run that has just created its file may not hold the lock yet."""
_FILE_MODE: Final = 0o600
# ".<name>.<16 hex digits>.partial" (this version); ".<standard name>.<8 of mkstemp's
# characters>.tmp" (earlier versions, which had only the standard name to go by).
_OURS: Final = re.compile(
    r"\..+\.[0-9a-f]{16}\.partial"
    r"|\.license-service-snapshot_.+\.zip\.[a-z0-9_]{8}\.tmp"
)


@contextlib.contextmanager
def writing_whole(target: Path) -> Iterator[BinaryIO]:
    """A locked file to write ``target``'s bytes into; renamed to ``target`` when the block ends.

        On an exception the temporary file is removed and ``target`` is left as it was.
        Raises ``InputError`` when the folder cannot be written, ``StorageError`` when its
    disk is full.
    """
    directory = target.parent
    temporary = directory / f".{target.name}.{secrets.token_hex(8)}{PARTIAL_SUFFIX}"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    except OSError as exc:
        raise full_disk_error(exc, writing=f"in {directory}") or InputError(
            f"cannot write in {directory}: {exc.strerror or exc}; give -o a path in a "
            "directory that exists and is writable"
        ) from exc
    try:
        # Held until the file is closed (or the process ends): a run that finds it
        # locked knows a live process writes it.
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with os.fdopen(descriptor, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
            os.replace(temporary, target)
    except OSError as exc:
        raise full_disk_error(exc, writing=str(target)) or InputError(
            f"cannot write {target}: {exc.strerror or exc}"
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def remove_stale_partials(directory: Path) -> list[Path]:
    """Remove the unfinished files of snapshot runs that died in ``directory``; return them.

    Only files named as ``writing_whole`` (or an earlier version) names them, unlocked and
    unchanged for ``STALE_AFTER``, are removed; a file that cannot be examined is left.
    """
    try:
        names = [entry.name for entry in os.scandir(directory) if _OURS.fullmatch(entry.name)]
    except OSError:
        return []  # writing_whole will say what is wrong with the folder
    removed = []
    for name in sorted(names):
        path = directory / name
        if _remove_if_abandoned(path):
            removed.append(path)
    return removed


def _remove_if_abandoned(path: Path) -> bool:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        status = os.fstat(descriptor)
        young = time.time() - status.st_mtime < STALE_AFTER.total_seconds()
        if not stat.S_ISREG(status.st_mode) or young:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live run is writing it
        path.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)
