"""The Reporter's page ``/`` in process (SQLite): the fleet's numbers, the charts' bars, the
filters, escaping, bounds and the gate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser

from starlette.testclient import TestClient

from license_service.fleet.push_format import ClusterIdentity, PushDay, encode_push
from license_service.metering.usage_rows import ProductUsage
from license_service.signing.keys import SigningKey
from license_service.web.reporter.fleet_page import MAX_CHARTS
from license_service.web.reporter.fleet_page_links import period_presets
from license_service.web.reporter.fleet_page_script import FLEET_SCRIPT
from license_service.web.reporter.stacked_charts import MAX_BANDS
from tests.fleet.pushes import cluster_key, day_of, push_body
from tests.web.reporter.conftest import NOW, PERIOD, TOKEN

D1 = date(2026, 12, 1)
VPC = "VIRTUAL_PROCESSOR_CORE"
HOSTILE = "<script>alert('name')</script>"


class _Page(HTMLParser):
    """The charts' bars (product, metric, band's cluster id, day, quantity, height), the
    charts' scales, and the text of the cluster table."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[tuple[str, str, str, str, int, float]] = []
        self.scales: dict[str, float] = {}
        self._figure: dict[str, str] = {}
        self._band = ""
        self._in_clusters = False
        self.cluster_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "figure":
            self._figure = found
            key = f"{found['data-product-id']} {found['data-metric']}"
            self.scales[key] = int(found["data-plot-height"]) / int(found["data-top-value"])
        elif tag == "g" and "band" in found.get("class", ""):
            self._band = found["data-cluster-id"]
        elif tag == "rect" and "data-day" in found:
            self.bars.append(
                (
                    self._figure["data-product-id"],
                    self._figure["data-metric"],
                    self._band,
                    found["data-day"],
                    int(found["data-quantity"]),
                    float(found["height"]),
                )
            )
        elif tag == "table" and found.get("id") == "cluster-rows":
            self._in_clusters = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_clusters = False

    def handle_data(self, data: str) -> None:
        if self._in_clusters and data.strip():
            self.cluster_text.append(data.strip())


class _Scripts(HTMLParser):
    """The ``nonce`` of every ``<script>`` of a page and the text inside them."""

    def __init__(self) -> None:
        super().__init__()
        self.nonces: list[str | None] = []
        self.texts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.nonces.append(dict(attrs).get("nonce"))
            self.texts.append("")
            self._inside = True

    def handle_endtag(self, tag: str) -> None:
        self._inside = self._inside and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.texts[-1] += data


