"""A real server's cached reports: the store's bytes, and a new sample in the very next answers."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from license_service.metering.periods import DatePeriod
from license_service.runtime.paths import DATABASE_FILE
from license_service.store.clusters import cluster_ids
from license_service.store.database import Database, sqlite_url
from license_service.web.reports.report_bodies import PRODUCTS
from tests.e2e.conftest import Start
from tests.e2e.processes import DUMP, eventually

MQ = "IBM MQ Advanced"


def mq_quantity(body: bytes) -> int | None:
    rows: list[dict[str, Any]] = json.loads(body)
    return next((row["metricQuantity"] for row in rows if row["name"] == MQ), None)


def csv_mq_quantity(body: bytes) -> int | None:
    rows = csv.DictReader(io.StringIO(body.decode()))
    return next((int(row["metricQuantity"]) for row in rows if row["name"] == MQ), None)


def served_period(answer: httpx.Response) -> DatePeriod:
    """The period the server resolved, from the CSV's file name."""
    disposition = answer.headers["content-disposition"]
    found = re.search(r"_(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})\.csv", disposition)
    assert found, disposition
    first, last = (date.fromisoformat(text) for text in found.groups())
    return DatePeriod(first, last)


def test_answers_are_the_stores_bytes_and_follow_each_new_sample(
    start: Start, tmp_path: Path
) -> None:
    dump = tmp_path / "cluster.json"
    dump.write_text(DUMP.read_text())
    service = start(dumps=[dump])
    products = f"{service.url}/products"

    def get(**params: str) -> httpx.Response:
        answer = httpx.get(products, params={"token": service.token, **params}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer

    eventually(lambda: mq_quantity(get().content) == 4, within=10, what="a first sample")
    csv_answer = get(format="csv")
    assert csv_mq_quantity(csv_answer.content) == 4
    period = served_period(csv_answer)
    longest = {
        "dateFrom": DatePeriod.ending(period.last, days=731).first.isoformat(),
        "dateTo": period.last.isoformat(),
    }
    database = Database.open(sqlite_url(service.data_dir / DATABASE_FILE))
    try:
        with database.read() as connection:
            (cluster,) = cluster_ids(connection)
            expected = PRODUCTS.body(
                connection, cluster_id=cluster, period=period, metric=None, format="csv"
            )
    finally:
        database.dispose()
    assert csv_answer.content == expected
    assert get(format="csv").content == expected  # kept, and still the same bytes

    document = json.loads(dump.read_text())
    mq_pod = next(
        item for item in document["items"] if item["metadata"]["name"] == "qm-prod-ibm-mq-1"
    )
    third = copy.deepcopy(mq_pod)
    third["metadata"]["name"] = "qm-prod-ibm-mq-2"
    third["metadata"]["uid"] = third["metadata"].get("uid", "mq-2") + "-2"
    document["items"].append(third)
    replacement = tmp_path / "cluster.json.new"
    replacement.write_text(json.dumps(document))
    os.replace(replacement, dump)

    eventually(lambda: mq_quantity(get().content) == 6, within=10, what="the new pod in /products")
    assert mq_quantity(get(**longest).content) == 6
    assert csv_mq_quantity(get(format="csv").content) == 6
