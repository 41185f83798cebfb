"""``/products``, ``/bundled_products`` and ``/services`` over a real store (SPEC 3.2, 3.3, 3.6)."""

from __future__ import annotations

import csv
import io

from starlette.testclient import TestClient

from license_service.store.database import Database
from tests.store.sample_builders import PVU, VPC, at, bundled, product, service, store
from tests.web.conftest import authorized

NOVEMBER = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}


def fill(database: Database) -> None:
    """Two days of samples: products, a Cloud Pak with two bundled products, services."""
    store(
        database,
        at("2026-11-02", "10:00"),
        product("b-id", 4, name="Beta"),
        product("a-id", 8, name="Alpha"),
        product("a-id", 3, name="Alpha", metric=PVU),
        product("cp4d", 2, name="Cloud Pak for Data"),
        bundled("db2", 3, ratio="2:1"),
        bundled("wkc", 1, ratio="1:1"),
        service("svc-2", 2, service_name="Reporting"),
        service("svc-1", 1, service_name="Ingest"),
    )
    store(
        database,
        at("2026-11-03", "10:00"),
        product("b-id", 6, name="Beta"),
        product("a-id", 8, name="Alpha"),
        bundled("db2", 1, ratio="2:1"),
        service("svc-1", 5, service_name="Ingest"),
    )


def test_products_lists_period_peaks_with_the_spec_fields_sorted_by_name_id_metric(
    client: TestClient, database: Database
) -> None:
    fill(database)
    response = client.get("/products", params=authorized(NOVEMBER))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == [
        {
            "name": "Alpha",
            "id": "a-id",
            "metricName": PVU,
            "metricPeakDate": "2026-11-02",
            "metricQuantity": 3,
        },
        {
            "name": "Alpha",
            "id": "a-id",
            "metricName": VPC,
            "metricPeakDate": "2026-11-02",
            "metricQuantity": 8,
        },
        {
            "name": "Beta",
            "id": "b-id",
            "metricName": VPC,
            "metricPeakDate": "2026-11-03",
            "metricQuantity": 6,
        },
        {
            "name": "Cloud Pak for Data",
            "id": "cp4d",
            "metricName": VPC,
            "metricPeakDate": "2026-11-02",
            "metricQuantity": 2,
        },
    ]
    assert list(response.json()[0]) == [
        "name",
        "id",
        "metricName",
        "metricPeakDate",
        "metricQuantity",
    ]


def test_an_empty_period_answers_an_empty_array(client: TestClient, database: Database) -> None:
    fill(database)
    params = {"dateFrom": "2026-11-10", "dateTo": "2026-11-20"}
    for path in ("/products", "/bundled_products", "/services"):
        response = client.get(path, params=authorized(params))
        assert (response.status_code, response.json()) == (200, [])


def test_the_default_period_is_the_30_days_ending_today(
    client: TestClient, database: Database
) -> None:
    store(database, at("2026-10-29", "12:00"), product("old", 1, name="Too old"))
    store(database, at("2026-10-30", "12:00"), product("first", 1, name="First day"))
    store(database, at("2026-11-28", "09:55"), product("today", 1, name="Today"))
    names = [row["name"] for row in client.get("/products", params=authorized()).json()]
    assert names == ["First day", "Today"]


def test_both_date_spellings_give_the_same_rows(client: TestClient, database: Database) -> None:
    fill(database)
    spelled = client.get(
        "/products", params=authorized({"startDate": "2026-11-03", "endDate": "2026-11-03"})
    )
    plain = client.get(
        "/products", params=authorized({"dateFrom": "2026-11-03", "dateTo": "2026-11-03"})
    )
    assert spelled.status_code == plain.status_code == 200
    assert spelled.json() == plain.json()
    assert [row["name"] for row in spelled.json()] == ["Alpha", "Beta"]


