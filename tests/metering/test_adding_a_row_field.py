"""Adding a field to a usage row touches its specification, a migration and the tests only.

In a scratch copy of the package, ``group_name`` (``groupName``, SPEC 8) becomes the first
key column of a product row: two lines and a key in ``metering/usage_rows.py``, and a
migration. A script then stores samples of two groups in a fresh database of the copy
and prints every shape a row takes; every one must follow: the tables against the
migrations, the raw and daily tables and their key, the ``measure`` document, the JSON
and CSV bodies of ``/products``, the snapshot's period and daily files, and a stored
sample read back. Should any module write the product's fields by hand, the field
goes missing there and this test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory

import license_service
from tests.audit.conftest import TEST_KEY_FILE

PACKAGE = Path(license_service.__file__).parent

# (text in the copied file, the text replacing it): the specification's edit.
SPECIFICATION_EDIT = (
    (
        'class ProductUsage(NamedTuple):\n    """A row of ``/products``: a stand-alone product, '
        'or a Cloud Pak (id = ``cloudpakId``)."""\n\n    name: str\n',
        'class ProductUsage(NamedTuple):\n    """A row of ``/products`` of one chargeback '
        'group."""\n\n    group_name: str\n    name: str\n',
    ),
    (
        '        Column("name", "name", TEXT, database="product_name"),\n',
        '        Column("group_name", "groupName", TEXT),\n'
        '        Column("name", "name", TEXT, database="product_name"),\n',
    ),
    ('    key=("id", "metric"),\n', '    key=("group_name", "id", "metric"),\n'),
)

MIGRATION = '''"""Chargeback groups: product rows get the key column group_name.

Revision ID: 0003_group_name
Revises: 0002_period_key_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_group_name"
down_revision = "0002_period_key_indexes"
branch_labels = None
depends_on = None

KEYS = {
    "sample_products": ["sample_id", "group_name", "product_id", "metric"],
    "product_daily_peaks": ["cluster_id", "day", "group_name", "product_id", "metric"],
}


def upgrade() -> None:
    op.drop_index("ix_product_daily_peaks_key_day", table_name="product_daily_peaks")
    for table, key in KEYS.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.add_column(
                sa.Column("group_name", sa.String(), nullable=False, server_default="")
            )
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", key)
    op.create_index(
        "ix_product_daily_peaks_key_day",
        "product_daily_peaks",
        ["cluster_id", "group_name", "product_id", "metric", "day", "quantity"],
    )


def downgrade() -> None:
    raise NotImplementedError
'''

SCRIPT = """
import io, json, sys, zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from license_service.signing.keys import SigningKey
from license_service.audit.snapshots import SnapshotContext, write_snapshot
from license_service.metering.api_rows import measurement_document
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import PRODUCT_ROWS, ProductUsage
from license_service.store.database import Database, sqlite_url
from license_service.store.period_peaks import period_peaks
from license_service.store.samples import latest_sample, record_sample
from license_service.store.tables import metadata
from license_service.web.reports.report_bodies import PRODUCTS

work = Path(sys.argv[1])
cluster = ClusterId("cluster-a")
period = DatePeriod(date(2026, 11, 2), date(2026, 11, 3))
database = Database.open(sqlite_url(work / "store.db"))
samples = {
    datetime(2026, 11, 2, 10, tzinfo=UTC): [("finance", 4), ("research", 2)],
    datetime(2026, 11, 3, 10, tzinfo=UTC): [("finance", 3), ("research", 6)],
}
for taken_at, groups in samples.items():
    measurement = Measurement(
        products=tuple(ProductUsage(group, "IBM MQ", "mq", "VPC", n) for group, n in groups)
    )
    with database.begin() as connection:
        record_sample(
            connection,
            cluster_id=cluster,
            taken_at=taken_at,
            measurement=measurement,
            interval_seconds=300,
        )
with database.read() as connection:
    differences = compare_metadata(MigrationContext.configure(connection), metadata)
    peaks = period_peaks(connection, PRODUCT_ROWS, cluster_id=cluster, period=period)
    stored = latest_sample(connection, cluster_id=cluster)
tables = inspect(database.engine)
out = io.BytesIO()
context = SnapshotContext(
    version="0.0.0",
    cluster_id=cluster,
    cluster_name="demo",
    generated_at=datetime(2026, 11, 4, tzinfo=UTC),
    retention_sample_days=62,
    retention_peak_days=731,
)
key = SigningKey.from_pem(Path(sys.argv[2]).read_bytes())
write_snapshot(database, context=context, period=period, signing_key=key, out=out)
snapshot = zipfile.ZipFile(out)
suffix = "2026-11-02_2026-11-03_cluster-a"
print(json.dumps({
    "schema_differences": [str(difference) for difference in differences],
    "sample_columns": [column["name"] for column in tables.get_columns("sample_products")],
    "sample_key": tables.get_pk_constraint("sample_products")["constrained_columns"],
    "daily_key": tables.get_pk_constraint("product_daily_peaks")["constrained_columns"],
    "measure": measurement_document(stored.measurement)["products"],
    "json": json.loads(PRODUCTS.encoded(peaks, "json")),
    "csv": PRODUCTS.encoded(peaks, "csv").decode(),
    "products_file": snapshot.read(f"products_{suffix}.csv").decode(),
    "products_daily_file": snapshot.read(f"products_daily_{suffix}.csv").decode(),
}))
"""


