"""``data_condition.txt`` of the Reporter's snapshot (SPEC 11): what its numbers rest on.

An auditor reads it next to the CSV files: which Reporter made it and when, the
period, every cluster (its folder in the zip, version, last push, days reported, the
days it misses, its pinned key and any refused key awaiting ``reporter trust``), how
many rows each file holds, the Reporter's signing key and how the files are made.
Pure: the same values give the same text (UTF-8, LF line ends). Cluster ids and names
came from the clusters: one that is not printable text on one line is shown escaped,
so it cannot forge a line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from license_service.audit.data_condition import file_lines, signing_key_lines
from license_service.audit.fleet_snapshot_names import CLUSTERS_FILE, CLUSTERS_FOLDER
from license_service.formats.csv_lines import FORMULA_STARTS
from license_service.formats.utc_instants import utc_text
from license_service.metering.periods import DatePeriod

TITLE: Final = "License Service Reporter snapshot: data condition"
_LABEL_WIDTH: Final = 20


@dataclass(frozen=True, slots=True)
class ClusterCondition:
    """One cluster as the snapshot states it."""

    cluster_id: str
    cluster_name: str
    folder: str
    service_version: str
    last_push_at: datetime | None
    days_reported: int
    missing_days: tuple[date, ...]
    key_fingerprint: str
    pending_fingerprint: str | None


@dataclass(frozen=True, slots=True)
class FleetCondition:
    """Everything the Reporter's ``data_condition.txt`` states; ``files`` maps each CSV
    file, in zip order, to its rows (header not counted)."""

    version: str
    generated_at: datetime
    period: DatePeriod
    clusters: Sequence[ClusterCondition]
    files: Mapping[str, int]
    signing_key_fingerprint: str


def fleet_condition_text(condition: FleetCondition) -> str:
    """The text of the Reporter snapshot's ``data_condition.txt``."""
    lines = [TITLE, "=" * len(TITLE), ""]
    lines += _identity(condition)
    lines += ["", "Clusters", *_clusters(condition)]
    lines += ["", "Files", *file_lines(condition.files)]
    lines += [
        "",
        "Signing key (the Reporter's)",
        *signing_key_lines(_field("Fingerprint", condition.signing_key_fingerprint, indent="  ")),
    ]
    lines += ["", "How to read the files", *_notes()]
    return "\n".join(lines) + "\n"


def _field(label: str, value: str, *, indent: str = "") -> str:
    return f"{indent}{label + ':':<{_LABEL_WIDTH}} {value}"


def _identity(condition: FleetCondition) -> list[str]:
    period = condition.period
    missing = sum(1 for cluster in condition.clusters if cluster.missing_days)
    pending = sum(1 for cluster in condition.clusters if cluster.pending_fingerprint)
    return [
        _field("Reporter version", condition.version),
        _field(
            "Period",
            f"{period.first.isoformat()} to {period.last.isoformat()} "
            f"({period.days} UTC day{'s' if period.days != 1 else ''}, both included)",
        ),
        _field("Generated at", utc_text(condition.generated_at)),
        _field(
            "Clusters",
            f"{len(condition.clusters)} ({missing} with missing days, {pending} with a refused key "
            "pending)",
        ),
    ]


def _clusters(condition: FleetCondition) -> list[str]:
    if not condition.clusters:
        return ["  none: no cluster has pushed to this Reporter or been imported"]
    lines: list[str] = []
    for cluster in condition.clusters:
        name = _one_line(cluster.cluster_name) or "(no name)"
        lines.append(f"  {_one_line(cluster.cluster_id)} ({name})")
        lines += [
            _field("Files", f"{CLUSTERS_FOLDER}/{cluster.folder}/", indent="    "),
            _field("Service version", _one_line(cluster.service_version), indent="    "),
            _field(
                "Last push",
                utc_text(cluster.last_push_at)
                if cluster.last_push_at
                else "never (its days were imported from a snapshot)",
                indent="    ",
            ),
            _field("Days reported", f"{cluster.days_reported} of the period's days", indent="    "),
            _field("Missing days", _day_ranges(cluster.missing_days), indent="    "),
            _field("Key pinned", cluster.key_fingerprint, indent="    "),
            _field(
                "Refused key",
                f"{cluster.pending_fingerprint}, pending `license-service reporter trust` "
                "(its days are not in this snapshot)"
                if cluster.pending_fingerprint
                else "none",
                indent="    ",
            ),
        ]
    return lines


def _day_ranges(days: Sequence[date]) -> str:
    """``none``, or the days as runs: ``2026-12-03 to 2026-12-05 (3 days), 2026-12-09``."""
    if not days:
        return "none"
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        run[0].isoformat()
        if len(run) == 1
        else f"{run[0].isoformat()} to {run[-1].isoformat()} ({len(run)} days)"
        for run in runs
    )


def _notes() -> list[str]:
    guarded = ", ".join(repr(start)[1:-1] for start in FORMULA_STARTS)
    return [
        "  The files ending in _all are the fleet's: per product (or Cloud Pak) and metric,",
        "  per UTC day, the sum over the clusters of their daily peaks; a period's value is",
        "  the highest daily sum and metricPeakDate the earliest day reaching it. A Cloud Pak",
        "  is summed whole (each cluster's Cloud Pak value of the day). A day a cluster did",
        "  not report adds nothing for it: see its missing days above.",
        f"  {CLUSTERS_FOLDER}/<folder>/ holds each cluster's own files: its daily peaks as it",
        "  pushed them (or as its snapshot was imported), and their period peaks.",
        "  A folder is the cluster id, unless the id is not a safe file name or differs from",
        "  another only by case: then <id with _ for unsafe characters>~<12 hex digits of",
        "  the SHA-256 of the id>.",
        f"  {CLUSTERS_FILE} is GET /clusters?format=csv for the period. Missing days count",
        "  from a cluster's first reported day up to the day before the snapshot was made.",
        "  CSV: UTF-8, RFC 4180, CRLF line ends, header row always present.",
        f"  A text cell beginning with one of {guarded} is prefixed with ' (formula guard).",
    ]


def _one_line(text: str) -> str:
    """``text``, or its escaped form when it holds anything but printable characters."""
    return text if text.isprintable() else ascii(text)
