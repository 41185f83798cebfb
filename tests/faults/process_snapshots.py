"""Reading the gaps a running service reports in ``data_condition.txt`` of its snapshot.

An auditor learns of lost time from that file: ``snapshot_gaps`` downloads a
snapshot as they would and returns its gap lines, each with its span and reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import httpx

from license_service.audit.snapshot_names import DATA_CONDITION_FILE

_GAP_SPAN: Final = re.compile(r"^    (\S+Z) to (\S+Z) \([^)]*\): (.*)$", re.MULTILINE)
_GAP_INSTANT: Final = re.compile(r"^    at (\S+Z): (.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ReportedGap:
    """A gap line of ``data_condition.txt``."""

    start: datetime
    end: datetime
    reason: str

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether the gap spans all of ``[start, end]``."""
        return self.start <= start and end <= self.end


def data_condition(url: str, token: str) -> str:
    """The ``data_condition.txt`` of a snapshot of the last 30 days from the service at ``url``."""
    response = httpx.get(f"{url}/snapshot", params={"token": token}, timeout=60)
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        (name,) = [name for name in archive.namelist() if name.endswith(DATA_CONDITION_FILE)]
        return archive.read(name).decode("utf-8")


def snapshot_gaps(url: str, token: str) -> tuple[str, list[ReportedGap]]:
    """The ``data_condition.txt`` of a fresh snapshot and the gaps it lists."""
    text = data_condition(url, token)
    gaps = [
        ReportedGap(datetime.fromisoformat(start), datetime.fromisoformat(end), reason)
        for start, end, reason in _GAP_SPAN.findall(text)
    ]
    gaps += [
        ReportedGap(datetime.fromisoformat(at), datetime.fromisoformat(at), reason)
        for at, reason in _GAP_INSTANT.findall(text)
    ]
    return text, gaps
