"""The tables of the store, as SQLAlchemy Core metadata.

The migrations in ``migrations/versions`` create exactly these tables (a test
compares them); this module is what queries are written against. Every row
carries ``cluster_id`` so that one database can hold several clusters.

- ``samples`` and ``sample_products`` / ``sample_bundled_products`` /
  ``sample_services``: the raw usage of each sample (kept 62 days by default).
- ``product_daily_peaks`` / ``bundled_product_daily_peaks`` /
  ``service_daily_peaks``: the highest value per UTC day and row key (731 days);
  besides the primary key (cluster, day, row key), an index on (cluster, row key,
  day, value) hands a period query each row key's days in order, from the index
  alone (``period_peaks``).
- ``sampling_coverage`` and ``missed_samples``: when sampling ran, and why not.
- ``settings_history``: the metering settings, one row per change.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
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


def _text(name: str) -> Column[str]:
    return Column(name, String, nullable=False)


samples: Final = Table(
    "samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _cluster(),
    Column("taken_at", UtcDateTime, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    UniqueConstraint("cluster_id", "taken_at"),
    Index("ix_samples_taken_at", "taken_at"),
)

sample_products: Final = Table(
    "sample_products",
    metadata,
    _sample(),
    _cluster(),
    _text("product_id"),
    _text("metric"),
    _text("product_name"),
    Column("quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint("sample_id", "product_id", "metric"),
)

sample_bundled_products: Final = Table(
    "sample_bundled_products",
    metadata,
    _sample(),
    _cluster(),
    _text("cloudpak_id"),
    _text("cloudpak_metric"),
    _text("product_id"),
    _text("metric"),
    _text("conversion"),
    _text("product_name"),
    _text("cloudpak_name"),
    _text("cloudpak_version"),
    Column("measured_quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "sample_id", "cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"
    ),
)

sample_services: Final = Table(
    "sample_services",
    metadata,
    _sample(),
    _cluster(),
    _text("cloudpak_id"),
    _text("cloudpak_metric"),
    _text("product_id"),
    _text("metric"),
    _text("service_id"),
    _text("product_name"),
    _text("service_name"),
    Column("value", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "sample_id", "cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id"
    ),
)

product_daily_peaks: Final = Table(
    "product_daily_peaks",
    metadata,
    _cluster(),
    Column("day", Date, nullable=False),
    _text("product_id"),
    _text("metric"),
    _text("product_name"),
    Column("names_at", UtcDateTime, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint("cluster_id", "day", "product_id", "metric"),
    Index("ix_product_daily_peaks_day", "day"),
    Index(
        "ix_product_daily_peaks_key_day",
        "cluster_id",
        "product_id",
        "metric",
        "day",
        "quantity",
    ),
)

bundled_product_daily_peaks: Final = Table(
    "bundled_product_daily_peaks",
    metadata,
    _cluster(),
    Column("day", Date, nullable=False),
    _text("cloudpak_id"),
    _text("cloudpak_metric"),
    _text("product_id"),
    _text("metric"),
    _text("conversion"),
    _text("product_name"),
    _text("cloudpak_name"),
    _text("cloudpak_version"),
    Column("names_at", UtcDateTime, nullable=False),
    Column("measured_quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "cluster_id", "day", "cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"
    ),
    Index("ix_bundled_product_daily_peaks_day", "day"),
    Index(
        "ix_bundled_product_daily_peaks_key_day",
        "cluster_id",
        "cloudpak_id",
        "cloudpak_metric",
        "product_id",
        "metric",
        "conversion",
        "day",
        "measured_quantity",
    ),
)

service_daily_peaks: Final = Table(
    "service_daily_peaks",
    metadata,
    _cluster(),
    Column("day", Date, nullable=False),
    _text("cloudpak_id"),
    _text("cloudpak_metric"),
    _text("product_id"),
    _text("metric"),
    _text("service_id"),
    _text("product_name"),
    _text("service_name"),
    Column("names_at", UtcDateTime, nullable=False),
    Column("value", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "cluster_id", "day", "cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id"
    ),
    Index("ix_service_daily_peaks_day", "day"),
    Index(
        "ix_service_daily_peaks_key_day",
        "cluster_id",
        "cloudpak_id",
        "cloudpak_metric",
        "product_id",
        "metric",
        "service_id",
        "day",
        "value",
    ),
)

sampling_coverage: Final = Table(
    "sampling_coverage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _cluster(),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("samples_taken", Integer, nullable=False),
    Index("ix_sampling_coverage_cluster_started", "cluster_id", "started_at"),
    Index("ix_sampling_coverage_cluster_ended", "cluster_id", "ended_at"),
)

missed_samples: Final = Table(
    "missed_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _cluster(),
    Column("missed_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_missed_samples_cluster_missed", "cluster_id", "missed_at"),
)

settings_history: Final = Table(
    "settings_history",
    metadata,
    _cluster(),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("threads_per_core", Integer, nullable=False),
    Column("node_cpu_capping", Boolean, nullable=False),
    Column("capping_source", String, nullable=False),
    Column("default_pvu_per_core", Integer, nullable=False),
    PrimaryKeyConstraint("cluster_id", "changed_at"),
)
