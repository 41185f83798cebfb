"""Period peaks: highest daily peak, earliest day reaching it, latest names, metric filter."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from fractions import Fraction

from license_service.metering.periods import DatePeriod
from license_service.metering.ratios import parse_ratio
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    BundledProductUsage,
    ProductUsage,
    ServiceUsage,
)
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from tests.store.sample_builders import (
    CLUSTER,
    OTHER_CLUSTER,
    PVU,
    VPC,
    at,
    bundled,
    day,
    product,
    service,
    store,
)

NOVEMBER = DatePeriod(day("2026-11-01"), day("2026-11-30"))


def test_the_period_peak_is_the_highest_daily_peak(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 4))
    store(db, at("2026-11-03", "10:00"), product("db2", 12))
    store(db, at("2026-11-04", "10:00"), product("db2", 7))

    with db.begin() as connection:
        peaks = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert peaks == [PeriodPeak(ProductUsage("Product db2", "db2", VPC, 12), day("2026-11-03"))]


def test_peak_day_is_the_earliest_day_reaching_the_peak(db: Database) -> None:
    store(db, at("2026-11-05", "10:00"), product("db2", 8), bundled("mq", 6), service("api", 3))
    store(db, at("2026-11-03", "10:00"), product("db2", 8), bundled("mq", 6), service("api", 3))
    store(db, at("2026-11-04", "10:00"), product("db2", 2), bundled("mq", 1), service("api", 1))

    with db.begin() as connection:
        products = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        bundles = period_peaks(
            connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER
        )
        services = period_peaks(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert [(p.peak_date, p.row.quantity) for p in products] == [(day("2026-11-03"), 8)]
    assert [(b.peak_date, b.row.measured_quantity) for b in bundles] == [(day("2026-11-03"), 6)]
    assert [(s.peak_date, s.row.value) for s in services] == [(day("2026-11-03"), 3)]


def test_names_come_from_the_latest_day_in_the_period(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 9, name="Db2"))
    store(
        db,
        at("2026-11-06", "10:00"),
        product("db2", 1, name="Db2 Warehouse"),
        bundled("mq", 1, product_name="MQ Advanced", cloudpak_name="CP4I", cloudpak_version="2"),
        service("api", 1, service_name="API gateway"),
    )
    store(
        db,
        at("2026-11-04", "10:00"),
        bundled("mq", 5, product_name="MQ", cloudpak_name="Integration", cloudpak_version="1"),
        service("api", 5, service_name="Gateway"),
    )
    # A later day outside the period does not rename rows of the period.
    store(db, at("2026-12-01", "10:00"), product("db2", 1, name="Db2 (December)"))

    with db.begin() as connection:
        (db2,) = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        (mq,) = period_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        (api,) = period_peaks(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert (db2.row.name, db2.row.quantity, db2.peak_date) == (
        "Db2 Warehouse",
        9,
        day("2026-11-02"),
    )
    assert (mq.row.product_name, mq.row.cloudpak_name, mq.row.cloudpak_version) == (
        "MQ Advanced",
        "CP4I",
        "2",
    )
    assert mq.row.measured_quantity == 5
    assert (api.row.service_name, api.row.value) == ("API gateway", 5)


def test_the_metric_filter_keeps_only_rows_of_that_metric(db: Database) -> None:
    store(
        db,
        at("2026-11-02", "10:00"),
        product("db2", 4),
        product("db2", 280, metric=PVU),
        bundled("mq", 2),
        bundled("mq", 140, metric=PVU),
        service("api", 1),
        service("api", 70, metric=PVU),
    )

    with db.begin() as connection:
        products = period_peaks(
            connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER, metric=PVU
        )
        bundles = period_peaks(
            connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER, metric=PVU
        )
        services = period_peaks(
            connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER, metric=PVU
        )
        unknown = period_peaks(
            connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER, metric="FREE"
        )

    assert [(p.row.metric, p.row.quantity) for p in products] == [(PVU, 280)]
    assert [(b.row.metric, b.row.measured_quantity) for b in bundles] == [(PVU, 140)]
    assert [(s.row.metric, s.row.value) for s in services] == [(PVU, 70)]
    assert unknown == []


def test_products_are_sorted_by_name_id_and_metric(db: Database) -> None:
    store(
        db,
        at("2026-11-02", "10:00"),
        product("b", 1, name="Zeta"),
        product("d", 1, name="alpha"),
        product("c", 1, name="Alpha"),
        product("a", 1, name="Alpha", metric=PVU),
        product("a", 1, name="Alpha"),
    )

    with db.begin() as connection:
        peaks = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    # Code-point order, the same on every backend whatever its collation.
    assert [(p.row.name, p.row.id, p.row.metric) for p in peaks] == [
        ("Alpha", "a", PVU),
        ("Alpha", "a", VPC),
        ("Alpha", "c", VPC),
        ("Zeta", "b", VPC),
        ("alpha", "d", VPC),
    ]


def test_converted_quantity_is_derived_exactly_from_the_measured_peak(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), bundled("mq", 3, ratio="2:1"))
    store(db, at("2026-11-03", "10:00"), bundled("mq", 1, ratio="2:1"))

    with db.begin() as connection:
        (mq,) = period_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert mq == PeriodPeak(
        BundledProductUsage(
            product_name="Product mq",
            product_id="mq",
            cloudpak_id="cp4d",
            cloudpak_name="Cloud Pak for Data",
            cloudpak_version="4.8",
            cloudpak_metric=VPC,
            metric=VPC,
            measured_quantity=3,
            conversion=parse_ratio("2:1"),
        ),
        peak_date=day("2026-11-02"),
    )
    assert mq.row.converted_quantity == Fraction(3, 2)


def test_a_bundled_product_under_two_ratios_gives_two_rows(db: Database) -> None:
    store(
        db,
        at("2026-11-02", "10:00"),
        bundled("mq", 4, ratio="1:1"),
        bundled("mq", 4, ratio="1:0.5"),
    )

    with db.begin() as connection:
        peaks = period_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert sorted((str(p.row.conversion), p.row.converted_quantity) for p in peaks) == [
        ("1:0.5", Fraction(2)),
        ("1:1", Fraction(4)),
    ]


def test_the_period_includes_both_of_its_end_days_and_nothing_else(db: Database) -> None:
    for when, quantity in (
        ("2026-10-31", 50),
        ("2026-11-01", 1),
        ("2026-11-30", 2),
        ("2026-12-01", 60),
    ):
        store(db, at(when, "12:00"), product("db2", quantity))

    with db.begin() as connection:
        (peak,) = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert (peak.row.quantity, peak.peak_date) == (2, day("2026-11-30"))


def test_clusters_do_not_see_each_others_peaks(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 4))
    store(db, at("2026-11-02", "10:00"), product("db2", 40), cluster_id=OTHER_CLUSTER)

    with db.begin() as connection:
        mine = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        theirs = period_peaks(connection, PRODUCT_ROWS, cluster_id=OTHER_CLUSTER, period=NOVEMBER)

    assert [p.row.quantity for p in mine] == [4]
    assert [p.row.quantity for p in theirs] == [40]


def test_a_period_without_samples_has_no_rows(db: Database) -> None:
    store(db, at("2026-10-02", "10:00"), product("db2", 4), bundled("mq", 1), service("api", 1))

    with db.begin() as connection:
        assert period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER) == []
        assert (
            period_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
            == []
        )
        assert period_peaks(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER) == []


def test_service_rows_carry_the_api_fields(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), service("api", 3, product_id="mq", metric=VPC))

    with db.begin() as connection:
        peaks = period_peaks(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert peaks == [
        PeriodPeak(
            ServiceUsage(
                cloudpak_id="cp4d",
                cloudpak_metric=VPC,
                product_name="Product mq",
                product_id="mq",
                metric=VPC,
                service_name="Service api",
                service_id="api",
                value=3,
            ),
            peak_date=day("2026-11-02"),
        )
    ]


def test_random_days_give_what_the_definition_says(db: Database) -> None:
    """Ties, gaps, renames and several samples a day, against the rules written out in Python."""
    chance = random.Random(5)
    samples: list[tuple[datetime, str, int, str]] = []  # taken at, key, value, name
    for offset in range(14):
        present = [key for key in ("db2", "mq", "was") if chance.random() > 0.25]
        for minute in chance.sample(range(60), 2):
            taken_at = at("2026-11-01", f"10:{minute:02}") + timedelta(days=offset)
            samples += [
                (taken_at, key, chance.randint(1, 4), f"{key} v{chance.randint(1, 3)}")
                for key in present
            ]
    for taken_at in sorted({sample[0] for sample in samples}):
        store(
            db,
            taken_at,
            *(
                usage
                for when, key, value, name in samples
                if when == taken_at
                for usage in (
                    product(key, value, name=name),
                    bundled(
                        key, value, product_name=name, cloudpak_name=f"Pak {name}", ratio="3:2"
                    ),
                )
            ),
        )
    daily: dict[tuple[str, date], tuple[int, str]] = {}
    for taken_at, key, value, name in sorted(samples):
        peak = daily.get((key, taken_at.date()), (0, ""))[0]
        daily[(key, taken_at.date())] = (max(peak, value), name)  # names: the latest sample's

    for first, last in ((1, 14), (3, 9), (6, 6), (10, 14)):
        period = DatePeriod(day(f"2026-11-{first:02}"), day(f"2026-11-{last:02}"))
        expected: list[tuple[str, str, date, int]] = []
        for key in ("db2", "mq", "was"):
            days = sorted(d for (k, d) in daily if k == key and d in period)
            if days:
                peak = max(daily[(key, d)][0] for d in days)
                peak_day = min(d for d in days if daily[(key, d)][0] == peak)
                expected.append((daily[(key, days[-1])][1], key, peak_day, peak))
        with db.read() as connection:
            products = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
            bundles = period_peaks(
                connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=period
            )

        assert [(p.row.name, p.row.id, p.peak_date, p.row.quantity) for p in products] == sorted(
            expected
        )
        assert [
            (
                b.row.product_name,
                b.row.product_id,
                b.peak_date,
                b.row.measured_quantity,
                b.row.cloudpak_name,
            )
            for b in bundles
        ] == [(name, key, d, peak, f"Pak {name}") for name, key, d, peak in sorted(expected)]
