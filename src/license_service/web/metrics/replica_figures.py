"""Which replica's figures ``/metrics`` shows for what only the leader knows (SPEC 12).

Only the leader measures and pushes to the Reporter. A follower's own measurement has
no problem sections and its sender is idle, so gauges computed from them would drop to
0 on the followers, and a Prometheus scraping every replica would see them change with
the replica that answered. A follower shows instead the figures the leader shared with
its view (``web.probes.leader_view``, the same view its ``/health`` answers with):

- ``license_service_uncounted_pods`` and the sender's families (``reporter_metrics``)
  follow the leader; without a readable view (none written yet, or written by another
  version) a follower leaves them out of the scrape rather than show its own zeros;
- everything else stays per replica: request and connection figures, Kubernetes
  calls, sampler counters, the token, entitlements and start time, and ``leader``.

Usage gauges already agree: every replica reads them from the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from license_service.web.app_state import AppState
from license_service.web.metrics.reporter_metrics import ReporterFigures, reporter_figures
from license_service.web.probes.leader_view import SharedFigures


@dataclass(frozen=True, slots=True)
class FollowedFigures:
    """On a follower: the leader's shared figures, or ``None`` without a readable view."""

    figures: SharedFigures | None


def followed_figures(state: AppState) -> FollowedFigures | None:
    """The leader's figures while this replica follows; ``None`` while it leads (or runs alone)."""
    if state.leader_status is None or state.leader_view is None:
        return None
    if state.leader_status().leading:
        return None
    view = state.leader_view().view
    return FollowedFigures(view.document["figures"] if view is not None else None)


def uncounted_pods(state: AppState) -> int | None:
    """Pods left out of the latest measurement, the leader's on a follower; ``None``: unknown."""
    followed = followed_figures(state)
    if followed is not None:
        return followed.figures["uncountedPods"] if followed.figures is not None else None
    measurement = state.sampler_status().last_measurement
    return len(measurement.incomplete_annotations) if measurement is not None else None


def shown_reporter_figures(state: AppState) -> ReporterFigures | None:
    """The sender's figures, the leader's on a follower; ``None``: none to show."""
    followed = followed_figures(state)
    if followed is not None:
        return followed.figures["reporter"] if followed.figures is not None else None
    if state.sender_status is None:
        return None
    return reporter_figures(state.sender_status())
