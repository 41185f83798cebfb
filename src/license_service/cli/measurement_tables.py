"""A measurement shown as rich tables: one per section, problems spelled out.

Sections without rows are left out, except products (an empty cluster says so).
Every value from the cluster is printed as plain text, never as rich markup:
annotations are written by anyone who can create a pod.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from license_service.formats.decimal_numbers import json_number
from license_service.metering.cluster_view import ClusterId, ClusterView
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import BundledProductUsage


@dataclass(frozen=True, slots=True)
class MeasuredCluster:
    """What ``render_measurement`` shows: the cluster, the settings used and the result."""

    cluster_id: ClusterId
    view: ClusterView
    settings: MeteringSettings
    measurement: Measurement


def render_measurement(console: Console, measured: MeasuredCluster) -> None:
    """Print the summary line and a table per non-empty section of the measurement."""
    console.print(_summary(measured))
    measurement = measured.measurement
    if measurement.products:
        console.print(_products_table(measurement))
    else:
        console.print(Text("\nNo licensed products found.", style="bold"))
    for table in (*_bundled_tables(measurement), _services_table(measurement)):
        if table.row_count:
            console.print(table)
    problems = [
        table
        for table in (
            _incomplete_table(measurement),
            _unmeasured_table(measurement),
            _unknown_nodes_table(measurement),
            _warnings_table(measurement),
        )
        if table.row_count
    ]
    for table in problems:
        console.print(table)
    if not problems:
        console.print(Text("No problems found.", style="green"))


def _summary(measured: MeasuredCluster) -> Text:
    view = measured.view
    settings = measured.settings
    running = sum(1 for pod in view.pods if pod.running)
    capping = (
        f"capped at node {settings.capping_source}" if settings.node_cpu_capping else "no capping"
    )
    return Text(
        f"Cluster {measured.cluster_id}: {len(view.nodes)} nodes, {len(view.pods)} pods "
        f"({running} running), {len(view.namespaces)} namespaces. "
        f"threadsPerCore {settings.threads_per_core}, {capping}."
    )


# Columns kept on one line while there is room; the free-text columns wrap first.
_WHOLE_COLUMNS = frozenset({"Metric", "Ratio", "Annotation"})


def _table(title: str, *columns: str, numeric: tuple[str, ...] = ()) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    for column in columns:
        # Fold rather than cut: an id or a metric name is useless when truncated.
        table.add_column(
            column,
            justify="right" if column in numeric else "left",
            overflow="fold",
            no_wrap=column in numeric or column in _WHOLE_COLUMNS,
        )
    return table


def _named(name: str, identifier: str) -> Text:
    """A name with its id below it, dimmed: ids are long, names are what people read."""
    text = Text(name)
    text.append(f"\n{identifier}", style="dim")
    return text


def _products_table(measurement: Measurement) -> Table:
    table = _table("Products", "Product", "Metric", "Quantity", numeric=("Quantity",))
    for usage in measurement.products:
        table.add_row(_named(usage.name, usage.id), Text(usage.metric), Text(str(usage.quantity)))
    return table


def _bundled_tables(measurement: Measurement) -> list[Table]:
    """One table per Cloud Pak: its bundled products and how each converts."""
    by_cloudpak: dict[tuple[str, str], list[BundledProductUsage]] = {}
    for usage in measurement.bundled_products:
        by_cloudpak.setdefault((usage.cloudpak_id, usage.cloudpak_metric), []).append(usage)
    tables = []
    for (cloudpak_id, cloudpak_metric), rows in by_cloudpak.items():
        table = _table(
            f"Bundled products of {rows[0].cloudpak_name} ({cloudpak_id}), "
            f"converted to {cloudpak_metric}",
            "Product",
            "Metric",
            "Measured",
            "Ratio",
            "Converted",
            numeric=("Measured", "Converted"),
        )
        for usage in rows:
            table.add_row(
                _named(usage.product_name, usage.product_id),
                Text(usage.metric),
                Text(str(usage.measured_quantity)),
                Text(str(usage.conversion)),
                Text(str(json_number(usage.converted_quantity))),
            )
        tables.append(table)
    return tables


def _services_table(measurement: Measurement) -> Table:
    table = _table("Services", "Product", "Service", "Metric", "Value", numeric=("Value",))
    for usage in measurement.services:
        table.add_row(
            _named(usage.product_name, usage.product_id),
            _named(usage.service_name, usage.service_id),
            Text(usage.metric),
            Text(str(usage.value)),
        )
    return table


def _incomplete_table(measurement: Measurement) -> Table:
    pods = measurement.incomplete_annotations
    table = _table(
        f"Pods not counted: incomplete annotations ({len(pods)})", "Pod", "Annotation", "Problem"
    )
    for pod in pods:
        for index, problem in enumerate(pod.problems):
            name = f"{pod.namespace}/{pod.name}" if index == 0 else ""
            table.add_row(Text(name), Text(problem.annotation), Text(problem.reason))
    return table


def _unmeasured_table(measurement: Measurement) -> Table:
    table = _table(
        "Products whose metric pod resources cannot measure", "Product", "Metric", "Cloud Pak ID"
    )
    for product in measurement.unmeasured_metrics:
        table.add_row(
            _named(product.name, product.id),
            Text(product.metric),
            Text(product.cloudpak_id or "-"),
        )
    return table


def _unknown_nodes_table(measurement: Measurement) -> Table:
    table = _table(
        "Pods on nodes missing from the dump (measured without capping)",
        "Node",
        "Pods",
        "Containers without CPU limit (not counted)",
        numeric=("Containers without CPU limit (not counted)",),
    )
    for node in measurement.unknown_nodes:
        pods = "\n".join(f"{pod.namespace}/{pod.name}" for pod in node.pods)
        table.add_row(Text(node.node_name), Text(pods), Text(str(node.containers_without_limit)))
    return table


def _warnings_table(measurement: Measurement) -> Table:
    table = _table("Warnings", "Warning")
    for warning in measurement.warnings:
        table.add_row(Text(warning))
    return table
