"""Sentences of ``/status`` that depend on what the service knows; pure.

Kept apart from ``status_page`` (which gathers the figures) so each wording is tested
on its own: who opened the page, and why a period shows no peak.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from license_service.auth.identities import Identity
from license_service.metering.periods import DatePeriod

ONE_DAY: Final = timedelta(days=1)


def identity_text(identity: Identity) -> str:
    """Who opened the page: ``the API token``, or ``service-account (system:...)``."""
    if identity.method == "api-token":
        return "the API token"
    return f"{identity.method} ({identity.name})"


def no_peaks_text(period: DatePeriod, *, first_day: date | None) -> str:
    """Why ``period`` shows no peak: no data yet, or the period ends before the data began."""
    if first_day is None:
        return "No data yet: no licensed product has been measured."
    if period.last < first_day:
        return f"No data in this period: the first day with data is {first_day.isoformat()}."
    return "No data in this period."
