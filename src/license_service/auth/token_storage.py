"""Reading and writing an API token file: atomic, private (mode 0600), validated first.

A token file holds the token and, optionally, one trailing newline (``echo``
and editors add one), which is not part of the token. Writes go to a temporary
file in the same directory, flushed to disk, then renamed over the target, so a
reader (the running server) sees the old token or the new one, never half of
one. A write through a symbolic link replaces the file the link points to.
Failures raise ``AuthenticationError`` naming the file and how to fix it (a full disk
``StorageError``, exit code 3); refused tokens raise ``InvalidTokenError`` before
anything is written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Final

from license_service.auth.token_rules import check_token
from license_service.errors import AuthenticationError
from license_service.full_disks import full_disk_error

FILE_MODE: Final = 0o600
DIRECTORY_MODE: Final = 0o700


def read_token_text(path: Path) -> str | None:
    """The token written in ``path`` (one trailing newline removed), or ``None`` if absent.

    The text is returned as found, without applying the token rules.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthenticationError(
            f"{path}: cannot read the API token file: {exc.strerror or exc}; "
            "check the file's permissions"
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuthenticationError(
            f"{path}: the API token file is not UTF-8 text (byte {exc.start + 1} of "
            f"{len(data)}); write a token of letters and digits"
        ) from exc
    return strip_final_newline(text)


def strip_final_newline(text: str) -> str:
    """``text`` without one trailing ``\\n`` (or ``\\r\\n``), which is not part of a token."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def write_token_file(path: Path, token: str, *, force: bool = False) -> None:
    """Check ``token`` against the rules, then write it to ``path`` atomically with mode 0600.

    Replaces an existing file; creates the parent directory (mode 0700) if needed.
    """
    check_token(token, force=force)
    _write_atomically(path, token, replace=True)


def create_token_file(path: Path, token: str) -> bool:
    """Write ``token`` to ``path`` like ``write_token_file`` unless a file is already there.

    Returns ``False`` (and leaves the file alone) when ``path`` exists, so two
    processes starting at once never end up with different tokens.
    """
    check_token(token)
    return _write_atomically(path, token, replace=False)


def _write_atomically(path: Path, token: str, *, replace: bool) -> bool:
    target = path.resolve() if path.is_symlink() else path
    directory = target.parent
    try:
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600, so the token is never readable by others.
        descriptor, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as exc:
        raise full_disk_error(exc, writing=f"{path}, the API token file") or AuthenticationError(
            f"{path}: cannot write the API token file: {exc.strerror or exc}; "
            f"make {directory} writable, or give another --data-dir / --token-file"
        ) from exc
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as stream:
            stream.write(f"{token}\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, FILE_MODE)  # in case the umask or a filesystem changed it
        if replace:
            os.replace(temporary, target)
        else:
            try:
                # A hard link never replaces an existing file, unlike a rename.
                os.link(temporary, target)
            except FileExistsError:
                return False
        _sync_directory(directory)
        return True
    except OSError as exc:
        raise full_disk_error(exc, writing=f"{path}, the API token file") or AuthenticationError(
            f"{path}: cannot write the API token file: {exc.strerror or exc}; "
            f"make {directory} writable (a mounted Secret is read-only: update the Secret "
            "instead)"
        ) from exc
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
