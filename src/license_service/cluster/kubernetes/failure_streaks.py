"""How a retry loop logs its failures: a streak once as a warning, its retries at INFO.

Shared by the collector's watches and the single-object watches, so both follow one
rule. A 410 is routine (history compacted: the loop lists again) and never opens a
streak; a failure of the list after it does. A failure that is a defect of ours
(``unexpected``) is logged as an error with its traceback every time.
"""

from __future__ import annotations

import logging

from license_service.cluster.kubernetes.failures import Failure, ResourceExpired


class FailureStreak:
    """The logging state of one retry loop; ``end()`` when the loop makes progress."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._warned = False

    def log(self, error: BaseException, failure: Failure) -> None:
        """Log ``failure`` (what ``error`` was) as the rule above says."""
        if failure.kind == "unexpected":
            self._logger.error("%s; retrying", failure.message, exc_info=error)
            return
        first = not self._warned and not isinstance(error, ResourceExpired)
        self._warned = self._warned or first
        self._logger.log(
            logging.WARNING if first else logging.INFO, "%s; retrying", failure.message
        )

    def end(self) -> None:
        """The loop made progress: the next failure opens a new streak."""
        self._warned = False
