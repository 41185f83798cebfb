"""Upgrading a database written at an older revision keeps its data and adds what is new."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.database import MIGRATIONS, Database, sqlite_url
from license_service.store.open_explanations import read_open
from license_service.store.period_peaks import period_peaks
from license_service.store.tables import (
    cloudpak_measured_sums,
    cloudpak_uploaded_sums,
    metadata,
    usage_explanations,
)
from tests.store.sample_builders import (
    CLUSTER,
    OTHER_CLUSTER,
    PVU,
    at,
    bundled,
    day,
    product,
    service,
    store,
)
from tests.store.test_database import newest_revision, stamps

FIRST_REVISION = "0001_initial_schema"
KEY_DAY_INDEXES = {
    "product_daily_peaks": "ix_product_daily_peaks_key_day",
    "bundled_product_daily_peaks": "ix_bundled_product_daily_peaks_key_day",
    "service_daily_peaks": "ix_service_daily_peaks_key_day",
}


@pytest.fixture
def raw(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def migrate_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    # The tables (and columns) the database has at its revision, which may be older.
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            name: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {name}")))
            for name in metadata.tables
            if name in present and name not in _ADDED_LATER
        }


# Tables a later revision adds (SPEC 10): the first schema has none, so no rows to keep.
_ADDED_LATER = (
    "metric_uploads",
    "upload_policies",
    "cloudpak_measured_sums",
    "cloudpak_uploaded_sums",
)


def report_rows(db: Database) -> list[object]:
    rows: list[object] = []
    with db.read() as connection:
        for period in (
            DatePeriod(day("2026-11-01"), day("2026-11-30")),
            DatePeriod.ending(day("2026-11-03"), days=1),
        ):
            for cluster in (OTHER_CLUSTER, CLUSTER):
                arguments: dict[str, Any] = {"cluster_id": cluster, "period": period}
                rows += period_peaks(connection, PRODUCT_ROWS, **arguments)
                rows += period_peaks(connection, BUNDLED_PRODUCT_ROWS, **arguments)
                rows += period_peaks(connection, SERVICE_ROWS, **arguments)
    return rows


def test_upgrading_from_the_first_revision_keeps_every_row_and_adds_the_period_indexes(
    database_url: str, raw: Engine
) -> None:
    migrate_to(raw, FIRST_REVISION)
    # Samples now also record their Cloud Pak sums (revision 0005): those tables exist
    # while they are written with today's code, and go before the upgrade makes them.
    for table in (cloudpak_measured_sums, cloudpak_uploaded_sums):
        table.create(raw)
    written = Database(raw)
    store(
        written, at("2026-11-02", "10:00"), product("db2", 4), bundled("mq", 6), service("api", 3)
    )
    store(written, at("2026-11-03", "10:00"), product("db2", 9, metric=PVU), bundled("mq", 2))
    store(written, at("2026-11-03", "11:00"), product("was", 1), cluster_id=OTHER_CLUSTER)
    rows_before = every_row(raw)
    reports_before = report_rows(written)
    for table in (cloudpak_measured_sums, cloudpak_uploaded_sums):
        table.drop(raw)
    assert KEY_DAY_INDEXES["product_daily_peaks"] not in {
        index["name"] for index in inspect(raw).get_indexes("product_daily_peaks")
    }

    upgraded = Database.open(database_url)
    try:
        assert stamps(raw) == [newest_revision()]
        after = every_row(raw)
        assert {name: after[name] for name in rows_before} == rows_before
        assert all(after[name] == [] for name in set(after) - set(rows_before))
        assert report_rows(upgraded) == reports_before
        assert len(reports_before) == 8
        inspector = inspect(raw)
        for table, index in KEY_DAY_INDEXES.items():
            assert index in {found["name"] for found in inspector.get_indexes(table)}
    finally:
        upgraded.dispose()


def test_the_newest_revision_can_be_downgraded_to_the_first_and_upgraded_again(
    database_url: str, raw: Engine
) -> None:
    Database.open(database_url).dispose()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with raw.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, FIRST_REVISION)

    assert stamps(raw) == [FIRST_REVISION]
    with raw.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM product_daily_peaks")).scalar() == 0

    Database.open(database_url).dispose()
    assert stamps(raw) == [newest_revision()]


def test_instants_bulk_inserts_wrote_in_the_driver_s_text_are_rewritten_on_sqlite(
    tmp_path: Path,
) -> None:
    # Only SQLite stores instants as text.
    database_url = sqlite_url(tmp_path / "older.db")
    raw = create_engine(database_url, poolclass=NullPool)
    migrate_to(raw, "0007_leader_view")
    with raw.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO product_daily_peaks (cluster_id, day, product_id, metric, "
                "product_name, names_at, quantity) VALUES "
                "('c', '2026-11-02', 'db2', 'VIRTUAL_PROCESSOR_CORE', 'Db2', "
                "'2026-11-02 10:00:00', 4), "
                "('c', '2026-11-03', 'db2', 'VIRTUAL_PROCESSOR_CORE', 'Db2', "
                "'2026-11-03 10:00:00.250000', 4)"
            )
        )

    Database.open(database_url).dispose()

    with raw.connect() as connection:
        stored = connection.execute(
            text("SELECT names_at FROM product_daily_peaks ORDER BY day")
        ).scalars()
        assert list(stored) == ["2026-11-02 10:00:00.000000", "2026-11-03 10:00:00.250000"]
    raw.dispose()


def test_explanations_referring_to_cells_move_into_open_lists_and_back(
    database_url: str, raw: Engine
) -> None:
    migrate_to(raw, "0008_explanation_cells")
    key = {"cloudpak_id": "", "cloudpak_metric": "", "metric": PVU, "conversion": ""}
    referring = {"threads_per_core": 1, "total_millicores": None, "contributions": None}
    rows = [
        {"day": day("2026-11-02"), "group_name": "", "product_id": "db2", "metric_quantity": 3},
        {"day": day("2026-11-02"), "group_name": "", "product_id": "mq", "metric_quantity": 5},
        {
            "day": day("2026-11-02"),
            "group_name": "retail",
            "product_id": "db2",
            "metric_quantity": 2,
        },
        {"day": day("2026-11-03"), "group_name": "", "product_id": "db2", "metric_quantity": 4},
    ]
    with raw.begin() as connection:
        connection.execute(
            usage_explanations.insert(),
            [
                {
                    "cluster_id": CLUSTER,
                    **key,
                    **row,
                    "product_name": row["product_id"].upper(),
                    "sample_at": at(str(row["day"]), "10:00"),
                    **referring,
                }
                for row in rows
            ]
            + [  # a day written out stays a row
                {
                    "cluster_id": CLUSTER,
                    **key,
                    "day": day("2026-11-01"),
                    "group_name": "",
                    "product_id": "db2",
                    "product_name": "DB2",
                    "sample_at": at("2026-11-01", "10:00:00.250000"),
                    "metric_quantity": 1,
                    "threads_per_core": 2,
                    "total_millicores": 1000,
                    "contributions": b"written out",
                }
            ],
        )
    before = every_row(raw)["usage_explanations"]

    db = Database.open(database_url)
    try:
        with db.read() as connection:
            lists = read_open(connection, cluster_id=CLUSTER, day=day("2026-11-02"))
            written_out = connection.execute(text("SELECT day FROM usage_explanations")).all()
    finally:
        db.dispose()
    assert {
        group: sorted((e.product_id, e.metric_quantity, e.sample_at) for e in entries.values())
        for group, entries in lists.items()
    } == {
        "": [("db2", 3, at("2026-11-02", "10:00")), ("mq", 5, at("2026-11-02", "10:00"))],
        "retail": [("db2", 2, at("2026-11-02", "10:00"))],
    }
    assert [str(found) for (found,) in written_out] == ["2026-11-01"]

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with raw.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008_explanation_cells")
    assert every_row(raw)["usage_explanations"] == before
