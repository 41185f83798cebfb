"""The tables of the store, as SQLAlchemy Core metadata.

The migrations in ``migrations/versions`` create exactly these tables (a test
compares them); this module is what queries are written against. Every row
carries ``cluster_id`` so that one database can hold several clusters. The usage
tables' columns come from the row specifications (``metering.usage_rows``): the
row's key, its names and its value, in that order; ``usage_tables`` finds a
specification's two tables.

- ``samples`` and ``sample_products`` / ``sample_bundled_products`` /
  ``sample_services``: the raw usage of each sample (kept 62 days by default).
- ``product_daily_peaks`` / ``bundled_product_daily_peaks`` /
  ``service_daily_peaks``: the highest value per UTC day and row key (731 days);
  besides the primary key (cluster, day, row key), an index on (cluster, row key,
  day, value) hands a period query each row key's days in order, from the index
  alone (``period_peaks``).
- ``chargeback_product_daily_peaks`` / ``chargeback_bundled_product_daily_peaks`` /
  ``chargeback_service_daily_peaks``: the daily peaks of each chargeback group (SPEC 8),
  the same tables keyed by ``group_name`` first; kept ``chargebackRetentionPeriod`` days.
  Raw rows of groups are not kept: a group's usage now is the sampler's.
- ``sampling_coverage`` and ``missed_samples``: when sampling ran, and why not.
- ``settings_history``: the metering settings, one row per change.
- ``reporter_pushes``: per Reporter URL, the last day it acknowledged (SPEC 11).
- ``leader_views``: per cluster, what only the leader knows of ``/health`` (its problem
  sections and sender state, as JSON), for the other replicas to answer with (SPEC 12).
- ``usage_explanations``: per day, group and explained usage row, the breakdown of
  the sample that first reached the day's peak (SPEC 9; the cluster's, group ``""``,
  kept as long as daily peaks; a chargeback group's as long as the group's peaks), once
  the day is over.
- ``open_explanations``, ``explanation_cells``, ``explanation_contexts`` and
  ``explanation_names``: today's kept explanations, one list per day and group, their
  breakdown as the sample counted it (cells by workload and node), what explaining them
  needs (groups, settings, a length of the log of names and nodes) and that log, a
  segment at a time: written fast by the sample, turned into contributions in
  ``usage_explanations`` once the day is over.
- ``metric_uploads`` and ``upload_policies``: uploaded values (SPEC 10), one row per
  accepted item, and the policy each uploaded product and metric keeps; the day values
  they make are written into the daily peak tables (the higher wins).
- ``cloudpak_measured_sums`` and ``cloudpak_uploaded_sums``: per day and Cloud Pak, the
  exact measured and uploaded converted sums its day value is rounded up from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.schema import SchemaItem

from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    CHARGEBACK_BUNDLED_PRODUCT_ROWS,
    CHARGEBACK_PRODUCT_ROWS,
    CHARGEBACK_SERVICE_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
)
from license_service.store.instants import UtcDateTime

NAMING_CONVENTION: Final = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: Final = MetaData(naming_convention=NAMING_CONVENTION)


def _cluster() -> Column[str]:
    return Column("cluster_id", String, nullable=False)


def _sample() -> Column[int]:
    return Column(
        "sample_id",
        Integer,
        ForeignKey("samples.id", ondelete="CASCADE"),
        nullable=False,
    )


def _numbered_table(name: str, *items: SchemaItem) -> Table:
    """A table of one cluster's records, each numbered: ``id``, ``cluster_id``, ``items``."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _cluster(),
        *items,
    )


