"""A write that failed because the disk is full is a storage error (exit code 3), wherever it is.

The CLI maps ``StorageError`` to exit code 3, "storage error" in the README. A token
file, a snapshot or the database that cannot be written for want of space is that
condition, whichever module writes it; ``full_disk_error`` turns such an ``OSError``
into a ``StorageError`` that says what could not be written and what to do. Pure.
"""

from __future__ import annotations

import errno
from typing import Final

from license_service.errors import StorageError

DISK_FULL_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
"""No space left on the device, or the user's disk quota is used up."""


def full_disk_error(error: OSError, *, writing: str) -> StorageError | None:
    """A ``StorageError`` when ``error`` says the disk is full, else ``None``.

    ``writing`` names what could not be written (``"/data/api-token, the API token
    file"``); the message adds that nothing was changed.
    """
    if error.errno not in DISK_FULL_ERRNOS:
        return None
    return StorageError(
        f"cannot write {writing}: {error.strerror or 'the disk is full'}; free some space "
        "on that disk (or raise the quota) and run the command again; nothing was changed"
    )
