"""Writing a private file whole or not at all: mode 0600, atomic, durable.

The API token, the audit signing key and the HTTPS key are secrets kept in files. A
reader (the running server, a second replica) must see the old content or the new,
never half of one, and no other user may ever read them. Every such file is written
here, one way: into a temporary file in the target's directory (``mkstemp`` creates
it with mode 0600, so the content is never readable by others whatever the umask),
flushed to disk, set to exactly 0600, then renamed over the target
(``replace_private_file``) or hard-linked to its name (``create_private_file``: a link
never replaces an existing file, so two processes racing end up with the same
content). The directory is synced so that the rename survives a crash.

Failures raise ``OSError``; ``TemporaryFileError`` (a subclass) says the temporary
file could not be made, i.e. the directory is missing or not writable. Callers turn
them into errors of their own family that name the file and the fix.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Final

PRIVATE_MODE: Final = 0o600


class TemporaryFileError(OSError):
    """The temporary file could not be created in the target's directory."""


def replace_private_file(path: Path, data: bytes) -> None:
    """Make ``data`` the content of ``path`` (mode 0600), replacing what is there at once."""
    _write(path, data, replace=True)


def create_private_file(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` (mode 0600); ``False`` (nothing written) if it exists."""
    return _write(path, data, replace=False)


def _write(path: Path, data: bytes, *, replace: bool) -> bool:
    directory = path.parent
    try:
        descriptor, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as error:
        raise TemporaryFileError(error.errno, error.strerror, str(directory)) from error
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, PRIVATE_MODE)  # in case the umask or a filesystem changed it
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                return False
        _sync_directory(directory)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory, which is harmless."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
