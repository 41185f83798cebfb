"""The demo's uploaded usage (SPEC 10): a monthly API-call count of one bundled product.

IBM API Connect, bundled in the simulated IBM Cloud Pak for Integration, counts API
calls, which no pod resource shows; its daily counts are uploaded with
``ADD_MONTHLY``, so ``/bundled_products`` shows the month's running total and the
Cloud Pak's value in ``/products`` includes it (converted at 2,000,000 calls per
core). Each day's count is the same for a given seed and day, and carries a
``submissionId`` naming the day: running the demo again adds nothing twice.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

from license_service.metering.cluster_view import ClusterId
from license_service.metering.ratios import parse_ratio
from license_service.metering.uploads import AggregationPolicy, Submission
from license_service.store.database import Database
from license_service.store.uploads import record_uploads

API_CONNECT_ID: Final = "2c717d4ecc8e4f0f8e7b5a3d1c9e7f25"
"""The simulated cluster's API Connect: measured in cores, its API calls uploaded."""
_CP4I_ID: Final = "c8b82d189e7545f0892db9ef2731b90d"


def demo_api_calls(*, today: date, days: int, seed: int) -> list[Submission]:
    """One ``ADD_MONTHLY`` submission of API Connect's calls per day of the last ``days``."""
    first = today - timedelta(days=max(days, 1) - 1)
    submissions = []
    for offset in range((today - first).days + 1):
        day = first + timedelta(days=offset)
        weekday_load = 0.4 if day.weekday() >= 5 else 1.0
        # Simulated traffic, not a secret: a seeded generator gives the same days again.
        draw = random.Random(f"{seed}-{day}").uniform(40_000, 110_000)  # noqa: S311
        calls = int(draw * weekday_load)
        submissions.append(
            Submission(
                day=day,
                product_id=API_CONNECT_ID,
                product_name="IBM API Connect",
                metric="API_CALLS",
                value=Decimal(calls),
                policy=AggregationPolicy.ADD_MONTHLY,
                cloudpak_id=_CP4I_ID,
                cloudpak_name="IBM Cloud Pak for Integration",
                cloudpak_metric="VIRTUAL_PROCESSOR_CORE",
                ratio=parse_ratio("2000000:1"),
                submission_id=f"demo-api-connect-{day}",
            )
        )
    return submissions


def upload_demo_usage(
    database: Database, *, cluster_id: ClusterId, now: datetime, days: int, seed: int
) -> int:
    """Store the demo's API-call counts (those not stored yet); return how many were new."""
    submissions = demo_api_calls(today=now.date(), days=days, seed=seed)
    with database.begin() as connection:
        return record_uploads(
            connection, cluster_id=cluster_id, received_at=now, submissions=submissions
        )
