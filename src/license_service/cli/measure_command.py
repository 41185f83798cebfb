"""``license-service measure``: one measurement of cluster dumps, as a table or JSON.

Reads ``kubectl`` dumps, applies the metering settings of an optional
``IBMLicensing`` file and prints what one sample of that cluster would record. It
stores nothing. Problems in the data (broken annotations, unknown nodes) are part
of the output and the exit code stays 0; unusable files exit with code 2.
"""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from license_service.cli import options as flags
from license_service.cli.explanation_tables import render_explanations
from license_service.cli.measurement_tables import MeasuredCluster, render_measurement
from license_service.cluster.dumps import cluster_id_of, read_dumps
from license_service.configuration.config_file import load_licensing_file
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.errors import InputError
from license_service.message_values import quoted
from license_service.metering.api_rows import measurement_document
from license_service.metering.cluster_view import ClusterView
from license_service.metering.explanation_cells import CellIndex
from license_service.metering.measuring import measure
from license_service.metering.node_usage import is_measurable
from license_service.metering.usage_explanations import explain_usage, explanation_json


class OutputFormat(StrEnum):
    """How ``measure`` prints: tables for people, one JSON object for tools."""

    TABLE = "table"
    JSON = "json"


def measure_command(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE",
            help="Dumps from `kubectl get pods,nodes,namespaces -A -o json` (or -o yaml); "
            "several are merged; '-' reads standard input.",
            show_default=False,
        ),
    ],
    *,
    config: Annotated[
        Path | None,
        flags.optional(
            "--config",
            "-c",
            metavar="IBMLicensing.yaml",
            help_text="IBMLicensing document whose spec.features (hyperThreading.threadsPerCore, "
            "nodeCpuCappingEnabled) apply to the measurement.",
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--output",
            "-o",
            metavar="FORMAT",
            case_sensitive=False,
            help="table (for people) or json (one object, for tools).",
        ),
    ] = OutputFormat.TABLE,
    explain: Annotated[
        str | None,
        flags.optional(
            "--explain",
            metavar="PRODUCT_ID",
            help_text="Show where PRODUCT_ID's usage comes from instead: one row per namespace, "
            "workload and node, with the millicores charged and left after capping.",
        ),
    ] = None,
) -> None:
    """Measure license usage in cluster dumps, as one sample would (nothing is stored)."""
    licensing = load_licensing_file(config) if config is not None else LicensingConfig()
    view = read_dumps(files)
    if explain is not None:
        _explain(view, licensing, product_id=explain, output=output)
        return
    measurement = measure(view, licensing.metering)
    # Configuration warnings (ignored fields) belong with the measurement's own.
    measurement = dataclasses.replace(
        measurement, warnings=(*licensing.warnings, *measurement.warnings)
    )
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(measurement_document(measurement), indent=2, ensure_ascii=False))
        return
    render_measurement(
        Console(highlight=False),
        MeasuredCluster(
            cluster_id=cluster_id_of(view),
            view=view,
            settings=licensing.metering,
            measurement=measurement,
        ),
    )


def _explain(
    view: ClusterView, licensing: LicensingConfig, *, product_id: str, output: OutputFormat
) -> None:
    """Print the explanations of ``product_id`` (every metric and Cloud Pak it is in)."""
    # Counted once, then only the product's rows explained: explaining every row of a
    # large cluster costs more than counting it.
    cells = CellIndex.of(view.pods).cells()
    measurable = {row for row in cells.rows if is_measurable(row.metric)}
    wanted = {row for row in measurable if row.product_id == product_id}
    explanations = explain_usage(
        view.pods, view.nodes, licensing.metering, only=wanted, cells=cells
    )
    chosen = sorted(explanations.values(), key=lambda e: tuple(e.row))
    if not chosen:
        known = sorted({row.product_id for row in measurable})
        raise InputError(
            f"no product with id {quoted(product_id)} is measured in these dumps; the products "
            f"that can be explained are: {', '.join(known) or 'none'} (a Cloud Pak is explained "
            "through its bundled products)"
        )
    if output is OutputFormat.JSON:
        document = {"explanations": [explanation_json(e) for e in chosen]}
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    render_explanations(Console(highlight=False), chosen)
