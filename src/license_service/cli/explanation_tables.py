"""Usage explanations shown as rich tables (``measure --explain``), one per explained row.

Every value from the cluster (names of namespaces, workloads, nodes, products) is
printed as plain text, never as rich markup: anyone who can create a pod writes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from license_service.metering.usage import MANAGED_VIRTUAL_SERVER, PROCESSOR_VALUE_UNIT
from license_service.metering.usage_explanations import UsageExplanation

_NAME_COLUMNS = (
    ("Namespace", "namespace"),
    ("Kind", "workload_kind"),
    ("Workload", "workload_name"),
    ("Node", "node"),
)


def render_explanations(console: Console, explanations: Iterable[UsageExplanation]) -> None:
    """Print a table per explanation, titled with how its quantity follows from the rows."""
    for explanation in explanations:
        console.print(_table(explanation))
        console.print()


def _title(explanation: UsageExplanation) -> Text:
    row = explanation.row
    title = Text(f"{explanation.product_name} ({row.product_id}), {row.metric}")
    if row.cloudpak_id:
        title.append(f", in Cloud Pak {row.cloudpak_id} at {row.conversion}")
    total = explanation.total_millicores
    threads = explanation.threads_per_core
    if row.metric == MANAGED_VIRTUAL_SERVER:
        how = f"{explanation.metric_quantity} = nodes with charged containers"
    elif row.metric == PROCESSOR_VALUE_UNIT:
        how = (
            f"{explanation.metric_quantity} = ceil(sum of capped millicores x PVU per core "
            f"/ 1000 / threadsPerCore {threads})"
        )
    else:
        how = f"{explanation.metric_quantity} = ceil({total} m / 1000 / threadsPerCore {threads})"
    title.append(f"\n{how}; {total} capped millicores in all")
    return title


def _table(explanation: UsageExplanation) -> Table:
    pvu = explanation.row.metric == PROCESSOR_VALUE_UNIT
    table = Table(
        title=_title(explanation),
        caption="Charged and Capped in millicores; Capped shares an over-committed node's CPU",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    # Names get the room they need (up to 16 columns) before numbers do: rich would
    # otherwise share an 80-column terminal evenly and break every name.
    for name, attribute in _NAME_COLUMNS:
        longest = max((len(getattr(c, attribute)) for c in explanation.contributions), default=0)
        table.add_column(name, overflow="fold", min_width=min(max(len(name), longest), 16))
    for name in ("Pods", "Cont.", "Charged", "Capped", *(["PVU"] if pvu else [])):
        table.add_column(name, justify="right")
    for c in explanation.contributions:
        table.add_row(
            Text(c.namespace),
            Text(c.workload_kind),
            Text(c.workload_name),
            Text(c.node),
            str(c.pods),
            str(c.containers),
            str(c.charged_millicores),
            str(c.capped_millicores),
            *([str(c.pvu_per_core)] if pvu else []),
        )
    return table
