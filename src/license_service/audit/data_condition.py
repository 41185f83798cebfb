"""``data_condition.txt`` (SPEC 5): the conditions under which a snapshot's numbers arose.

An auditor reads it next to the CSV files: which service and cluster, which period,
when it was generated, which metrics occur, how sampling went (interval, samples taken
of those expected, every gap with its reason), the metering settings in force and since
when, retention, the signing key's fingerprint, and how the files are written. Pure:
``data_condition_text`` turns values gathered from the store into text; the same
values always give the same text (UTF-8, LF line ends).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from license_service.audit.snapshot_context import SnapshotContext
from license_service.formats.csv_lines import FORMULA_STARTS
from license_service.formats.decimal_numbers import ROUNDED_DECIMALS
from license_service.metering.namespace_scope import excluded_text
from license_service.metering.periods import DatePeriod
from license_service.metering.settings import MeteringSettings
from license_service.store.sampling_gaps import Gap, SamplingSummary
from license_service.store.settings_history import SettingsChange

TITLE: Final = "License Service audit snapshot: data condition"
_LABEL_WIDTH: Final = 22
_CAPPING_SOURCES: Final = {
    "capacity": "each node's capacity (status.capacity.cpu)",
    "allocatable": "each node's allocatable CPU (status.allocatable.cpu)",
}


@dataclass(frozen=True, slots=True)
class DataCondition:
    """Everything ``data_condition.txt`` states.

    ``window_start``/``window_end`` bound the time sampling is judged over: the period's
    days, ending at the generation time when the period's last day is still running.
    ``settings`` is the settings history up to ``window_end``, oldest first. ``files``
    maps each CSV file of the snapshot, in the order listed, to its rows (header not
    counted).
    """

    context: SnapshotContext
    period: DatePeriod
    window_start: datetime
    window_end: datetime
    metrics: tuple[str, ...]
    sampling: SamplingSummary
    gaps: tuple[Gap, ...]
    settings: tuple[SettingsChange, ...]
    files: Mapping[str, int]
    signing_key_fingerprint: str


def data_condition_text(condition: DataCondition) -> str:
    """The text of ``data_condition.txt``."""
    lines = [TITLE, "=" * len(TITLE), ""]
    lines += _identity(condition)
    lines += ["", "Sampling", *_sampling(condition)]
    lines += ["", "Settings that change measured results", *_settings(condition)]
    lines += ["", "Retention", *_retention(condition)]
    lines += ["", "Files", *file_lines(condition.files)]
    lines += [
        "",
        "Signing key",
        *signing_key_lines(_field("Fingerprint", condition.signing_key_fingerprint, indent="  ")),
    ]
    lines += ["", "How to read the files", *_notes()]
    return "\n".join(lines) + "\n"


def _field(label: str, value: str, *, indent: str = "") -> str:
    return f"{indent}{label + ':':<{_LABEL_WIDTH}} {value}"


def _identity(condition: DataCondition) -> list[str]:
    context, period = condition.context, condition.period
    metrics = ", ".join(condition.metrics) or "none (no usage recorded in the period)"
    return [
        _field("Service version", context.version),
        _field("Cluster id", context.cluster_id),
        _field("Cluster name", context.cluster_name or "(not known)"),
        _field(
            "Period",
            f"{period.first.isoformat()} to {period.last.isoformat()} "
            f"({period.days} UTC day{'s' if period.days != 1 else ''}, both included)",
        ),
        _field("Generated at", _instant(context.generated_at)),
        _field("Metrics present", metrics),
    ]


def _sampling(condition: DataCondition) -> list[str]:
    sampling = condition.sampling
    lines = [
        _field(
            "Judged over",
            f"{_instant(condition.window_start)} to {_instant(condition.window_end)}",
            indent="  ",
        )
    ]
    if condition.window_end < _end_of(condition.period.last):
        lines.append("  (the period's last day had not ended when the snapshot was generated)")
    interval = (
        f"{sampling.interval_seconds} s"
        if sampling.interval_seconds is not None
        else "none: the cluster was never sampled"
    )
    lines.append(_field("Interval", interval, indent="  "))
    if sampling.counted_from is not None:
        lines.append(
            _field("Sampling began", _instant(sampling.counted_from), indent="  ")
            + " (no sample is expected before it)"
        )
    missed = str(sampling.samples_missed)
    if sampling.samples_missed:
        missed += " (sampling instants without a sample; the gaps below say when and why)"
    lines += [
        _field(
            "Samples taken",
            f"{sampling.samples_taken} of {sampling.samples_expected} expected"
            f"{sampling.taken_share()}",
            indent="  ",
        ),
        _field("Samples missed", missed, indent="  "),
        _field("Gaps", str(len(condition.gaps)) if condition.gaps else "none", indent="  "),
    ]
    lines += [f"    {_gap(gap)}" for gap in condition.gaps]
    return lines


def _gap(gap: Gap) -> str:
    reason = gap.reason or "no reason recorded (the service was not running or not sampling)"
    if gap.start == gap.end:
        return f"at {_instant(gap.start)}: {reason}"
    span = f"{_instant(gap.start)} to {_instant(gap.end)}"
    missed = f", {gap.samples_missed} missed" if gap.samples_missed else ""
    return f"{span} ({_duration(gap.end - gap.start)}{missed}): {reason}"


def _settings(condition: DataCondition) -> list[str]:
    history = condition.settings
    if not history:
        return ["  none recorded: no sample was taken up to the end of the period"]
    at_start = [change for change in history if change.at <= condition.window_start]
    within = [change for change in history if change.at > condition.window_start]
    latest = history[-1].settings
    lines = [
        _field(
            "Hyper-threading",
            f"threadsPerCore {latest.threads_per_core}, "
            f"since {_since(history, lambda s: s.threads_per_core)}",
            indent="  ",
        ),
        _field(
            "Node CPU capping",
            f"{_capping(latest)}, since "
            f"{_since(history, lambda s: (s.node_cpu_capping, s.capping_source))}",
            indent="  ",
        ),
        _field(
            "Default PVU per core",
            f"{latest.default_pvu_per_core}, since "
            f"{_since(history, lambda s: s.default_pvu_per_core)}",
            indent="  ",
        ),
        _field(
            "Excluded namespaces",
            f"{excluded_text(latest.excluded_namespaces)}, since "
            f"{_since(history, lambda s: s.excluded_namespaces)}",
            indent="  ",
        ),
        _field(
            "At the period start",
            _settings_text(at_start[-1].settings) if at_start else "not recorded yet",
            indent="  ",
        ),
        _field("Changes in the period", str(len(within)) if within else "none", indent="  "),
    ]
    lines += [f"    {_instant(change.at)}: {_settings_text(change.settings)}" for change in within]
    return lines


def _since(history: Sequence[SettingsChange], value: Callable[[MeteringSettings], object]) -> str:
    """When the latest value of one setting came into force (unchanged since then)."""
    current = value(history[-1].settings)
    since = history[-1].at
    for change in reversed(history):
        if value(change.settings) != current:
            break
        since = change.at
    return _instant(since)


def _capping(settings: MeteringSettings) -> str:
    if not settings.node_cpu_capping:
        return "off (usage on a node is not capped)"
    return f"on, at {_CAPPING_SOURCES.get(settings.capping_source, settings.capping_source)}"


def _settings_text(settings: MeteringSettings) -> str:
    capping = (
        f"node CPU capping on ({settings.capping_source})"
        if settings.node_cpu_capping
        else "node CPU capping off"
    )
    return (
        f"threadsPerCore {settings.threads_per_core}, {capping}, "
        f"default PVU per core {settings.default_pvu_per_core}, "
        f"excluded namespaces {excluded_text(settings.excluded_namespaces)}"
    )


def _retention(condition: DataCondition) -> list[str]:
    context = condition.context
    generated_day = context.generated_at.astimezone(UTC).date()
    oldest_kept = generated_day - timedelta(days=context.retention_peak_days - 1)
    lines = [
        _field("Raw samples", f"{context.retention_sample_days} days", indent="  "),
        _field(
            "Daily peaks",
            f"{context.retention_peak_days} days (oldest day kept: {oldest_kept.isoformat()})",
            indent="  ",
        ),
    ]
    if condition.period.first < oldest_kept:
        lines.append(
            f"  The period starts before {oldest_kept.isoformat()}: earlier days were removed "
            "by retention and have no rows."
        )
    return lines


def file_lines(files: Mapping[str, int]) -> list[str]:
    """The "Files" lines of a data condition: each file and its rows, names aligned."""
    width = max((len(name) for name in files), default=0)
    return [
        f"  {name:<{width}}  {rows} row{'s' if rows != 1 else ''}" for name, rows in files.items()
    ]


def signing_key_lines(fingerprint_line: str) -> list[str]:
    """The "Signing key" lines under ``fingerprint_line``: how to check the fingerprint and
    verify the snapshot with ``sha256sum`` and ``openssl``."""
    return [
        fingerprint_line,
        "  (the SHA-256 of the DER public key; recompute it with",
        "   openssl pkey -pubin -in pub_key.pem -outform DER | sha256sum)",
        "  Verify: sha256sum -c checksum.txt",
        "          openssl dgst -sha256 -verify pub_key.pem -signature signature.rsa checksum.txt",
    ]


def _notes() -> list[str]:
    guarded = ", ".join(repr(start)[1:-1] for start in FORMULA_STARTS)
    return [
        "  Days are UTC calendar days. A day without samples has no rows (not zero rows).",
        "  A product's period value is its highest daily peak; metricPeakDate is the earliest",
        "  day that reached it.",
        "  CSV: UTF-8, RFC 4180, CRLF line ends, header row always present.",
        f"  A text cell beginning with one of {guarded} is prefixed with ' (formula guard).",
        "  metricConvertedQuantity = metricMeasuredQuantity x b / a for metricConversion a:b,",
        f"  written exactly when the decimal ends, else rounded up to {ROUNDED_DECIMALS} decimals.",
    ]


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _duration(length: timedelta) -> str:
    seconds = int(length.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{amount} {unit}"
        for amount, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s"))
        if amount
    ]
    return " ".join(parts) or "under 1 s"
