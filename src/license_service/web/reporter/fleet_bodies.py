"""The Reporter's report bodies, kept while the fleet's data stays as it was (every replica).

A fleet report over two years reads days x keys sum rows and reduces them in Python
(hundreds of milliseconds); asked again on unchanged data, it is the same bytes.
``FleetBodies.body`` runs in a worker thread: in one read transaction it reads the
fleet's data version (``fleet_store.fleet_data_version``: it moves with every push or
import committed by ANY replica, so no replica answers from before another's write,
unlike a cache told of writes by notifications) and computes the body in the same
snapshot, so a body is kept under the version it was read at; a kept body is answered
when the version committed now (one statement, autocommit, shared by the requests that
arrived before it began) is still that one. Concurrent misses
of one key compute it once (a lock per key); at most ``MAX_ENTRIES`` bodies and
``MAX_BYTES`` bytes are kept, the least recently used dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Final

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from license_service.errors import StorageError
from license_service.fleet.fleet_store import fleet_data_version
from license_service.store.database import Database

MAX_ENTRIES: Final = 64
MAX_BYTES: Final = 32 * 1024 * 1024


class FleetBodies:
    """Report bodies by request key, valid for the fleet data version they were read at."""

    def __init__(
        self, database: Database, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        """Bodies of reports read from ``database``, bounded by entries and bytes."""
        self._database = database
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bodies: OrderedDict[Hashable, tuple[tuple[int, str], bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._check_lock = threading.Lock()
        self._checked: tuple[float, str] | None = None

    def body(self, key: Hashable, compute: Callable[[Connection], bytes]) -> bytes:
        """The body of ``key``: kept if the data did not change, else ``compute``d (blocking)."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            # This process's own writes count too (SQLite has no version of its own).
            local = self._database.data_version
            with self._lock:
                kept = self._bodies.get(key)
            if kept is not None and kept[0] == (local, self._version_now()):
                with self._lock:
                    if key in self._bodies:
                        self._bodies.move_to_end(key)
                return kept[1]
            with self._database.read() as connection:
                version = (local, fleet_data_version(connection))
                body = compute(connection)
            self._keep(key, version, body)
            return body

    def _version_now(self) -> str:
        """The fleet data version committed when this call began: read by one statement,
        shared by every caller that began before that statement did.

        Sixteen clients asking at once cost two reads, not sixteen, and no answer comes
        from a read that started before it was asked.
        """
        asked = time.monotonic()
        with self._check_lock:
            checked = self._checked
            if checked is not None and checked[0] >= asked:
                return checked[1]
            started = time.monotonic()
            version = self._read_version()
            self._checked = (started, version)
            return version

    def _read_version(self) -> str:
        """The fleet data version committed now: one statement, no transaction around it."""
        try:
            with self._database.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                return fleet_data_version(connection)
        except SQLAlchemyError as exc:
            raise StorageError(f"database {self._database.url}: {exc}") from exc

    def _keep(self, key: Hashable, version: tuple[int, str], body: bytes) -> None:
        with self._lock:
            old = self._bodies.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            if len(body) > self._max_bytes // 4:
                return
            self._bodies[key] = (version, body)
            self._bytes += len(body)
            while len(self._bodies) > self._max_entries or self._bytes > self._max_bytes:
                dropped_key, (_, dropped) = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)
                self._key_locks.pop(dropped_key, None)
