"""Keeping a sample's breakdown when it raises a day's peak (SPEC 9), of the cluster and
of each chargeback group (SPEC 8).

``keep_peak_explanations`` runs in the sample's transaction, after its usage is
stored: it compares the sample's products and bundled products (the cluster's, and
each group's) with the quantities explained for the day so far and, only when one is
raised, keeps the cells of the rows raised (``store.explanation_cells``): the view's
own, kept pod by pod by the collector (``ClusterView.cells``), or counted here in one
pass for a source that keeps none, and the rows as entries of the day's lists
(``store.open_explanations``). Groups refer to the cluster's cells with the sample's
labels. A sample that raises nothing (most samples of a day) costs two small queries,
groups included.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection

from license_service.metering.cluster_view import ClusterId, ClusterView
from license_service.metering.explanation_cells import CellIndex, ExplainedRow
from license_service.metering.first_peak import replaces
from license_service.metering.node_usage import is_measurable
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_explanations import WHOLE_CLUSTER
from license_service.store.explanation_cells import forget_unreferenced, keep_cells
from license_service.store.instants import utc_day
from license_service.store.usage_explanations import (
    KeptRow,
    KeptValue,
    keep_explanations,
    kept_day,
)

_MadeKeys = dict[tuple[object, ...], tuple[object, ExplainedRow]]
"""Keys of explained rows made for a sample, with the ratio object each was made for."""


def explained_quantities(
    measurement: Measurement, keys: _MadeKeys | None = None
) -> dict[ExplainedRow, int]:
    """The quantity of every row of ``measurement`` that an explanation explains; pure but
    for ``keys``, the rows' keys made so far (a sample's groups share them).

    Stand-alone products and bundled products (by measured quantity); a Cloud Pak's row
    is the sum of its bundled products and is explained through them.
    """
    quantities: dict[ExplainedRow, int] = {}
    cloudpaks = set()
    made: _MadeKeys = {} if keys is None else keys
    for row in measurement.bundled_products:
        cloudpaks.add((row.cloudpak_id, row.cloudpak_metric))
        # The ratio by identity (the object kept beside the key, so an identity is never
        # taken for another's): a Ratio's hash is its Fractions', made in Python, and a
        # sample with groups has a thousand rows.
        conversion = row.conversion
        at = (row.cloudpak_id, row.cloudpak_metric, row.product_id, row.metric, id(conversion))
        found = made.get(at)
        if found is None or found[0] is not conversion:
            found = made[at] = (conversion, ExplainedRow(*at[:4], str(conversion)))
        quantities[found[1]] = row.measured_quantity
    for product in measurement.products:
        if (product.id, product.metric) not in cloudpaks:
            named = (product.id, product.metric)
            found = made.get(named)
            if found is None:
                found = made[named] = (None, ExplainedRow("", "", *named, ""))
            quantities[found[1]] = product.quantity
    return quantities


def raised_rows(
    quantities: Mapping[ExplainedRow, int],
    kept: Mapping[ExplainedRow, KeptValue],
    sampled_at: datetime,
) -> set[ExplainedRow]:
    """The rows of ``quantities`` (``explained_quantities``) that a sample at
    ``sampled_at`` raises above what the day ``kept``, or reaches earlier; pure."""
    raised = set()
    for key, value in quantities.items():
        before = kept.get(key)
        if before is None or replaces(value, sampled_at, before):
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
    many rows were kept.
    """
    kept = kept_day(connection, cluster_id=cluster_id, day=utc_day(taken_at))
    measured = {WHOLE_CLUSTER: measurement, **(groups or {})}
    cells = view.cells if view.cells is not None else CellIndex.of(view.pods, view.nodes).cells()
    raised: dict[str, list[KeptRow]] = {}
    keys: _MadeKeys = {}
    for group_name, group_measurement in measured.items():
        quantities = explained_quantities(group_measurement, keys)
        rows = [
            KeptRow(row, cells.rows[row].product_name, quantities[row])
            for row in raised_rows(quantities, kept.values(group_name), taken_at)
            # Nothing to explain without cells, or for a metric not counted from CPU.
            if row in cells.rows and is_measurable(row.metric)
        ]
        if rows:
            raised[group_name] = rows
    if not raised:
        return 0
    keep_cells(
        connection,
        cluster_id=cluster_id,
        sample_at=taken_at,
        cells=cells,
        rows={kept_row.row for rows in raised.values() for kept_row in rows},
        settings=settings,
        group_of=group_of or {},
    )
    keep_explanations(
        connection,
        kept=kept,
        sample_at=taken_at,
        threads_per_core=settings.threads_per_core,
        rows=raised,
    )
    if kept.open:
        # The cells of an earlier sample of the day whose every row this one raised again.
        forget_unreferenced(connection, cluster_id=cluster_id, day=kept.day)
    return sum(len(rows) for rows in raised.values())
