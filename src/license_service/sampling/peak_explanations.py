"""Keeping a sample's breakdown when it raises a day's peak (SPEC 9), of the cluster and
of each chargeback group (SPEC 8).

``keep_peak_explanations`` runs in the sample's transaction, after its usage is
stored: it compares the sample's products and bundled products (the cluster's, and
each group's) with the quantities explained for the day so far and, only when one is
raised, explains the view (``metering.usage_explanations``, one pass over the pods for
the cluster and every group) and keeps the breakdown of the rows raised. A sample that
raises nothing (most samples of a day) costs one small query, groups included.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection

from license_service.metering.cluster_view import ClusterId, ClusterView
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    ExplainedRow,
    explain_in_groups,
)
from license_service.store.instants import utc_day
from license_service.store.usage_explanations import day_quantities_by_group, keep_explanations


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


def raised_rows(
    measurement: Measurement,
    kept: Mapping[ExplainedRow, tuple[int, datetime]],
    *,
    taken_at: datetime,
) -> set[ExplainedRow]:
    """The rows of ``measurement`` that raise (or reach earlier) the ``kept`` peaks; pure."""
    raised = set()
    for key, value in explained_quantities(measurement).items():
        before = kept.get(key)
        if before is None or value > before[0] or (value == before[0] and taken_at < before[1]):
            raised.add(key)
    return raised


def keep_peak_explanations(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    taken_at: datetime,
    view: ClusterView,
    settings: MeteringSettings,
    measurement: Measurement,
    groups: Mapping[str, Measurement] | None = None,
    group_of: Mapping[str, str] | None = None,
) -> int:
    """Keep the breakdown of every row this sample raises to a new peak of its day.

    ``groups`` (while chargeback is on): each group's measurement of this sample, whose
    raised rows are explained from its namespaces' pods (``group_of``: namespace ->
    group, as the groups were measured) and kept under the group's name. Returns how
    many rows were explained.
    """
    day = utc_day(taken_at)
    kept = day_quantities_by_group(connection, cluster_id=cluster_id, day=day)
    measured = {WHOLE_CLUSTER: measurement, **(groups or {})}
    raised: dict[str, set[ExplainedRow]] = {}
    for group_name, group_measurement in measured.items():
        rows = raised_rows(group_measurement, kept.get(group_name, {}), taken_at=taken_at)
        if rows:
            raised[group_name] = rows
    if not raised:
        return 0
    explained = explain_in_groups(view.pods, view.nodes, settings, group_of or {}, wanted=raised)
    count = 0
    for group_name, explanations in explained.items():
        keep_explanations(
            connection,
            cluster_id=cluster_id,
            day=day,
            group_name=group_name,
            sample_at=taken_at,
            explanations=explanations.values(),
        )
        count += len(explanations)
    return count