samples: Final = _numbered_table(
    "samples",
    Column("taken_at", UtcDateTime, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    UniqueConstraint("cluster_id", "taken_at"),
    Index("ix_samples_taken_at", "taken_at"),
)


def _usage_columns(rows: RowSpec[Any], names: Sequence[str]) -> list[Column[Any]]:
    """The database columns ``names`` of ``rows``' table, typed by their encoding."""
    stored_as = {column.database_column: column.encoding.stored_as for column in rows.stored}
    return [
        Column(name, BigInteger if stored_as[name] == "integer" else String, nullable=False)
        for name in names
    ]


def _sample_table(name: str, rows: RowSpec[Any]) -> Table:
    """The raw rows of a sample: its id, the cluster, then the row's key, names and value."""
    return Table(
        name,
        metadata,
        _sample(),
        _cluster(),
        *_usage_columns(rows, rows.database_columns),
        PrimaryKeyConstraint("sample_id", *rows.database_key),
    )


def _daily_peak_table(name: str, rows: RowSpec[Any]) -> Table:
    """The daily peaks: cluster and day, the row's key and names, when the names were
    sampled, and the day's highest value; indexed by day and by (cluster, key, day, value)."""
    return Table(
        name,
        metadata,
        _cluster(),
        Column("day", Date, nullable=False),
        *_usage_columns(rows, (*rows.database_key, *rows.database_names)),
        Column("names_at", UtcDateTime, nullable=False),
        *_usage_columns(rows, (rows.database_value,)),
        PrimaryKeyConstraint("cluster_id", "day", *rows.database_key),
        Index(f"ix_{name}_day", "day"),
        Index(f"ix_{name}_key_day", "cluster_id", *rows.database_key, "day", rows.database_value),
    )


sample_products: Final = _sample_table("sample_products", PRODUCT_ROWS)
sample_bundled_products: Final = _sample_table("sample_bundled_products", BUNDLED_PRODUCT_ROWS)
sample_services: Final = _sample_table("sample_services", SERVICE_ROWS)
product_daily_peaks: Final = _daily_peak_table("product_daily_peaks", PRODUCT_ROWS)
bundled_product_daily_peaks: Final = _daily_peak_table(
    "bundled_product_daily_peaks", BUNDLED_PRODUCT_ROWS
)
service_daily_peaks: Final = _daily_peak_table("service_daily_peaks", SERVICE_ROWS)


@dataclass(frozen=True, slots=True)
class UsageTables:
    """The two tables of one kind of usage row: a sample's raw rows, and the daily peaks."""

    samples: Table
    daily_peaks: Table


_USAGE_TABLES: Final[Mapping[RowSpec[Any], UsageTables]] = {
    PRODUCT_ROWS: UsageTables(sample_products, product_daily_peaks),
    BUNDLED_PRODUCT_ROWS: UsageTables(sample_bundled_products, bundled_product_daily_peaks),
    SERVICE_ROWS: UsageTables(sample_services, service_daily_peaks),
}


def usage_tables(rows: RowSpec[Any]) -> UsageTables:
    """The tables holding ``rows`` (one of ``metering.usage_rows``' specifications)."""
    return _USAGE_TABLES[rows]


chargeback_product_daily_peaks: Final = _daily_peak_table(
    "chargeback_product_daily_peaks", CHARGEBACK_PRODUCT_ROWS
)
chargeback_bundled_product_daily_peaks: Final = _daily_peak_table(
    "chargeback_bundled_product_daily_peaks", CHARGEBACK_BUNDLED_PRODUCT_ROWS
)
chargeback_service_daily_peaks: Final = _daily_peak_table(
    "chargeback_service_daily_peaks", CHARGEBACK_SERVICE_ROWS
)
CHARGEBACK_PEAK_TABLES: Final = (
    chargeback_product_daily_peaks,
    chargeback_bundled_product_daily_peaks,
    chargeback_service_daily_peaks,
)

_DAILY_PEAKS: Final[Mapping[RowSpec[Any], Table]] = {
    **{rows: tables.daily_peaks for rows, tables in _USAGE_TABLES.items()},
    CHARGEBACK_PRODUCT_ROWS: chargeback_product_daily_peaks,
    CHARGEBACK_BUNDLED_PRODUCT_ROWS: chargeback_bundled_product_daily_peaks,
    CHARGEBACK_SERVICE_ROWS: chargeback_service_daily_peaks,
}


def daily_peak_table(rows: RowSpec[Any]) -> Table:
    """The daily peaks of ``rows``: a usage row's, or a chargeback group's (``CHARGEBACK_*``)."""
    return _DAILY_PEAKS[rows]


sampling_coverage: Final = _numbered_table(
    "sampling_coverage",
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("samples_taken", Integer, nullable=False),
    Index("ix_sampling_coverage_cluster_started", "cluster_id", "started_at"),
    Index("ix_sampling_coverage_cluster_ended", "cluster_id", "ended_at"),
)

missed_samples: Final = _numbered_table(
    "missed_samples",
    Column("missed_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_missed_samples_cluster_missed", "cluster_id", "missed_at"),
)

metric_uploads: Final = _numbered_table(
    "metric_uploads",
    Column("received_at", UtcDateTime, nullable=False),
    Column("day", Date, nullable=False),
    Column("product_id", String, nullable=False),
    Column("product_name", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("metric_value", String, nullable=False),
    Column("aggregation_policy", String, nullable=False),
    Column("cloudpak_id", String, nullable=False),
    Column("cloudpak_name", String, nullable=False),
    Column("cloudpak_metric", String, nullable=False),
    Column("conversion", String, nullable=False),
    Column("submission_id", String, nullable=True),
    UniqueConstraint("cluster_id", "submission_id"),
    Index("ix_metric_uploads_cluster_day", "cluster_id", "day"),
)
"""Every accepted upload item (SPEC 10), as received: day values are computed on read."""

upload_policies: Final = Table(
    "upload_policies",
    metadata,
    _cluster(),
    Column("product_id", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("aggregation_policy", String, nullable=False),
    PrimaryKeyConstraint("cluster_id", "product_id", "metric"),
)
"""The one aggregation policy of each uploaded product and metric (SPEC 10)."""


def _cloudpak_day_table(name: str, value: str) -> Table:
    """An exact converted sum (``n/d`` text) per cluster, day and Cloud Pak."""
    return Table(
        name,
        metadata,
        _cluster(),
        Column("day", Date, nullable=False),
        Column("cloudpak_id", String, nullable=False),
        Column("cloudpak_metric", String, nullable=False),
        Column(value, String, nullable=False),
        PrimaryKeyConstraint("cluster_id", "day", "cloudpak_id", "cloudpak_metric"),
    )


cloudpak_measured_sums: Final = _cloudpak_day_table("cloudpak_measured_sums", "measured_sum")
"""Per day, a Cloud Pak's highest exact measured converted sum over its samples (``M``)."""
cloudpak_uploaded_sums: Final = _cloudpak_day_table("cloudpak_uploaded_sums", "uploaded_sum")
"""Per day, the sum of a Cloud Pak's uploaded bundled products' converted values (``U``)."""

settings_history: Final = Table(
    "settings_history",
    metadata,
    _cluster(),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("threads_per_core", Integer, nullable=False),
    Column("node_cpu_capping", Boolean, nullable=False),
    Column("capping_source", String, nullable=False),
    Column("default_pvu_per_core", Integer, nullable=False),
    # SPEC 8: the excludeNamespace items, comma-separated ("" for none).
    Column("exclude_namespace", Text, nullable=False, server_default=""),
    PrimaryKeyConstraint("cluster_id", "changed_at"),
)

reporter_pushes: Final = Table(
    "reporter_pushes",
    metadata,
    Column("reporter_url", String, nullable=False),
    # The last complete day the Reporter holds with no day missing before it (SPEC 11).
    Column("acknowledged_through", Date, nullable=True),
    Column("last_push_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("reporter_url"),
)
"""The sender's progress per Reporter URL (SPEC 11): where the next push starts."""

leader_views: Final = Table(
    "leader_views",
    metadata,
    _cluster(),
    # The replica that wrote it (its Lease identity) and when, by its clock.
    Column("leader", String, nullable=False),
    Column("written_at", UtcDateTime, nullable=False),
    # JSON written and read by ``web.probes.leader_view``: the store does not look inside.
    Column("document", Text, nullable=False),
    PrimaryKeyConstraint("cluster_id"),
)
"""What only the leader knows of ``/health``, shared with the followers (SPEC 12)."""

EXPLAINED_KEY: Final = ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion")
"""The key of an explained usage row (``metering.usage_explanations.ExplainedRow``)."""

usage_explanations: Final = Table(
    "usage_explanations",
    metadata,
    _cluster(),
    Column("day", Date, nullable=False),
    Column("group_name", String, nullable=False),
    *(Column(name, String, nullable=False) for name in EXPLAINED_KEY),
    Column("product_name", String, nullable=False),
    Column("sample_at", UtcDateTime, nullable=False),
    Column("metric_quantity", BigInteger, nullable=False),
    Column("threads_per_core", Integer, nullable=False),
    # Written out from the sample's cells once the day is over; until then the row is an
    # entry of ``open_explanations`` (``0009``).
    Column("total_millicores", BigInteger, nullable=False),
    Column("contributions", LargeBinary, nullable=False),
    # No index by day (dropped by ``0008``): a sample's first rows of a day are hundreds
    # with groups, each index entry costs them; the daily retention job scans instead.
    PrimaryKeyConstraint("cluster_id", "day", "group_name", *EXPLAINED_KEY),
)

open_explanations: Final = Table(
    "open_explanations",
    metadata,
    _cluster(),
    Column("day", Date, nullable=False),
    Column("group_name", String, nullable=False),
    # msgpack written and read by ``store.open_explanations``: the day's explained rows
    # (key, name, quantity, sample instant, threads per core) whose breakdown is the
    # sample's cells (``explanation_cells``, same cluster, sample instant and row key).
    Column("entries", LargeBinary, nullable=False),
    PrimaryKeyConstraint("cluster_id", "day", "group_name"),
)
"""Per day and group, the kept explanations still referring to cells, as one list."""

explanation_contexts: Final = Table(
    "explanation_contexts",
    metadata,
    _cluster(),
    Column("context_key", String, nullable=False),
    # The log of names and nodes the context reads a prefix of (``explanation_names``).
    Column("epoch", String, nullable=False),
    # msgpack written and read by ``store.explanation_cells``: the log's length, the
    # chargeback groups and the settings of the samples that refer to it.
    Column("content", LargeBinary, nullable=False),
    PrimaryKeyConstraint("cluster_id", "context_key"),
)
"""What explaining a sample's cells needs besides them (SPEC 9), shared by samples."""

explanation_names: Final = Table(
    "explanation_names",
    metadata,
    _cluster(),
    Column("epoch", String, nullable=False),
    # Entries [start, end) of the log (``metering.explanation_cells.Cells.log``), msgpack.
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("entries", LargeBinary, nullable=False),
    PrimaryKeyConstraint("cluster_id", "epoch", "start"),
)
"""The names behind cell keys and the nodes' states, a segment of a log at a time."""

explanation_cells: Final = Table(
    "explanation_cells",
    metadata,
    _cluster(),
    Column("sample_at", UtcDateTime, nullable=False),
    *(Column(name, String, nullable=False) for name in EXPLAINED_KEY),
    Column("context_key", String, nullable=False),
    Column("cells", LargeBinary, nullable=False),
    PrimaryKeyConstraint("cluster_id", "sample_at", *EXPLAINED_KEY),
)
"""A sample's cells of one explained row (SPEC 9), while an explanation refers to them."""