def scratch_copy_with_a_group_column(root: Path) -> Path:
    """A copy of the package under ``root`` whose product rows have ``group_name``."""
    copy = root / "src" / "license_service"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    specification = copy / "metering" / "usage_rows.py"
    text = specification.read_text()
    for old, new in SPECIFICATION_EDIT:
        assert text.count(old) == 1, f"the specification no longer reads {old!r}"
        text = text.replace(old, new)
    specification.write_text(text)
    # On top of whatever revision is the head now (others add migrations too).
    head = _head_revision(copy / "store" / "migrations")
    migration = MIGRATION.replace('"0002_period_key_indexes"', f'"{head}"')
    (copy / "store" / "migrations" / "versions" / "0003_group_name.py").write_text(migration)
    return root / "src"


def _head_revision(migrations: Path) -> str:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def shapes_of_the_copy(tmp_path: Path) -> dict[str, Any]:
    source = scratch_copy_with_a_group_column(tmp_path)
    environment = {**os.environ, "PYTHONPATH": str(source)}
    finished = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(TEST_KEY_FILE)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    shapes: dict[str, Any] = json.loads(finished.stdout)
    return shapes


def test_a_key_field_added_to_the_specification_reaches_every_shape(tmp_path: Path) -> None:
    shapes = shapes_of_the_copy(tmp_path)

    # The tables derived from the specification are those the migrations build.
    assert shapes["schema_differences"] == []
    assert "group_name" in shapes["sample_columns"]
    assert shapes["sample_key"] == ["sample_id", "group_name", "product_id", "metric"]
    assert shapes["daily_key"] == ["cluster_id", "day", "group_name", "product_id", "metric"]
    # One product in two groups: two rows, each group its own peak, in API order.
    assert shapes["json"] == [
        {
            "groupName": "finance",
            "name": "IBM MQ",
            "id": "mq",
            "metricName": "VPC",
            "metricPeakDate": "2026-11-02",
            "metricQuantity": 4,
        },
        {
            "groupName": "research",
            "name": "IBM MQ",
            "id": "mq",
            "metricName": "VPC",
            "metricPeakDate": "2026-11-03",
            "metricQuantity": 6,
        },
    ]
    assert [list(row) for row in shapes["measure"]] == [
        ["groupName", "name", "id", "metricName", "metricQuantity"]
    ] * 2
    assert [row["groupName"] for row in shapes["measure"]] == ["finance", "research"]
    assert shapes["csv"] == (
        "groupName,name,id,metricName,metricPeakDate,metricQuantity\r\n"
        "finance,IBM MQ,mq,VPC,2026-11-02,4\r\n"
        "research,IBM MQ,mq,VPC,2026-11-03,6\r\n"
    )
    assert shapes["products_file"] == (
        "groupName,name,id,metricName,metricPeakDate,metricQuantity,clusterId\r\n"
        "finance,IBM MQ,mq,VPC,2026-11-02,4,cluster-a\r\n"
        "research,IBM MQ,mq,VPC,2026-11-03,6,cluster-a\r\n"
    )
    # SPEC 8's chargeback_products_daily layout.
    assert shapes["products_daily_file"] == (
        "date,groupName,name,id,metricName,metricQuantity,clusterId\r\n"
        "2026-11-02,finance,IBM MQ,mq,VPC,4,cluster-a\r\n"
        "2026-11-02,research,IBM MQ,mq,VPC,2,cluster-a\r\n"
        "2026-11-03,finance,IBM MQ,mq,VPC,3,cluster-a\r\n"
        "2026-11-03,research,IBM MQ,mq,VPC,6,cluster-a\r\n"
    )