def _parsed(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _push(client: TestClient, body: bytes) -> None:
    answer = client.post("/v1/push", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text


def _mq_days(values: dict[date, int]) -> list[PushDay]:
    """Consecutive days (pushes hold no hole); a day not in ``values`` runs no IBM MQ."""
    first, last = min(values), max(values)
    days = []
    for offset in range((last - first).days + 1):
        day = day_of(
            first + timedelta(days=offset), quantity=values.get(first + timedelta(days=offset), 0)
        )
        if day.date not in values:
            day = replace(day, products=day.products[1:])
        days.append(day)
    return days


def test_the_page_shows_the_fleets_products_and_each_clusters_bars(client: TestClient) -> None:
    pushed = {
        "c1": {D1: 3, D1 + timedelta(days=1): 5, D1 + timedelta(days=2): 4},
        "c2": {D1: 4, D1 + timedelta(days=2): 6},
    }
    for cluster_id, values in pushed.items():
        _push(client, push_body(cluster_id, _mq_days(values)))
    answer = client.get("/", params=PERIOD)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "style-src 'nonce-" in answer.headers["Content-Security-Policy"]
    page = _parsed(answer.text)
    products = client.get("/products", params=PERIOD).json()
    mq = next(row for row in products if row["id"] == "mq-1")
    assert (mq["metricQuantity"], mq["metricPeakDate"]) == (10, "2026-12-03")
    for row in products:
        assert f"<td>{row['id']}</td>" in answer.text
        assert f'<td class="number">{row["metricQuantity"]}</td>' in answer.text
    drawn = {
        (cluster, day): quantity
        for product, _, cluster, day, quantity, _ in page.bars
        if product == "mq-1"
    }
    assert drawn == {
        (cluster_id, day.isoformat()): quantity
        for cluster_id, values in pushed.items()
        for day, quantity in values.items()
    }
    scale = page.scales[f"mq-1 {VPC}"]
    for product, _, _, _, quantity, height in page.bars:
        if product == "mq-1":
            assert abs(height - quantity * scale) < 0.011
    assert {"c1", "c2", "name of c1", "none"} <= set(page.cluster_text)
    assert 'id="link-status" href="/status" data-token>' in answer.text
    assert "id='link-page' href='/' data-token>" in client.get("/status").text


def test_the_metric_filter_narrows_the_products_and_the_charts(client: TestClient) -> None:
    day = replace(
        day_of(D1),
        products=(
            ProductUsage("IBM MQ", "mq-1", VPC, 4),
            ProductUsage("IBM MQ", "mq-1", "PROCESSOR_VALUE_UNIT", 280),
        ),
    )
    _push(client, push_body("c1", [day]))
    every = client.get("/", params=PERIOD).text
    assert {(p, m) for p, m, *_ in _parsed(every).bars} == {
        ("mq-1", VPC),
        ("mq-1", "PROCESSOR_VALUE_UNIT"),
    }
    assert 'id="metric-0"' in every
    assert 'id="metric-1"' in every
    assert "dateTo=2026-12-06&amp;metricName=PROCESSOR_VALUE_UNIT" in every
    one = client.get("/", params={**PERIOD, "metricName": "PROCESSOR_VALUE_UNIT"}).text
    assert {(p, m) for p, m, *_ in _parsed(one).bars} == {("mq-1", "PROCESSOR_VALUE_UNIT")}
    assert '<td class="words">VIRTUAL_<wbr>PROCESSOR_<wbr>CORE</td>' not in one
    assert 'id="metric-shown">PROCESSOR_VALUE_UNIT<' in one
    # The period links keep the metric; the metric links keep the period.
    assert "metricName=PROCESSOR_VALUE_UNIT" in one.split('id="period-last-month"')[1][:120]


def test_a_hostile_cluster_name_is_shown_as_text(client: TestClient) -> None:
    body = encode_push(
        ClusterIdentity("evil", HOSTILE, "1.0"),
        [day_of(D1)],
        key=cluster_key("evil"),
        sent_at=NOW,
    )
    _push(client, body)
    text = client.get("/", params=PERIOD).text
    assert text.count("<script") == 1  # the page's own, nonce'd
    assert HOSTILE not in text
    escaped = "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"
    assert text.count(escaped) >= 4  # cluster table, band title, legend, numbers


def test_a_large_fleet_draws_the_largest_clusters_and_the_others_in_one_band(
    client: TestClient,
) -> None:
    count = MAX_BANDS + 2
    for n in range(count):
        _push(client, push_body(f"c{n}", [day_of(D1, quantity=n + 1)]))
    text = client.get("/", params=PERIOD).text
    bars = [b for b in _parsed(text).bars if b[0] == "mq-1"]
    shown = [f"c{n}" for n in range(count - 1, count - MAX_BANDS, -1)]  # the largest first
    assert [cluster for _, _, cluster, *_ in bars] == [*shown, ""]
    assert bars[-1][4] == sum(range(1, count - MAX_BANDS + 2))  # the others' sum
    assert sum(b[4] for b in bars) == sum(range(1, count + 1))  # the fleet sum
    assert "other clusters" in text


def test_many_products_chart_the_first_and_say_so(client: TestClient) -> None:
    products = tuple(ProductUsage(f"P{n:02}", f"p-{n:02}", VPC, n + 1) for n in range(14))
    _push(client, push_body("c1", [replace(day_of(D1), products=products)]))
    text = client.get("/", params=PERIOD).text
    charted = {product for product, *_ in _parsed(text).bars}
    assert len(charted) == MAX_CHARTS
    assert f"{MAX_CHARTS} of 14 products are charted" in text
    assert "<td>p-13</td>" in text  # the table lists them all


def test_a_bad_period_is_400_and_no_token_is_401(client: TestClient) -> None:
    bad = client.get("/", params={"dateFrom": "2026-12-05", "dateTo": "2026-12-01"})
    assert bad.status_code == 400
    assert "swap the two dates" in bad.json()["message"]
    assert client.get("/", headers={"Authorization": ""}).status_code == 401


def test_the_periods_are_the_last_30_days_and_the_months_quarters_and_years() -> None:
    presets = {
        name: (p.first.isoformat(), p.last.isoformat())
        for name, _, p in period_presets(date(2026, 2, 15))
    }
    assert presets == {
        "30-days": ("2026-01-17", "2026-02-15"),
        "this-month": ("2026-02-01", "2026-02-15"),
        "last-month": ("2026-01-01", "2026-01-31"),
        "this-quarter": ("2026-01-01", "2026-02-15"),
        "last-quarter": ("2025-10-01", "2025-12-31"),
        "this-year": ("2026-01-01", "2026-02-15"),
        "last-year": ("2025-01-01", "2025-12-31"),
    }


def test_a_refused_key_is_shown_in_the_cluster_list(client: TestClient) -> None:
    _push(client, push_body("c1", [day_of(D1)]))
    stranger = SigningKey.generate()
    refused = client.post("/v1/push", content=push_body("c1", [day_of(D1)], key=stranger))
    assert refused.status_code == 409
    cells = _parsed(client.get("/", params=PERIOD).text).cluster_text
    assert cluster_key("c1").fingerprint in cells
    assert f"{stranger.fingerprint}, refused: license-service reporter trust c1 accepts it" in cells


def test_each_page_runs_the_one_token_script_under_its_nonce_and_holds_no_token(
    client: TestClient,
) -> None:
    """Opened with ``?token=`` (as the demo prints them), the pages and the refusal page
    hold the token nowhere (SPEC 4.6): the tab's script keeps it, under a strict policy."""
    _push(client, push_body("c1", [day_of(D1)]))
    wrong = "w" * 32
    no_header = {"Authorization": "", "Accept": "text/html"}
    answers = {
        path: client.get(path, params={**PERIOD, "token": TOKEN}, headers=no_header)
        for path in ("/", "/status")
    }
    refused = client.get("/", params={"token": wrong}, headers=no_header)
    answers["refusal"] = refused
    assert [a.status_code for a in answers.values()] == [200, 200, 401]
    nonces = set()
    for path, answer in answers.items():
        assert TOKEN not in answer.text, path
        assert wrong not in answer.text, path
        policy = answer.headers["Content-Security-Policy"]
        assert "unsafe" not in policy
        scripts = _Scripts()
        scripts.feed(answer.text)
        [nonce] = scripts.nonces
        assert nonce is not None
        assert f"script-src 'nonce-{nonce}'" in policy
        assert f"style-src 'nonce-{nonce}'" in policy
        assert scripts.texts == [FLEET_SCRIPT]
        nonces.add(nonce)
    assert len(nonces) == 3  # a new nonce per answer
    assert 'data-refused="401"' in refused.text
