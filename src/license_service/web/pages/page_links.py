"""The APIs the simplified interface (``/``, SPEC 3.1) links to, with their stable element ids.

Pure data and one pure function. Each link has an ``id`` (``link-products``,
``link-products-csv``...) that end-to-end tests and the page's script rely on; its
``href`` is rendered for the default period without a token, so links work without
the script; the script then adds the chosen period and ``?token=``.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Final
from urllib.parse import urlencode

from license_service.metering.periods import DatePeriod


@dataclass(frozen=True, slots=True)
class Api:
    """An API listed on ``/``: its path, what it gives, and whether it takes a period or auth."""

    path: str
    description: str
    _: KW_ONLY
    period: bool = True
    auth: bool = True
    formats: tuple[str | None, ...] = (None,)

    @property
    def name(self) -> str:
        """The path without its slash and suffix, for element ids (``bundled-products``)."""
        return self.path.strip("/").split(".")[0].replace("_", "-")


@dataclass(frozen=True, slots=True)
class Link:
    """One link of an API on ``/``."""

    id: str
    label: str
    href: str
    format: str | None


_CSV: Final = (None, "csv")
APIS: Final = (
    Api("/products", "Peak of every product and Cloud Pak in the period.", formats=_CSV),
    Api("/bundled_products", "Peak of every product counted towards a Cloud Pak.", formats=_CSV),
    Api("/services", "Peak of every service of a bundled product.", formats=_CSV),
    Api("/compliance", "Peak of every product against its entitlement.", formats=_CSV),
    Api("/snapshot", "Audit snapshot of the period: a signed zip of CSV files."),
    Api("/status", "Status page: collector, usage now, peaks, gaps, problems."),
    Api("/health", "Health of the collector, and pods that could not be counted.", period=False),
    Api(
        "/chargeback_groups",
        "Chargeback groups and their namespaces, as labelled now.",
        period=False,
        formats=_CSV,
    ),
    Api("/version", "Version, build date and commit.", period=False, auth=False),
    Api("/openapi.json", "OpenAPI description of every endpoint.", period=False, auth=False),
)
_LABELS: Final = {None: "JSON", "csv": "CSV"}
_SINGLE_LABELS: Final = {"/snapshot": "Download", "/status": "Open", "/openapi.json": "JSON"}


def links_of(api: Api, period: DatePeriod) -> list[Link]:
    """The links of ``api`` for ``period``, without a token; pure."""
    links = []
    for format in api.formats:
        params: dict[str, str] = {}
        if api.period:
            params = {"dateFrom": period.first.isoformat(), "dateTo": period.last.isoformat()}
        if format is not None:
            params["format"] = format
        query = urlencode(params)
        suffix = f"-{format}" if format else ""
        label = _SINGLE_LABELS.get(api.path, _LABELS[format])
        links.append(
            Link(
                id=f"link-{api.name}{suffix}",
                label=label,
                href=f"{api.path}?{query}" if query else api.path,
                format=format,
            )
        )
    return links
