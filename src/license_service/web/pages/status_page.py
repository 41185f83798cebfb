"""What ``/status`` (SPEC 3.7) shows, gathered in one blocking call and flattened for the page.

``status_page`` reads the app state and the store (30-day peaks, sampling coverage,
gaps) and returns a ``StatusPage``: text and table cells only, so the template is a
plain loop and every value, whatever a pod's annotations hold, goes through Jinja's
autoescape. It reads the database: run it in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final

from license_service.auth.identities import Identity
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.formats.decimal_numbers import json_number
from license_service.metering.measuring import measure
from license_service.metering.periods import DatePeriod
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    BundledProductUsage,
)
from license_service.sampling.freshness import unusable_reason
from license_service.store.first_day import first_day_with_data
from license_service.store.instants import start_of_day
from license_service.store.period_peaks import period_peaks
from license_service.store.samples import latest_sample
from license_service.store.sampling_gaps import gaps, sampling_summary
from license_service.web.app_state import AppState
from license_service.web.pages.explanation_links import ExplanationLink, explanation_links
from license_service.web.pages.leader_facts import leader_facts
from license_service.web.pages.namespace_scope_facts import namespace_scope_facts
from license_service.web.pages.sender_facts import sender_facts
from license_service.web.pages.status_compliance import ComplianceSection, status_compliance
from license_service.web.pages.status_links import period_text
from license_service.web.pages.status_texts import ONE_DAY, identity_text, no_peaks_text
from license_service.web.pages.usage_now import usage_now_notes
from license_service.web.probes.health import HealthDocument
from license_service.web.probes.service_routes import current_health
from license_service.web.timestamps import utc_text

Cells = tuple[str | int | float, ...]
_NO_SAMPLE: Final = "no sample yet"
_NOTHING_RUNS: Final = "No licensed product runs."
_NO_REASON: Final = "no reason recorded (was the service running?)"

PRODUCTS_HEAD: Final = ("Product", "Id", "Metric", "Quantity")
BUNDLED_HEAD: Final = (
    "Bundled product",
    "Id",
    "Cloud Pak",
    "Metric",
    "Measured",
    "Ratio",
    "Converted",
)
PEAKS_HEAD: Final = ("Product", "Id", "Metric", "Peak day", "Peak")
BUNDLED_PEAKS_HEAD: Final = (
    "Bundled product",
    "Id",
    "Cloud Pak",
    "Metric",
    "Peak day",
    "Measured",
    "Ratio",
    "Converted",
)


@dataclass(frozen=True, slots=True)
class ProblemTable:
    """One table of pods or products the service could not count."""

    id: str
    title: str
    head: tuple[str, ...]
    rows: list[Cells]


@dataclass(frozen=True, slots=True)
class StatusPage:
    """Everything ``/status`` shows, as text and cells."""

    checked_at: str
    health_status: str
    health_class: str
    warnings: list[str]
    problem_tables: list[ProblemTable]
    collector: list[tuple[str, str]]
    usage_now_at: str
    usage_now_schedule: str
    usage_now_changes: str | None
    usage_now_empty: str
    products_now: list[Cells]
    bundled_now: list[Cells]
    period_text: str
    peaks_empty: str
    first_day: str | None
    peaks: list[Cells]
    bundled_peaks: list[Cells]
    coverage_text: str
    gaps: list[Cells]
    compliance: ComplianceSection
    authentication: list[tuple[str, str]]
    audit: list[tuple[str, str]]
    products_head: tuple[str, ...] = PRODUCTS_HEAD
    bundled_head: tuple[str, ...] = BUNDLED_HEAD
    peaks_head: tuple[str, ...] = PEAKS_HEAD
    bundled_peaks_head: tuple[str, ...] = BUNDLED_PEAKS_HEAD
    explanations: list[ExplanationLink] = field(default_factory=list)


def status_page(
    state: AppState, identity: Identity, *, period: DatePeriod | None = None
) -> StatusPage:
    """The status page now, for ``identity``, with the peaks and coverage of ``period``
    (default: the last 30 days); blocking (reads the database)."""
    now = state.now()
    period = period or DatePeriod.ending(now.date())
    health = current_health(state)
    sampler = state.sampler_status()
    cluster_id = state.cluster_id
    start, end = start_of_day(period.first), min(now, start_of_day(period.last + ONE_DAY))
    with state.database.read() as connection:
        peaks = period_peaks(connection, PRODUCT_ROWS, cluster_id=cluster_id, period=period)
        bundled = period_peaks(
            connection, BUNDLED_PRODUCT_ROWS, cluster_id=cluster_id, period=period
        )
        found_gaps = gaps(connection, cluster_id=cluster_id, start=start, end=end)
        summary = sampling_summary(connection, cluster_id=cluster_id, start=start, end=end)
        first_day = first_day_with_data(connection, cluster_id=cluster_id)
        compliance = status_compliance(
            connection,
            cluster_id=cluster_id,
            period=period,
            peaks=peaks,
            entitlements=state.entitlements(),
        )
        # After a restart, "usage now" is the newest stored sample until the next one.
        stored = (
            None if sampler.last_measurement else latest_sample(connection, cluster_id=cluster_id)
        )
    shown = sampler.last_measurement or (stored.measurement if stored else None)
    measurement = shown or Measurement()
    notes = usage_now_notes(
        shown=shown,
        measured_now=_measured_now(state) if shown is not None else None,
        interval=sampler.interval,
        next_sample_at=sampler.next_sample_at,
    )
    if sampler.last_measurement is not None:
        usage_now_at = health["collector"]["lastSampleAt"] or "latest sample"
    else:
        usage_now_at = f"stored sample of {utc_text(stored.taken_at)}" if stored else _NO_SAMPLE
    return StatusPage(
        checked_at=health["checkedAt"],
        health_status=health["status"],
        health_class="good" if health["status"] == "OK" else "bad",
        warnings=health["warnings"],
        problem_tables=_problem_tables(health),
        collector=_collector_facts(state, health),
        usage_now_at=usage_now_at,
        usage_now_schedule=notes.schedule,
        usage_now_changes=notes.changes,
        usage_now_empty=_NOTHING_RUNS if sampler.last_measurement or stored else "No sample yet.",
        products_now=[tuple(PRODUCT_ROWS.json(row).values()) for row in measurement.products],
        bundled_now=[_bundled_cells(row) for row in measurement.bundled_products],
        period_text=period_text(period, today=now.date()),
        peaks_empty=no_peaks_text(period, first_day=first_day),
        first_day=first_day.isoformat() if first_day is not None else None,
        peaks=[tuple(PRODUCT_ROWS.period_json(peak).values()) for peak in peaks],
        bundled_peaks=[_bundled_cells(peak.row, peak_date=peak.peak_date) for peak in bundled],
        coverage_text=(
            f"Samples taken: {summary.samples_taken} of {summary.samples_expected} expected"
            f"{summary.taken_share()}; missed: {summary.samples_missed}."
            + (
                f" Sampling began at {utc_text(summary.counted_from)}."
                if summary.counted_from is not None
                else ""
            )
        ),
        gaps=[
            (utc_text(gap.start), utc_text(gap.end), gap.reason or _NO_REASON) for gap in found_gaps
        ],
        compliance=compliance,
        authentication=_authentication_facts(state.licensing(), identity),
        audit=_audit_facts(state),
        explanations=explanation_links(period=period, peaks=peaks, bundled_peaks=bundled),
    )


def _measured_now(state: AppState) -> Measurement | None:
    """The cluster as seen now, measured as the next sample will be (``None``: unusable)."""
    source = state.source_state()
    if source is None or unusable_reason(source, state.now()) is not None:
        return None
    return measure(source.view, state.licensing().metering)


def _bundled_cells(row: BundledProductUsage, *, peak_date: date | None = None) -> Cells:
    """A bundled product's cells: its Cloud Pak as ``name (id)``; a peak's day after the metric."""
    cloudpak = f"{row.cloudpak_name} ({row.cloudpak_id})"
    day = () if peak_date is None else (peak_date.isoformat(),)
    converted = json_number(row.converted_quantity)
    return (
        row.product_name,
        row.product_id,
        cloudpak,
        row.metric,
        *day,
        row.measured_quantity,
        str(row.conversion),
        converted,
    )


def _collector_facts(state: AppState, health: HealthDocument) -> list[tuple[str, str]]:
    collector = health["collector"]
    sampler = state.sampler_status()
    metering = state.licensing().metering
    return [
        *leader_facts(health),
        ("Source", collector["source"] or "none yet"),
        ("Synchronised", "yes" if collector["synced"] else "no"),
        ("Last sample", collector["lastSampleAt"] or "none yet"),
        ("Next sample", collector["nextSampleAt"] or "not scheduled yet"),
        ("Last error", collector["lastError"] or "none"),
        ("Sampling interval", f"{int(sampler.interval.total_seconds())} s"),
        (
            "Since the service started",
            f"{sampler.samples_taken} samples taken, {sampler.samples_missed} missed, "
            f"{sampler.ticks_failed} failed",
        ),
        (
            "Metering settings",
            f"threadsPerCore {metering.threads_per_core}; node CPU capping "
            + ("on" if metering.node_cpu_capping else "off"),
        ),
        *namespace_scope_facts(state.licensing(), sampler),
        *sender_facts(health),
    ]


def _authentication_facts(licensing: LicensingConfig, identity: Identity) -> list[tuple[str, str]]:
    url_tokens = "on" if licensing.url_based_enabled else "off"
    accounts = "on" if licensing.kube_rbac_auth_enabled else "off"
    return [
        ("API token in the URL (?token=)", url_tokens),
        ("API token as Authorization: Bearer", url_tokens),
        (
            "Kubernetes service-account tokens",
            f"{accounts} in the configuration (used where the Kubernetes API is reachable)",
        ),
        ("This page was opened with", identity_text(identity)),
    ]


def _audit_facts(state: AppState) -> list[tuple[str, str]]:
    version = state.version
    return [
        ("Signing-key fingerprint", state.signing_key.fingerprint),
        (
            "Retention",
            f"raw samples {state.retention_sample_days} days, daily peaks "
            f"{state.retention_peak_days} days",
        ),
        ("Storage", state.database.url),
        ("Build", f"{version.version}, built {version.build_date}, commit {version.commit}"),
    ]


def _problem_tables(health: HealthDocument) -> list[ProblemTable]:
    tables = []
    pods = health["incompleteAnnotations"]["pods"]
    if pods:
        tables.append(
            ProblemTable(
                "incomplete-annotations",
                # The count, not len(pods): /health lists a bounded number of them.
                "Pods not counted: incomplete or invalid annotations "
                f"({health['incompleteAnnotations']['count']})",
                ("Namespace", "Pod", "Annotation", "Problem"),
                [
                    (pod["namespace"], pod["name"], problem["annotation"], problem["reason"])
                    for pod in pods
                    for problem in pod["problems"]
                ],
            )
        )
    if health["unmeasuredMetrics"]:
        tables.append(
            ProblemTable(
                "unmeasured-metrics",
                "Metrics that pod resources cannot measure",
                ("Product", "Id", "Metric", "Cloud Pak"),
                [
                    (
                        row["productName"],
                        row["productId"],
                        row["metricName"],
                        row["cloudpakId"] or "",
                    )
                    for row in health["unmeasuredMetrics"]
                ],
            )
        )
    if health["unknownNodes"]:
        tables.append(
            ProblemTable(
                "unknown-nodes",
                "Nodes the cluster does not list (their pods are measured without capping)",
                ("Node", "Pods", "Containers without CPU limit"),
                [
                    (
                        node["nodeName"],
                        ", ".join(f"{pod['namespace']}/{pod['name']}" for pod in node["pods"]),
                        node["containersWithoutLimit"],
                    )
                    for node in health["unknownNodes"]
                ],
            )
        )
    return tables
