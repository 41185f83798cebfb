"""The ``/health`` document (SPEC 3.4): is the service measuring, and what it cannot count.

``health_document`` is pure: the sampler's status, the source's state, whether the
database answers, the token's problem and the other warnings are parameters.
``status`` is ``DEGRADED`` when

- the database cannot be reached or read (``readiness.database_problem``): no sample
  can be stored and no report served;
- the collector is not synchronised: no source state yet, or a view that is not
  synchronised or older than 15 minutes (``sampling.freshness``);
- samples are missing: the latest tick stored nothing (disk full, database down,
  a clock set back: its error says which), the clock reads before the last sample,
  none for more than ``MISSING_AFTER_INTERVALS`` sampling intervals, or none at all
  although the sampler has ticked (a service that has just started and not reached
  its first sampling instant is not degraded for that);
- the configured API token is unusable.

Each of those reasons is also the first line of ``warnings``, so the document says
why it is degraded. ``collector.nextSampleAt`` (an addition to SPEC 3.4) is the
instant of the next sample: reports change then, so a change in the cluster seen now
shows in ``/products`` from that instant on. The problem sections come from the latest measurement
(``metering.api_rows.health_sections``), empty before the first one, bounded by
``health_bounds`` (lists and values cut, totals kept) so the document stays under
64 KiB whatever the cluster holds.
``leader`` (an addition to SPEC 3.4, with several replicas only: SPEC 12) says which
replica this is, which leads and since when, as this replica last saw the Lease.
``sender`` (an addition to SPEC 3.4, when a Reporter is configured: SPEC 11) is the
sender's state (``sender_section``).
On a follower (``followed``), the problem sections and ``sender`` are the leader's, as it
last shared them (``leader_view``): only the leader measures and pushes. ``leader.leaderView``
(an addition to SPEC 3.4, on followers only) says who wrote them, when and how old they
are; a stale or missing view is a warning (the status is not changed by it: a leader
that stopped sampling makes samples missing, which is).
``firstDayWithData`` (an addition to SPEC 3.4) is the oldest day reports have data
for, so an empty report of an earlier period is not mistaken for nothing running.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final, Literal, NotRequired, TypedDict

from license_service.cluster.source import ClusterState, SourceKind
from license_service.leadership.elector import LeaderStatus
from license_service.metering.api_rows import (
    IncompleteAnnotations,
    UnknownNodeRow,
    UnmeasuredMetricRow,
    health_sections,
)
from license_service.metering.usage import Measurement
from license_service.sampling.freshness import unusable_reason
from license_service.sampling.sampler import CLOCK_TOLERANCE
from license_service.sampling.status import SamplerStatus
from license_service.web.probes.health_bounds import (
    bounded_sections,
    bounded_warnings,
    short_sentence,
)
from license_service.web.probes.leader_view import (
    FollowedView,
    LeaderViewSection,
    followed_warnings,
    leader_view_section,
)
from license_service.web.probes.namespace_scope_section import NamespaceScopeSection
from license_service.web.probes.sender_section import SenderSection
from license_service.web.timestamps import optional_utc_text, utc_text

MISSING_AFTER_INTERVALS: Final = 2
HealthStatus = Literal["OK", "DEGRADED"]


class CollectorSection(TypedDict):
    """The ``collector`` section of ``/health``."""

    source: SourceKind | None
    synced: bool
    lastSampleAt: str | None
    nextSampleAt: str | None
    lastError: str | None


class LeaderSection(TypedDict):
    """The ``leader`` section of ``/health`` (several replicas only)."""

    replica: str
    isLeader: bool
    leader: str | None
    leaderSince: str | None
    lastError: str | None
    leaderView: NotRequired[LeaderViewSection | None]


class HealthDocument(TypedDict):
    """The ``/health`` body."""

    status: HealthStatus
    checkedAt: str
    collector: CollectorSection
    incompleteAnnotations: IncompleteAnnotations
    unmeasuredMetrics: list[UnmeasuredMetricRow]
    unknownNodes: list[UnknownNodeRow]
    warnings: list[str]
    firstDayWithData: str | None
    leader: NotRequired[LeaderSection]
    namespaceScope: NotRequired[NamespaceScopeSection]
    sender: NotRequired[SenderSection]


def health_document(
    *,
    now: datetime,
    sampler: SamplerStatus,
    source: ClusterState | None,
    token_problem: str | None,
    database_problem: str | None = None,
    warnings: Sequence[str] = (),
    first_day: date | None = None,
    leader: LeaderStatus | None = None,
    namespace_scope: NamespaceScopeSection | None = None,
    sender: SenderSection | None = None,
    followed: FollowedView | None = None,
) -> HealthDocument:
    """The ``/health`` body at ``now``; pure. ``namespace_scope``: SPEC 8's section;
    ``sender``: SPEC 11's (a Reporter is configured); ``followed``: on a follower, the
    leader's view (its problem sections replace this replica's own; ``sender`` is the
    caller's to take from it)."""
    sync_problem = _sync_problem(source, now)
    problems = [
        problem
        for problem in (
            database_problem,
            sync_problem,
            _missing_samples(sampler, now),
            token_problem,
        )
        if problem is not None
    ]
    view = followed.view if followed is not None else None
    view_section = (
        leader_view_section(view, now=now, interval=sampler.interval) if view is not None else None
    )
    if view is not None:
        sections, cuts = view.document["sections"], view.document["cuts"]
    else:
        measured = health_sections(sampler.last_measurement or Measurement())
        sections, cuts = bounded_sections(measured)
    shared_notes = followed_warnings(followed, view_section) if followed is not None else []
    last_error = sampler.last_error or (source.last_error if source else None)
    document: HealthDocument = {
        "status": "DEGRADED" if problems else "OK",
        "checkedAt": utc_text(now),
        "collector": {
            "source": source.source if source is not None else sampler.source,
            "synced": sync_problem is None,
            "lastSampleAt": optional_utc_text(sampler.last_sample_at),
            "nextSampleAt": optional_utc_text(sampler.next_sample_at),
            "lastError": short_sentence(last_error) if last_error else None,
        },
        "incompleteAnnotations": sections["incompleteAnnotations"],
        "unmeasuredMetrics": sections["unmeasuredMetrics"],
        "unknownNodes": sections["unknownNodes"],
        "warnings": bounded_warnings(
            [*problems, *shared_notes, *cuts, *sections["warnings"], *warnings]
        ),
        "firstDayWithData": first_day.isoformat() if first_day is not None else None,
    }
    if leader is not None:
        document["leader"] = leader_section(leader)
        if followed is not None:
            document["leader"]["leaderView"] = view_section
    if namespace_scope is not None:
        document["namespaceScope"] = namespace_scope
    if sender is not None:
        document["sender"] = sender
    return document


