"""The links of ``/status`` to the explanation of each product's peak (SPEC 9); pure.

Like the page's other links they carry no token (no answer ever holds one, and the
page runs no script): each opens ``/`` with ``open=usage_explained`` and the
explanation's parameters, and the script of ``/``, which holds the token for the
tab, goes on to ``/usage_explained`` with it (or asks for the token). The day is the
product's ``metricPeakDate`` in the period shown. A Cloud Pak's own row is explained
through its bundled products, so it gets no link of its own. Values go through
``urlencode`` here and through Jinja's autoescape in the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage


@dataclass(frozen=True, slots=True)
class ExplanationLink:
    """A link to the explanation of one row's peak: what it explains, and where it goes."""

    label: str
    href: str


def explanation_links(
    *,
    period: DatePeriod,
    peaks: Iterable[PeriodPeak[ProductUsage]],
    bundled_peaks: Iterable[PeriodPeak[BundledProductUsage]],
) -> list[ExplanationLink]:
    """A link per stand-alone product and per bundled product of the period's peaks."""
    bundled = list(bundled_peaks)
    cloudpaks = {(peak.row.cloudpak_id, peak.row.cloudpak_metric) for peak in bundled}
    links = [
        ExplanationLink(
            label=f"{peak.row.name} ({peak.row.metric}) on {peak.peak_date.isoformat()}",
            href=_href(period, peak.row.id, peak.row.metric, peak.peak_date.isoformat()),
        )
        for peak in peaks
        if (peak.row.id, peak.row.metric) not in cloudpaks
    ]
    links.extend(
        ExplanationLink(
            label=(
                f"{peak.row.product_name} in {peak.row.cloudpak_name} ({peak.row.metric}) "
                f"on {peak.peak_date.isoformat()}"
            ),
            href=_href(
                period,
                peak.row.product_id,
                peak.row.metric,
                peak.peak_date.isoformat(),
                cloudpak_id=peak.row.cloudpak_id,
            ),
        )
        for peak in bundled
    )
    return links


def _href(
    period: DatePeriod, product_id: str, metric: str, day: str, *, cloudpak_id: str = ""
) -> str:
    query = {
        "dateFrom": period.first.isoformat(),
        "dateTo": period.last.isoformat(),
        "open": "usage_explained",
        "productId": product_id,
        "metricName": metric,
        "date": day,
    }
    if cloudpak_id:
        query["cloudpakId"] = cloudpak_id
    return f"/?{urlencode(query)}"