def test_bundled_products_give_measured_and_converted_quantities(
    client: TestClient, database: Database
) -> None:
    fill(database)
    rows = client.get("/bundled_products", params=authorized(NOVEMBER)).json()
    assert rows == [
        {
            "productName": "Product db2",
            "productId": "db2",
            "cloudpakId": "cp4d",
            "cloudpakName": "Cloud Pak for Data",
            "cloudpakVersion": "4.8",
            "cloudpakMetricName": VPC,
            "metricName": VPC,
            "metricPeakDate": "2026-11-02",
            "metricMeasuredQuantity": 3,
            "metricConversion": "2:1",
            "metricConvertedQuantity": 1.5,
        },
        {
            "productName": "Product wkc",
            "productId": "wkc",
            "cloudpakId": "cp4d",
            "cloudpakName": "Cloud Pak for Data",
            "cloudpakVersion": "4.8",
            "cloudpakMetricName": VPC,
            "metricName": VPC,
            "metricPeakDate": "2026-11-02",
            "metricMeasuredQuantity": 1,
            "metricConversion": "1:1",
            "metricConvertedQuantity": 1,
        },
    ]
    assert isinstance(rows[1]["metricConvertedQuantity"], int)


def test_services_list_each_service_share_with_the_spec_fields(
    client: TestClient, database: Database
) -> None:
    fill(database)
    rows = client.get("/services", params=authorized(NOVEMBER)).json()
    assert [
        (row["serviceId"], row["serviceMetricValue"], row["metricPeakDate"]) for row in rows
    ] == [("svc-1", 5, "2026-11-03"), ("svc-2", 2, "2026-11-02")]
    assert list(rows[0]) == [
        "cloudpakId",
        "cloudpakMetricName",
        "productName",
        "productId",
        "metricName",
        "serviceName",
        "serviceId",
        "serviceMetricValue",
        "metricPeakDate",
    ]


def test_metric_name_keeps_only_rows_of_that_metric(client: TestClient, database: Database) -> None:
    fill(database)
    rows = client.get("/products", params=authorized({**NOVEMBER, "metricName": PVU})).json()
    assert [(row["name"], row["metricName"]) for row in rows] == [("Alpha", PVU)]
    other = client.get("/products", params=authorized({**NOVEMBER, "metricName": "NONE_SUCH"}))
    assert other.json() == []


def test_format_csv_gives_the_same_rows_as_csv_with_a_header(
    client: TestClient, database: Database
) -> None:
    fill(database)
    as_json = client.get("/products", params=authorized(NOVEMBER)).json()
    response = client.get("/products", params=authorized({**NOVEMBER, "format": "csv"}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="products_2026-11-01_2026-11-28.csv"'
    )
    assert response.text.startswith("name,id,metricName,metricPeakDate,metricQuantity\r\n")
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert parsed == [{key: str(value) for key, value in row.items()} for row in as_json]


def test_bundled_products_csv_writes_the_converted_quantity_as_exact_decimal(
    client: TestClient, database: Database
) -> None:
    store(database, at("2026-11-02", "10:00"), bundled("db2", 1, ratio="3:1"))
    response = client.get("/bundled_products", params=authorized({**NOVEMBER, "format": "csv"}))
    header, line, end = response.text.split("\r\n")
    assert header.split(",")[-3:] == [
        "metricMeasuredQuantity",
        "metricConversion",
        "metricConvertedQuantity",
    ]
    assert line.endswith(",1,3:1,0.333334")
    assert end == ""
    as_json = client.get("/bundled_products", params=authorized(NOVEMBER)).json()
    assert as_json[0]["metricConvertedQuantity"] == 1 / 3


def test_csv_of_an_empty_period_is_the_header_alone(client: TestClient) -> None:
    response = client.get("/services", params=authorized({**NOVEMBER, "format": "csv"}))
    assert response.text == (
        "cloudpakId,cloudpakMetricName,productName,productId,metricName,serviceName,serviceId,"
        "serviceMetricValue,metricPeakDate\r\n"
    )


def test_csv_cells_that_look_like_formulas_are_guarded(
    client: TestClient, database: Database
) -> None:
    store(database, at("2026-11-02", "10:00"), product("x", 1, name='=HYPERLINK("evil")'))
    response = client.get("/products", params=authorized({**NOVEMBER, "format": "csv"}))
    assert response.text.splitlines()[1].startswith('"\'=HYPERLINK(""evil"")",x,')


def test_unknown_query_parameters_are_ignored(client: TestClient, database: Database) -> None:
    fill(database)
    with_extra = client.get("/products", params=authorized({**NOVEMBER, "colour": "blue"}))
    assert with_extra.json() == client.get("/products", params=authorized(NOVEMBER)).json()


def test_head_answers_like_get_without_a_body(client: TestClient, database: Database) -> None:
    fill(database)
    response = client.head("/products", params=authorized(NOVEMBER))
    assert response.status_code == 200
    assert response.content == b""
