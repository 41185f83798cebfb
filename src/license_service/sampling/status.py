"""What the sampler reports about itself, for ``/health``, ``/status`` and ``/metrics``.

``SamplerStatus`` is an immutable snapshot: readers on the event loop never see
a half-updated state while a sample is being stored in a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from license_service.cluster.source import SourceKind
from license_service.metering.usage import Measurement

TickOutcome = Literal["sampled", "missed", "failed"]
"""How one tick ended: a sample stored, a gap recorded (source unusable), or an error."""


@dataclass(frozen=True, slots=True)
class SamplerStatus:
    """The sampler's state after its latest tick.

    ``last_error`` says why the latest tick stored no sample (``None`` after a
    successful one); ``last_measurement`` is the usage of the latest sample
    ("usage now", and the pods with incomplete annotations); ``next_sample_at`` is
    the instant the sampler waits for (``None`` before it waits, or while the clock
    reads before the last sample). ``last_groups``: each chargeback group's usage in the
    latest sample (empty while chargeback is off); ``excluded_namespaces_since``: when
    the excludeNamespace setting in force was recorded (``None`` before the first sample).
    """

    interval: timedelta
    source: SourceKind | None = None
    synced: bool = False
    last_tick_at: datetime | None = None
    last_outcome: TickOutcome | None = None
    last_sample_at: datetime | None = None
    last_error: str | None = None
    samples_taken: int = 0
    samples_missed: int = 0
    ticks_failed: int = 0
    last_measurement: Measurement | None = None
    next_sample_at: datetime | None = None
    last_groups: Mapping[str, Measurement] | None = None
    excluded_namespaces_since: datetime | None = None
