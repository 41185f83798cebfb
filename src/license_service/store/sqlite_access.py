"""Why a SQLite database cannot be used by this process, said in words an operator acts on.

SQLite writes the database file and, beside it, its ``-wal``, ``-shm`` and ``-journal``
files, so the store needs to write both the file and its directory. SQLite itself
reports these failures as "unable to open database file" or "attempt to write a
readonly database" (or not at all until the first sample, for a read-only file), which
name neither the file nor the reason. ``write_problem`` looks before the store opens
the file: a missing or unwritable directory, a read-only file or file system. It asks
the system the question SQLite will ask (``os.access``), so root, ACLs and read-only
mounts are judged as SQLite will meet them. ``open_problem`` turns the error of an
open that failed anyway into a sentence: a file that is not a database, or is damaged.

Messages name the path, what is wrong and the fix; they never show file contents.
"""

from __future__ import annotations

import os
import pwd
import sqlite3
import stat
from pathlib import Path
from typing import Final

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

_COMPANIONS: Final = "its -wal and -shm files"
_ELSEWHERE: Final = "or give another --data-dir (or --database-url)"
_NOT_A_DATABASE: Final = 26  # SQLITE_NOTADB
_CORRUPT: Final = 11  # SQLITE_CORRUPT


def write_problem(path: Path) -> str | None:
    """Why this process cannot write the SQLite database at ``path`` (and its companions)."""
    directory = path.parent
    if not directory.is_dir():
        return (
            f"the directory {directory} of the database file {path.name} does not exist; "
            f"create it, {_ELSEWHERE}"
        )
    if path.exists() and not path.is_file():
        return f"the database path {path} is not a file; move it away, {_ELSEWHERE}"
    if not os.access(directory, os.W_OK | os.X_OK):
        return (
            f"this process cannot write in {directory}, the directory of the database file, "
            f"where SQLite keeps {_COMPANIONS} ({_why_not_writable(directory)}); make it "
            f"writable for {_this_user()}, {_ELSEWHERE}"
        )
    if path.exists() and not os.access(path, os.W_OK):
        return (
            f"the database file {path} cannot be written by this process "
            f"({_why_not_writable(path)}); make it writable for {_this_user()}, {_ELSEWHERE}"
        )
    return None


def open_problem(path: Path, error: SQLAlchemyError) -> str:
    """What SQLite's failure to open ``path`` means, in words (SQLite's own words kept)."""
    cause = error.orig if isinstance(error, DBAPIError) else None
    code = getattr(cause, "sqlite_errorcode", None) if isinstance(cause, sqlite3.Error) else None
    said = str(cause) if cause is not None else str(error).splitlines()[0]
    if code == _NOT_A_DATABASE:
        return (
            f"the database file {path} is not a SQLite database (SQLite: {said}): another "
            f"file was given, or the database was overwritten; restore it from a backup, "
            f"or move it away to begin a new store, {_ELSEWHERE}"
        )
    if code == _CORRUPT:
        return (
            f"the database file {path} is damaged (SQLite: {said}); restore it from a "
            "backup, or move it away to begin a new store"
        )
    return (
        f"cannot open the database file {path} (SQLite: {said}); check that the file and "
        f"its directory exist and are writable for {_this_user()}"
    )


def _why_not_writable(path: Path) -> str:
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "its file system is mounted read-only"
        status = path.stat()
    except OSError as exc:
        return exc.strerror or str(exc)
    return f"{stat.filemode(status.st_mode)}, owned by {_user_name(status.st_uid)}"


def _this_user() -> str:
    return f"the user the service runs as ({_user_name(os.geteuid())})"


def _user_name(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except KeyError:
        return f"uid {uid}"
