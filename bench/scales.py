"""How big the benchmarks run: the issue's sizes (``FULL``) or a smoke run (``SMOKE``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Scale:
    """Sizes and durations of one run of the benchmarks."""

    name: str
    pods: int
    nodes: int
    model_pods: int
    watch_events: int
    sample_repeats: int
    products: int
    days: int
    store_samples: int
    api_seconds: float
    api_clients: tuple[int, ...]
    fleet_clusters: int
    fleet_products: int
    fleet_days: int
    fleet_senders: int


FULL: Final = Scale(
    name=(
        "full size: 150,000 pods on 5,000 nodes; 1,000 products x 731 days; a fleet of "
        "500 clusters x 50 products x 731 days"
    ),
    pods=150_000,
    nodes=5_000,
    model_pods=15_000,
    watch_events=60_000,
    sample_repeats=5,
    products=1_000,
    days=731,
    store_samples=20,
    api_seconds=6.0,
    api_clients=(1, 16),
    fleet_clusters=500,
    fleet_products=50,
    fleet_days=731,
    fleet_senders=4,
)

SMOKE: Final = Scale(
    name="smoke size",
    pods=300,
    nodes=20,
    model_pods=500,
    watch_events=200,
    sample_repeats=1,
    products=30,
    days=4,
    store_samples=2,
    api_seconds=0.3,
    api_clients=(1, 2),
    fleet_clusters=3,
    fleet_products=10,
    fleet_days=40,
    fleet_senders=2,
)
