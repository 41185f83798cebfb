"""The API token kept in a file: where it is, reading it, writing it (validated first).

Outside Kubernetes the token lives in ``api-token`` of the data directory unless
``--token-file`` names another file (``token_file_path``), so the server and
``license-service token`` always act on the same file. A token file holds the token
and, optionally, one trailing newline, which is not part of the token. Writes are
atomic and private (mode 0600, ``private_files``): a reader (the running server) sees
the old token or the new one, never half of one. A write through a symbolic link
replaces the file the link points to. Failures raise ``AuthenticationError`` naming
the file and how to fix it (a full disk: ``StorageError``, exit code 3); refused tokens
raise ``InvalidTokenError`` before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from license_service.errors import AuthenticationError, StorageError
from license_service.full_disks import full_disk_error
from license_service.private_files import (
    TemporaryFileError,
    create_private_file,
    replace_private_file,
)
from license_service.tokens.rules import check_token, strip_final_newline

# The file's name, not a token.
DATA_DIR_TOKEN_FILE: Final = "api-token"  # noqa: S105
DIRECTORY_MODE: Final = 0o700


def token_file_path(data_dir: Path) -> Path:
    """The API token file of the server whose data directory is ``data_dir``."""
    return data_dir / DATA_DIR_TOKEN_FILE


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


def write_token_file(path: Path, token: str, *, forced: bool = False) -> None:
    """Check ``token`` against the rules, then write it to ``path`` atomically with mode 0600.

    ``forced`` (``token set --force``) accepts 8 to 15 characters. Replaces an existing
    file; creates the parent directory (mode 0700) if needed.
    """
    check_token(token, forced=forced)
    _write(path, token, replace=True)


def create_token_file(path: Path, token: str) -> bool:
    """Write ``token`` to ``path`` like ``write_token_file`` unless a file is already there.

    Returns ``False`` (and leaves the file alone) when ``path`` exists, so two
    processes starting at once never end up with different tokens.
    """
    check_token(token)
    return _write(path, token, replace=False)


def _write(path: Path, token: str, *, replace: bool) -> bool:
    target = path.resolve() if path.is_symlink() else path
    directory = target.parent
    unwritable = f"make {directory} writable, or give another --data-dir / --token-file"
    try:
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(path, exc, fix=unwritable) from exc
    data = f"{token}\n".encode("ascii")
    try:
        if replace:
            replace_private_file(target, data)
            return True
        return create_private_file(target, data)
    except TemporaryFileError as exc:
        raise _cannot_write(path, exc, fix=unwritable) from exc
    except OSError as exc:
        read_only = (
            f"make {directory} writable (a mounted Secret is read-only: update the Secret instead)"
        )
        raise _cannot_write(path, exc, fix=read_only) from exc


def _cannot_write(path: Path, error: OSError, *, fix: str) -> AuthenticationError | StorageError:
    # A full disk is a storage condition (exit code 3), not a problem of the token.
    return full_disk_error(error, writing=f"{path}, the API token file") or AuthenticationError(
        f"{path}: cannot write the API token file: {error.strerror or error}; {fix}"
    )
