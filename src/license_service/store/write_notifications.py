"""Telling the other replicas on one PostgreSQL that the store was written (SPEC 12).

Every replica serves reports from the database and caches their bodies until the
store is written (``Database.data_version``). A replica counts its own writes; the
leader's samples are written by another process. With notifications on, each
writing transaction of ``Database.begin`` also sends a notification on the channel of
its schema (``notify_write``: ``license_service_writes_`` and a digest of the schema's
name; PostgreSQL delivers it only if, and when, the transaction commits),
and ``WriteNotifications`` listens on a connection of its own, in a thread, and calls
``on_write`` for each one another process sent (a replica's own are recognised by
their payload and skipped: it counted them already).

While it is not listening (at start, after a lost connection) ``listening`` is false
and ``Database`` treats every read as possibly stale, so no cache answers from before
a write it may have missed; it reconnects every ``RECONNECT_SECONDS``. Measured delay
from commit to ``on_write`` on this machine: see docs/RELIABILITY.md.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import Connection, Engine, text

logger = logging.getLogger(__name__)

# The channel of the connection's schema (its search_path): the replicas of one
# deployment share a schema, and another deployment (or the Reporter, or a test) in
# another schema of the same database is not woken by these writes. A digest keeps the
# name a short lowercase identifier (at most 63 bytes) whatever the schema is called.
CHANNEL_PREFIX: Final = "license_service_writes_"
# The one channel of versions before (every schema's): still listened to, so that during
# a rolling upgrade a new replica hears an old leader's samples. Nothing sends on it now.
LEGACY_CHANNEL: Final = "license_service_writes"
_CHANNEL: Final = (
    f"'{CHANNEL_PREFIX}' || left(encode(sha256(convert_to("
    "coalesce(current_schema(), ''), 'UTF8')), 'hex'), 32)"
)
RECONNECT_SECONDS: Final = 1.0
# How long a wait for notifications lasts before the thread looks whether to stop.
_POLL_SECONDS: Final = 0.5


def new_origin() -> str:
    """A payload naming this process's writes (so it can skip its own notifications)."""
    return uuid.uuid4().hex


def notify_write(connection: Connection, *, origin: str) -> None:
    """Send the write notification in ``connection``'s transaction (delivered at commit)."""
    connection.execute(text(f"SELECT pg_notify({_CHANNEL}, :origin)"), {"origin": origin})


class WriteNotifications:
    """Listens for the writes of other processes to the PostgreSQL of ``engine``."""

    def __init__(self, engine: Engine, *, origin: str, on_write: Callable[[], None]) -> None:
        self._engine = engine
        self._origin = origin
        self._on_write = on_write
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self.received = 0

    @property
    def listening(self) -> bool:
        """Whether every write of another process from now on will be told."""
        return self._listening.is_set()

    def start(self) -> None:
        """Listen in a daemon thread until ``stop``."""
        self._thread = threading.Thread(target=self._run, name="write notifications", daemon=True)
        self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Wait until listening (tests, and the start of a replica); whether it is."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        warned = False
        while not self._stop.is_set():
            try:
                self._listen()
                warned = False
            except Exception as error:
                self._lost()
                if not warned:
                    logger.warning(
                        "Not told of other replicas' writes (%s): reports are read from the "
                        "database until listening again; retrying every %g s",
                        str(error).splitlines()[0] if str(error) else type(error).__name__,
                        RECONNECT_SECONDS,
                    )
                warned = True
            self._stop.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        raw = self._engine.raw_connection()
        connection: Any = raw.driver_connection
        # A connection of its own, outside the pool: it stays in LISTEN for its life.
        raw.detach()
        try:
            connection.autocommit = True
            channel = connection.execute(f"SELECT {_CHANNEL}").fetchone()[0]
            connection.execute(f"LISTEN {channel}")
            connection.execute(f"LISTEN {LEGACY_CHANNEL}")
            # Anything written before LISTEN took effect may be missed: count it as a write.
            self._on_write()
            self._listening.set()
            while not self._stop.is_set():
                for notification in connection.notifies(timeout=_POLL_SECONDS):
                    if notification.payload != self._origin:
                        self.received += 1
                        self._on_write()
        finally:
            self._lost()
            connection.close()

    def _lost(self) -> None:
        if self._listening.is_set():
            self._listening.clear()
            # Writes may be missed from here on: caches must not answer (Database).
            self._on_write()
