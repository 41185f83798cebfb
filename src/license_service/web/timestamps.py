"""Instants as the API writes them: UTC, whole seconds, ``Z`` (``2026-11-28T10:00:00Z``).

Defined in ``formats.utc_instants`` (the Reporter's ``clusters.csv`` writes them too,
below the web layer); named here for the web modules.
"""

from __future__ import annotations

from license_service.formats.utc_instants import optional_utc_text, utc_text

__all__ = ["optional_utc_text", "utc_text"]
