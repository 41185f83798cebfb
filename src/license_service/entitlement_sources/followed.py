"""The entitlements in force, followed while the service runs; a bad document never applies.

``FollowedEntitlements.receive`` takes each new document (the text of the file or of
the ConfigMap's key, ``None`` when there is none) from a watcher thread; readers call
``current()`` from any thread. An invalid document is refused: the previous
entitlements stay in force, ``problem()`` says why and which ones stay (shown on
``/health`` and ``/status``), and one error line is logged per distinct problem.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from license_service.configuration.entitlement_documents import parse_entitlements
from license_service.errors import ConfigurationError
from license_service.metering.entitlements import Entitlements

logger = logging.getLogger(__name__)


class FollowedEntitlements:
    """The entitlements in force (none until a valid document arrives) and why the latest
    document is not in force, if so."""

    def __init__(self, *, clock: Callable[[], datetime]) -> None:
        """Start with no entitlements."""
        self._clock = clock
        self._lock = threading.Lock()
        self._entitlements = Entitlements()
        self._loaded: str | None = None
        self._problem: str | None = None

    def current(self) -> Entitlements:
        """The entitlements in force now; cheap, never blocks on I/O."""
        with self._lock:
            return self._entitlements

    def problem(self) -> str | None:
        """Why the latest document is not in force, or ``None`` when it is."""
        with self._lock:
            return self._problem

    def warnings(self) -> list[str]:
        """What ``/health`` shows about the entitlements: the refusal, if any."""
        problem = self.problem()
        return [problem] if problem else []

    def receive(self, text: str | None, *, source: str) -> bool:
        """Apply the document ``text`` of ``source`` (``None``: no document, no entitlements).

        True when it applied; an invalid one is refused and the previous entitlements stay.
        """
        try:
            entitlements = parse_entitlements(text or "", source=source)
        except ConfigurationError as error:
            self.refuse(str(error))
            return False
        with self._lock:
            before, had_problem = self._entitlements, self._problem
            self._entitlements, self._problem = entitlements, None
            self._loaded = f"read from {source} at {self._clock().isoformat()}"
        if had_problem or before != entitlements:
            logger.info("Entitlements from %s: %d in force", source, len(entitlements))
        return True

    def refuse(self, error: str) -> None:
        """Record that a document was refused for ``error``; the previous entitlements stay."""
        with self._lock:
            kept = (
                f"the entitlements {self._loaded} stay in force"
                if self._loaded
                else "no entitlements are in force"
            )
            problem = f"entitlements not applied: {error}; {kept}"
            repeated, self._problem = problem == self._problem, problem
        if not repeated:
            logger.error("%s", problem)
