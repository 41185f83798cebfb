"""Noticing commits to a SQLite file by other connections and processes (a CLI command).

SQLite has no notifications between processes, but ``PRAGMA data_version`` on one
connection changes whenever another connection (of any process) has committed to the
file since it was last asked. ``SqliteFileWrites`` keeps a connection of its own for
that question; it costs microseconds (no read of the database pages), so
``Database.data_version`` can ask it at every call. A connection that fails counts as
a write: no cache answers from before a write it may have missed.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class SqliteFileWrites:
    """Tells whether the SQLite file at ``file`` was written since the last question."""

    def __init__(self, file: Path) -> None:
        """Open a connection of its own to ``file`` (which must exist)."""
        self._connection = sqlite3.connect(str(file), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._last: int | None = self._read()

    def changed(self) -> bool:
        """Whether a commit to the file happened since the last call (or the connection failed)."""
        with self._lock:
            current = self._read()
            if current is not None and current == self._last:
                return False
            self._last = current
            return True

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._connection.close()

    def _read(self) -> int | None:
        try:
            row = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])
