"""``/`` and ``/status`` (SPEC 3.1, 3.7): self-contained HTML, escaped values, strict CSP."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from license_service.metering.usage import AnnotationProblem, Measurement, PodProblems
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.store.sampling_coverage import record_missed_sample
from license_service.web.app_state import AppState
from tests.store.sample_builders import CLUSTER, at, product, store
from tests.web.conftest import NOW, World, authorized, sampling_status

EVIL = "<script>alert(1)</script>"


class Elements(HTMLParser):
    """The elements of a page: attributes by id, and every script and style tag."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.styles: list[dict[str, str | None]] = []
        self.external: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.by_id[str(attributes["id"])] = attributes
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style":
            self.styles.append(attributes)
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if "//" in value:
                self.external.append(value)


def nonce_of(policy: str, directive: str) -> str | None:
    match = re.search(rf"{directive} 'nonce-([^']+)'", policy)
    return match[1] if match else None


def test_index_has_the_token_fields_period_picker_and_a_link_per_api(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = Elements(response.text)
    for element_id in ("api-token", "service-account-token", "date-from", "date-to", "result"):
        assert element_id in page.by_id
    assert page.by_id["date-from"]["value"] == "2026-10-30"
    assert page.by_id["date-to"]["value"] == "2026-11-28"
    links = {
        "link-products": "/products",
        "link-products-csv": "/products",
        "link-bundled-products": "/bundled_products",
        "link-bundled-products-csv": "/bundled_products",
        "link-services": "/services",
        "link-services-csv": "/services",
        "link-snapshot": "/snapshot",
        "link-status": "/status",
        "link-health": "/health",
        "link-version": "/version",
        "link-openapi": "/openapi.json",
    }
    for link_id, path in links.items():
        href = str(page.by_id[link_id]["href"])
        assert urlsplit(href).path == path
        assert "token" not in href
    products = parse_qs(urlsplit(str(page.by_id["link-products-csv"]["href"])).query)
    assert products == {"dateFrom": ["2026-10-30"], "dateTo": ["2026-11-28"], "format": ["csv"]}
    assert page.by_id["link-snapshot"]["data-auth"] == "1"
    assert "data-auth" not in page.by_id["link-version"]


def test_index_runs_only_its_own_script_under_a_fresh_nonce(client: TestClient) -> None:
    first, second = client.get("/"), client.get("/")
    policy = first.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'")
    nonce = nonce_of(policy, "script-src")
    assert nonce is not None
    assert nonce == nonce_of(policy, "style-src")
    page = Elements(first.text)
    assert [script["nonce"] for script in page.scripts] == [nonce]
    assert [style["nonce"] for style in page.styles] == [nonce]
    assert page.external == []
    assert "connect-src 'self'" in policy
    assert nonce != nonce_of(second.headers["content-security-policy"], "script-src")
    assert first.headers["referrer-policy"] == "no-referrer"
    assert first.headers["cache-control"] == "no-store"


def test_index_escapes_the_cluster_name(client: TestClient) -> None:
    text = client.get("/").text
    assert "Test &lt;cluster&gt;" in text
    assert "Test <cluster>" not in text


def test_status_needs_authentication(client: TestClient) -> None:
    assert client.get("/status").status_code == 401


def test_status_shows_every_section_and_runs_no_script(
    client: TestClient, database: Database, signing_key: SigningKey
) -> None:
    store(database, at("2026-11-20", "10:00"), product("p1", 4, name="Product One"))
    response = client.get("/status", params=authorized())
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src" not in policy
    page = Elements(response.text)
    assert page.scripts == []
    for section in (
        "health",
        "collector-state",
        "usage-now",
        "period-peaks",
        "coverage",
        "authentication",
        "audit",
    ):
        assert section in page.by_id
    text = response.text
    assert "1.2.3" in text
    assert "cluster-a" in text
    assert signing_key.fingerprint in text
    assert "Product One" in text
    assert "API token in the URL (?token=)</th><td>on" in text


def test_status_escapes_names_from_the_cluster(
    client: TestClient, database: Database, world: World
) -> None:
    store(database, at("2026-11-20", "10:00"), product("evil", 2, name=EVIL))
    world.sampler = sampling_status(
        last_measurement=Measurement(
            products=(product("evil", 1, name=EVIL),),
            incomplete_annotations=(
                PodProblems("ns", EVIL, (AnnotationProblem("productName", EVIL),)),
            ),
        )
    )
    text = client.get("/status", params=authorized()).text
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4


def test_status_lists_gaps_with_their_reasons(client: TestClient, database: Database) -> None:
    store(database, at("2026-11-27", "10:00"), product("p1", 1))
    with database.begin() as connection:
        record_missed_sample(
            connection,
            cluster_id=CLUSTER,
            at=at("2026-11-27", "10:05"),
            reason="view older than 15 minutes",
        )
    store(database, at("2026-11-27", "11:00"), product("p1", 1))
    text = client.get("/status", params=authorized()).text
    assert "view older than 15 minutes" in text
    assert "2026-11-27T10:00:00Z" in text


def test_status_shows_usage_now_from_the_store_after_a_restart(
    client: TestClient, database: Database, world: World
) -> None:
    store(database, NOW - timedelta(minutes=2), product("p9", 7, name="Stored Product"))
    world.sampler = sampling_status(last_measurement=None)
    text = client.get("/status", params=authorized()).text
    assert "stored sample of 2026-11-28T09:58:00Z" in text
    assert "Stored Product" in text


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_status_without_a_token_answers_a_browser_with_a_page_that_says_how_to_get_in(
    client: TestClient,
) -> None:
    response = client.get("/status", headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 401
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["www-authenticate"] == 'Bearer realm="license-service"'
    policy = response.headers["content-security-policy"]
    assert "script-src" not in policy
    page = Elements(response.text)
    assert page.scripts == []
    assert [style["nonce"] for style in page.styles] == [nonce_of(policy, "style-src")]
    assert page.by_id["link-home"]["href"] == "/"
    assert "license-service token get" in response.text
    assert "this endpoint needs authentication" in response.text


def test_status_without_a_token_answers_api_clients_in_json(client: TestClient) -> None:
    for accept in ("application/json", "*/*", "text/html;q=0, application/json"):
        response = client.get("/status", headers={"Accept": accept})

        assert response.status_code == 401, accept
        assert response.json()["status"] == 401, accept


def test_status_refusal_page_escapes_the_message(client: TestClient) -> None:
    response = client.get(
        "/status", params={"token": EVIL + "x" * 20}, headers={"Accept": BROWSER_ACCEPT}
    )

    assert response.status_code == 401
    assert EVIL not in response.text


def test_data_endpoints_answer_json_refusals_even_to_browsers(client: TestClient) -> None:
    response = client.get("/products", headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_status_shows_the_period_asked_for(client: TestClient, database: Database) -> None:
    store(database, at("2026-11-02", "10:00"), product("old", 3, name="Early Product"))
    store(database, at("2026-11-20", "10:00"), product("new", 4, name="Late Product"))

    text = client.get(
        "/status", params=authorized({"dateFrom": "2026-11-01", "dateTo": "2026-11-07"})
    ).text

    peaks = text[text.index('<section id="period-peaks">') :]
    peaks = peaks[: peaks.index("</section>")]
    assert "2026-11-01 to 2026-11-07" in peaks
    assert "Early Product" in peaks
    assert "Late Product" not in peaks


def test_status_refuses_a_bad_period_as_the_api_does(client: TestClient) -> None:
    response = client.get("/status", params=authorized({"dateFrom": "2026-11-01"}))

    assert response.status_code == 400
    assert "dateTo" in response.json()["message"]


def test_status_links_go_through_the_start_page_and_never_hold_the_token(
    client: TestClient,
) -> None:
    response = client.get("/status", params=authorized())
    page = Elements(response.text)

    home = urlsplit(str(page.by_id["link-home"]["href"]))
    assert (home.path, parse_qs(home.query)) == (
        "/",
        {"dateFrom": ["2026-10-30"], "dateTo": ["2026-11-28"]},
    )
    week = urlsplit(str(page.by_id["period-7-days"]["href"]))
    assert (week.path, parse_qs(week.query)) == (
        "/",
        {"dateFrom": ["2026-11-22"], "dateTo": ["2026-11-28"], "open": ["status"]},
    )
    assert page.by_id["period-30-days"]["class"] == "current"
    assert authorized()["token"] not in response.text


def test_status_shows_the_cluster_id_once_when_the_name_is_the_id(
    client: TestClient, state: AppState
) -> None:
    state.cluster_name = state.cluster_id

    text = client.get("/status", params=authorized()).text

    header = text[text.index("<header>") : text.index("</header>")]
    assert header.count(state.cluster_id) == 1


def test_status_names_the_first_day_with_data(client: TestClient, database: Database) -> None:
    store(database, at("2026-11-02", "10:00"), product("p1", 3))

    text = client.get(
        "/status", params=authorized({"dateFrom": "2026-10-01", "dateTo": "2026-10-31"})
    ).text

    assert 'id="first-day">2026-11-02<' in text
    assert "No data in this period: the first day with data is 2026-11-02." in text


def test_status_metric_cells_may_break_only_after_an_underscore(
    client: TestClient, database: Database
) -> None:
    store(database, at("2026-11-20", "10:00"), product("p1", 4))

    text = client.get("/status", params=authorized()).text

    assert "VIRTUAL_<wbr>PROCESSOR_<wbr>CORE" in text


def coverage_of(client: TestClient) -> tuple[str, str]:
    """The status page's coverage sentence and its gaps table."""
    text = client.get("/status", params=authorized()).text
    summary = re.search(r'<p id="coverage-summary">([^<]*)</p>', text)
    table = re.search(r'<table id="gaps">.*?</table>|<p[^>]*>No gap\.</p>', text, re.DOTALL)
    assert summary is not None
    return summary[1], table[0] if table else ""


def test_a_fresh_install_shows_full_coverage_from_its_first_sample(
    client: TestClient, database: Database
) -> None:
    # It read "1 of 8521 expected" and a 30-day gap "no reason recorded".
    store(database, NOW - timedelta(minutes=2), product("p1", 1))

    summary, table = coverage_of(client)

    assert summary == (
        "Samples taken: 1 of 1 expected (100.0 %); missed: 0. "
        "Sampling began at 2026-11-28T09:58:00Z."
    )
    assert "no reason recorded" not in table


def test_hourly_history_and_the_hour_in_progress_show_no_gap_and_at_most_100_percent(
    client: TestClient, database: Database
) -> None:
    # The demo read "722 of 721 expected (100.1 %)" and a gap for the current hour: its
    # history is hourly up to the last full hour, then every 5 minutes, and the live
    # sampler takes one sample at start, between two instants.
    for hour in range(9):
        hourly = at("2026-11-28") + timedelta(hours=hour)
        store(database, hourly, product("p1", 1), interval_seconds=3600)
    for step in range(12):
        store(database, at("2026-11-28", "09:00") + step * timedelta(minutes=5), product("p1", 1))
    store(database, at("2026-11-28", "09:57:30"), product("p1", 1))

    summary, table = coverage_of(client)

    assert summary.startswith("Samples taken: 22 of 22 expected (100.0 %); missed: 0.")
    assert "no reason recorded" not in table