def leader_section(leader: LeaderStatus) -> LeaderSection:
    """Which replica this is, which leads and since when; pure."""
    return {
        "replica": leader.identity,
        "isLeader": leader.leading,
        "leader": leader.leader,
        "leaderSince": optional_utc_text(leader.leader_since),
        "lastError": short_sentence(leader.last_error) if leader.last_error else None,
    }


def _sync_problem(source: ClusterState | None, now: datetime) -> str | None:
    if source is None:
        return "the collector has no view of the cluster yet: its source has not started"
    return unusable_reason(source, now)


def _missing_samples(sampler: SamplerStatus, now: datetime) -> str | None:
    allowed = sampler.interval * MISSING_AFTER_INTERVALS
    cause = f" (last error: {sampler.last_error})" if sampler.last_error else ""
    if sampler.last_sample_at is not None and now < sampler.last_sample_at - CLOCK_TOLERANCE:
        return (
            f"samples are missing: the clock reads {utc_text(now)}, before the last sample at "
            f"{utc_text(sampler.last_sample_at)}; it was set back, and no sample is taken "
            "until it passes that instant"
        )
    if sampler.last_outcome == "failed":
        return f"samples are missing: {sampler.last_error or 'the latest tick failed'}"
    if sampler.last_sample_at is None:
        if sampler.last_tick_at is None:
            return None
        return f"no sample has been taken since the service started{cause}"
    age = now - sampler.last_sample_at
    if age <= allowed:
        return None
    return (
        f"samples are missing: the last one was taken {_duration(age)} ago, at "
        f"{utc_text(sampler.last_sample_at)}, and one is due every {_duration(sampler.interval)}"
        f"{cause}"
    )


def _duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    return f"{seconds // 3600} hours"
