"""``GET /compliance`` (SPEC 13) over a real store: rows, statuses, CSV, period rules, auth."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from datetime import date

import pytest
from starlette.testclient import TestClient

from license_service.configuration.entitlement_documents import parse_entitlements
from license_service.metering.entitlements import Entitlements
from license_service.metering.periods import DatePeriod
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.application import create_app
from license_service.web.reports.compliance_route import read_compliance
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip
from tests.store.sample_builders import PVU, VPC, at, product, store
from tests.web.conftest import authorized

NOVEMBER = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}
ENTITLEMENTS = f"""
- {{name: Alpha licence, productId: a-id, metricName: {VPC}, quantity: 10}}
- {{name: Beta licence, productId: b-id, metricName: {VPC}, quantity: 5, validTo: 2026-11-02}}
- {{name: Beta extra, productId: b-id, metricName: {VPC}, quantity: 2, validFrom: 2026-11-03}}
- {{name: Gamma licence, productId: g-id, metricName: {VPC}, quantity: 4}}
"""


class Bought:
    """The entitlements in force, changed by a test while the app runs."""

    def __init__(self) -> None:
        self.now = parse_entitlements(ENTITLEMENTS, source="test")


@pytest.fixture
def bought() -> Bought:
    return Bought()


@pytest.fixture
def compliance_client(state: AppState, bought: Bought) -> Iterator[TestClient]:
    state.entitlements = lambda: bought.now
    with TestClient(create_app(state)) as test_client:
        yield test_client


def fill(database: Database) -> None:
    store(
        database,
        at("2026-11-02", "10:00"),
        product("a-id", 8, name="Alpha"),
        product("b-id", 4, name="Beta"),
        product("a-id", 3, name="Alpha", metric=PVU),
    )
    store(database, at("2026-11-03", "10:00"), product("b-id", 6, name="Beta"))


def test_every_product_with_usage_or_entitlement_has_a_row_with_its_status(
    compliance_client: TestClient, database: Database
) -> None:
    fill(database)
    response = compliance_client.get("/compliance", params=authorized(NOVEMBER))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == [
        {
            "name": "Alpha",
            "id": "a-id",
            "metricName": PVU,
            "entitled": 0,
            "metricQuantity": 3,
            "metricPeakDate": "2026-11-02",
            "headroom": -3,
            "usedPercent": None,
            "status": "UNENTITLED",
        },
        {
            "name": "Alpha",
            "id": "a-id",
            "metricName": VPC,
            "entitled": 10,
            "metricQuantity": 8,
            "metricPeakDate": "2026-11-02",
            "headroom": 2,
            "usedPercent": 80.0,
            "status": "NEAR",
        },
        {
            # The peak (6) is on the 3rd, when only the extra 2 are entitled.
            "name": "Beta",
            "id": "b-id",
            "metricName": VPC,
            "entitled": 2,
            "metricQuantity": 6,
            "metricPeakDate": "2026-11-03",
            "headroom": -4,
            "usedPercent": 300.0,
            "status": "OVER",
        },
        {
            "name": "Gamma licence",
            "id": "g-id",
            "metricName": VPC,
            "entitled": 4,
            "metricQuantity": 0,
            "metricPeakDate": None,
            "headroom": 4,
            "usedPercent": 0.0,
            "status": "OK",
        },
    ]


def test_csv_has_the_same_rows_and_a_negative_headroom_is_a_number(
    compliance_client: TestClient, database: Database
) -> None:
    fill(database)
    response = compliance_client.get(
        "/compliance", params=authorized({**NOVEMBER, "format": "csv", "metricName": VPC})
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        'filename="compliance_2026-11-01_2026-11-28.csv"'
        in (response.headers["content-disposition"])
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "name", "id", "metricName", "entitled", "metricQuantity", "metricPeakDate",
        "headroom", "usedPercent", "status",
    ]  # fmt: skip
    assert rows[1:] == [
        ["Alpha", "a-id", VPC, "10", "8", "2026-11-02", "2", "80.00", "NEAR"],
        ["Beta", "b-id", VPC, "2", "6", "2026-11-03", "-4", "300.00", "OVER"],
        ["Gamma licence", "g-id", VPC, "4", "0", "", "4", "0.00", "OK"],
    ]


def test_new_entitlements_apply_at_the_next_request(
    compliance_client: TestClient, database: Database, bought: Bought
) -> None:
    fill(database)
    bought.now = Entitlements()
    rows = compliance_client.get("/compliance", params=authorized(NOVEMBER)).json()
    assert {row["status"] for row in rows} == {"UNENTITLED"}


@pytest.mark.parametrize(
    "params",
    [{"dateFrom": "2026-11-01"}, {"dateFrom": "2026-11-05", "dateTo": "2026-11-01"}],
)
def test_the_period_rules_of_section_3_apply(
    compliance_client: TestClient, params: dict[str, str]
) -> None:
    response = compliance_client.get("/compliance", params=authorized(params))
    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_compliance_needs_authentication_and_refuses_other_methods(
    compliance_client: TestClient,
) -> None:
    assert compliance_client.get("/compliance").status_code == 401
    assert compliance_client.post("/compliance", params=authorized()).status_code == 405


@pytest.mark.postgres
def test_postgresql_gives_the_same_compliance_rows_as_sqlite(
    state: AppState, bought: Bought, database: Database
) -> None:
    period = DatePeriod(date(2026, 11, 1), date(2026, 11, 28))
    state.entitlements = lambda: bought.now
    fill(database)
    on_sqlite = read_compliance(state, period)
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        postgres = Database.open(url)
        try:
            fill(postgres)
            on_postgres = read_compliance(dataclasses.replace(state, database=postgres), period)
        finally:
            postgres.dispose()
    assert on_postgres == on_sqlite
    assert [row.status for row in on_sqlite] == ["UNENTITLED", "NEAR", "OVER", "OK"]
