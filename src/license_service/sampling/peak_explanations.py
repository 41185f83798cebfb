"""Keeping a sample's breakdown when it raises a day's peak (SPEC 9).

``keep_peak_explanations`` runs in the sample's transaction, after its usage is
stored: it compares the sample's products and bundled products with the quantities
explained for the day so far and, only when one is raised, explains the view
(``metering.usage_explanations``) and keeps the breakdown of the rows raised. A
sample that raises nothing (most samples of a day) costs one small query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from license_service.metering.cluster_view import ClusterId, ClusterView
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    ExplainedRow,
    explain_usage,
)
from license_service.store.instants import utc_day
from license_service.store.usage_explanations import day_quantities, keep_explanations


def explained_quantities(measurement: Measurement) -> dict[ExplainedRow, int]:
    """The quantity of every row of ``measurement`` that an explanation explains; pure.

    Stand-alone products and bundled products (by measured quantity); a Cloud Pak's row
    is the sum of its bundled products and is explained through them.
    """
    quantities: dict[ExplainedRow, int] = {}
    cloudpaks = set()
    for row in measurement.bundled_products:
        cloudpaks.add((row.cloudpak_id, row.cloudpak_metric))
        key = ExplainedRow(
            row.cloudpak_id, row.cloudpak_metric, row.product_id, row.metric, str(row.conversion)
        )
        quantities[key] = row.measured_quantity
    for product in measurement.products:
        if (product.id, product.metric) not in cloudpaks:
            quantities[ExplainedRow("", "", product.id, product.metric, "")] = product.quantity
    return quantities


def keep_peak_explanations(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    taken_at: datetime,
    view: ClusterView,
    settings: MeteringSettings,
    measurement: Measurement,
) -> int:
    """Keep the breakdown of every row this sample raises to a new peak of its day.

    Returns how many rows were explained.
    """
    day = utc_day(taken_at)
    kept = day_quantities(connection, cluster_id=cluster_id, day=day, group_name=WHOLE_CLUSTER)
    raised = set()
    for key, value in explained_quantities(measurement).items():
        before = kept.get(key)
        if before is None or value > before[0] or (value == before[0] and taken_at < before[1]):
            raised.add(key)
    if not raised:
        return 0
    explanations = explain_usage(view.pods, view.nodes, settings, only=raised)
    chosen = [explanation for key, explanation in explanations.items() if key in raised]
    keep_explanations(
        connection,
        cluster_id=cluster_id,
        day=day,
        group_name=WHOLE_CLUSTER,
        sample_at=taken_at,
        explanations=chosen,
    )
    return len(chosen)
