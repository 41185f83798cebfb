"""What only the leader knows of ``/health``, as it shares it with the other replicas (SPEC 12).

With several replicas only the leader samples and pushes to the Reporter, so only it
knows the problem sections of its latest measurement (``incompleteAnnotations``,
``unmeasuredMetrics``, ``unknownNodes`` and the measurement's warnings) and the
sender's state. ``leader_view_document`` is that knowledge as the leader's own
``/health`` shows it (bounded by ``health_bounds``, the cut notes kept), plus the
figures its ``/metrics`` computes from them (``figures``: the pods not counted and the
sender's ``reporter_figures``, as numbers, so a follower's gauges equal the leader's to
the last digit); the leader writes it to the store (``store.leader_views``) and
followers answer with it, so every replica answers ``/health``, ``/status`` and those
gauges of ``/metrics`` alike whichever one a client (or Prometheus) hits.

A follower says so in ``leader.leaderView`` (an addition to SPEC 3.4, on followers
only): which replica wrote the view, when, how old it is, and whether it is stale,
that is older than ``STALE_AFTER_INTERVALS`` sampling intervals (and at least
``STALE_AFTER_MIN``): a leader writes it at least once per sampling interval, so an
older one means the leader stopped writing, and a warning says the sections may be
out of date. Pure: the documents in, the documents out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypedDict, cast

from license_service.metering.api_rows import HealthSections, health_sections
from license_service.metering.usage import Measurement
from license_service.reporting.sender import SenderStatus
from license_service.sampling.status import SamplerStatus
from license_service.web.metrics.reporter_metrics import ReporterFigures, reporter_figures
from license_service.web.probes.health_bounds import bounded_sections
from license_service.web.probes.sender_section import (
    SenderSection,
    sender_section,
    sender_warnings,
)
from license_service.web.timestamps import utc_text

FORMAT: Final = 2
"""The document's format; a replica of another version that reads another one says so.
2: ``figures`` added (the gauges of ``/metrics`` that follow the leader)."""
STALE_AFTER_INTERVALS: Final = 3
STALE_AFTER_MIN: Final = timedelta(seconds=15)


class SharedFigures(TypedDict):
    """The leader's figures for ``/metrics``: pods not counted (``None``: no measurement
    yet) and the sender's (``None``: no Reporter configured)."""

    uncountedPods: int | None
    reporter: ReporterFigures | None


class LeaderViewDocument(TypedDict):
    """The leader's problem sections (bounded), the notes about their cuts, its sender,
    and its figures for ``/metrics``."""

    format: int
    sections: HealthSections
    cuts: list[str]
    sender: SenderSection | None
    senderWarnings: list[str]
    figures: SharedFigures


@dataclass(frozen=True, slots=True)
class LeaderView:
    """The view the replica ``leader`` wrote at ``written_at`` (its clock)."""

    leader: str
    written_at: datetime
    document: LeaderViewDocument


@dataclass(frozen=True, slots=True)
class FollowedView:
    """What a follower read: the leader's view, or ``None`` with ``problem`` saying why."""

    view: LeaderView | None
    problem: str | None = None


class LeaderViewSection(TypedDict):
    """``leader.leaderView`` of ``/health`` on a follower."""

    writtenBy: str
    writtenAt: str
    ageSeconds: int
    stale: bool


class UnreadableView(ValueError):
    """A stored view this replica cannot read (another version wrote it, or it is damaged)."""


def leader_view_document(sampler: SamplerStatus, sender: SenderStatus | None) -> LeaderViewDocument:
    """What the leader shares: its latest measurement's problem sections, its sender, and
    the figures its ``/metrics`` shows of them."""
    measurement = sampler.last_measurement
    sections, cuts = bounded_sections(health_sections(measurement or Measurement()))
    return {
        "format": FORMAT,
        "sections": sections,
        "cuts": cuts,
        "sender": sender_section(sender) if sender is not None else None,
        "senderWarnings": sender_warnings(sender) if sender is not None else [],
        "figures": {
            "uncountedPods": (
                len(measurement.incomplete_annotations) if measurement is not None else None
            ),
            "reporter": reporter_figures(sender) if sender is not None else None,
        },
    }


def encoded(document: LeaderViewDocument) -> str:
    """``document`` as stored: JSON with sorted keys, so equal documents are equal texts."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def decoded(text: str) -> LeaderViewDocument:
    """The document stored as ``text``; raises ``UnreadableView`` saying what is wrong."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UnreadableView(f"the leader's view is not JSON ({error})") from error
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        found = value.get("format") if isinstance(value, dict) else type(value).__name__
        raise UnreadableView(
            f"the leader's view has format {found!r}, this replica reads format {FORMAT}: "
            "the replicas run different versions (it settles once all run the same one)"
        )
    expected: dict[str, type | tuple[type, ...]] = {
        "sections": dict,
        "cuts": list,
        "sender": (dict, type(None)),
        "senderWarnings": list,
        "figures": dict,
    }
    for key, kind in expected.items():
        if not isinstance(value.get(key), kind):
            raise UnreadableView(f"the leader's view has no valid {key!r}: it is damaged")
    figures = value["figures"]
    pods = figures.get("uncountedPods")
    if (pods is not None and (type(pods) is not int or pods < 0)) or not isinstance(
        figures.get("reporter"), (dict, type(None))
    ):
        raise UnreadableView("the leader's view has no valid 'figures': it is damaged")
    return cast(LeaderViewDocument, value)


def stale_after(interval: timedelta) -> timedelta:
    """How old a view may be before it is stale, at the sampling ``interval``."""
    return max(interval * STALE_AFTER_INTERVALS, STALE_AFTER_MIN)


def leader_view_section(
    view: LeaderView, *, now: datetime, interval: timedelta
) -> LeaderViewSection:
    """Who wrote ``view``, when, how old it is at ``now`` and whether that is stale."""
    # Another replica's clock may run a little ahead: a view is never younger than now.
    age = max(now - view.written_at, timedelta(0))
    return {
        "writtenBy": view.leader,
        "writtenAt": utc_text(view.written_at),
        "ageSeconds": int(age.total_seconds()),
        "stale": age > stale_after(interval),
    }


def followed_warnings(followed: FollowedView, section: LeaderViewSection | None) -> list[str]:
    """Why a follower's problem sections and sender may not be the leader's current ones."""
    if followed.view is None:
        cause = followed.problem or "it has not written one yet"
        return [
            f"the leader's view is not available ({cause}): incompleteAnnotations, "
            "unmeasuredMetrics, unknownNodes and sender are this replica's own and may be "
            "empty; ask the leader's /health"
        ]
    if section is None or not section["stale"]:
        return []
    return [
        f"the leader's view of incompleteAnnotations, unmeasuredMetrics, unknownNodes and "
        f"sender is {section['ageSeconds']} s old (written by {section['writtenBy']} at "
        f"{section['writtenAt']}): the leader has stopped sharing it, so it may be out of date"
    ]
