"""A randomized history stored through the real store, made to trip ordering and folding.

Names mix cases, accents, scripts beyond the BMP, CSV specials and formula starts, and
change from day to day for the same id; quantities come from a small range, so peaks
tie across days (the earliest day must win) and bundled rows tie on everything but
their conversion (``10:1`` sorts after ``2:1`` by ratio, before it by text). Some days
have no sample, and another cluster's rows must stay out.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Final

from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage, ServiceUsage
from license_service.store.database import Database
from tests.store.sample_builders import (
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

FIRST_DAY: Final = day("2026-10-01")
NAMES: Final = (
    "alpha",
    "Alpha",
    "ALPHA",
    "Ålpha",
    "alpha beta",
    "alpha,beta",
    'say "hi"',
    "=SUM(1+1)",
    "-minus",
    "+plus",
    "@at",
    "\ttab",
    "Db2 Wärehouse — ünïcode",
    "製品",
    "📦 box",
    "ẞ ß",
    "İstanbul",
    "z",
    "",
)
RATIOS: Final = ("1:1", "2:1", "10:1", "3:1", "1:2", "1.5:1", "0.5:3")
IDS: Final = ("a", "b", "B", "ä", "id-1", "id-10", "id-2", "=id")


def store_random_history(db: Database, *, seed: int, days: int = 10) -> DatePeriod:
    """Store ``days`` days of random samples (two or three a day, some days none)."""
    generator = random.Random(seed)
    names = {identifier: generator.choice(NAMES) for identifier in IDS}
    for offset in range(days):
        if generator.random() < 0.15:
            continue
        date_text = (FIRST_DAY + timedelta(days=offset)).isoformat()
        for hour in generator.sample(range(24), generator.randint(1, 3)):
            for identifier in IDS:
                if generator.random() < 0.2:
                    names[identifier] = generator.choice(NAMES)
            store(
                db,
                at(date_text, f"{hour:02}:00"),
                *_products(generator, names),
                *_bundled(generator, names),
                *_services(generator, names),
            )
    store(db, at(FIRST_DAY.isoformat(), "12:00"), product("a", 99), cluster_id=OTHER_CLUSTER)
    return DatePeriod(FIRST_DAY, FIRST_DAY + timedelta(days=days - 1))


def _products(generator: random.Random, names: dict[str, str]) -> list[ProductUsage]:
    return [
        product(identifier, generator.randint(0, 4), name=names[identifier], metric=metric)
        for identifier in IDS
        for metric in (VPC, PVU)
        if generator.random() < 0.6
    ]


def _bundled(generator: random.Random, names: dict[str, str]) -> list[BundledProductUsage]:
    rows = []
    for identifier in IDS[:4]:
        for ratio in generator.sample(RATIOS, generator.randint(1, 4)):
            rows.append(
                bundled(
                    identifier,
                    generator.randint(1, 2),
                    ratio=ratio,
                    cloudpak_id=generator.choice(("cp4i", "cp4d")),
                    product_name=names[identifier],
                    cloudpak_name=generator.choice(("Cloud Pak", "cloud pak", "=Pak")),
                    cloudpak_version=generator.choice(("4.8", "2023.4")),
                )
            )
    return rows


def _services(generator: random.Random, names: dict[str, str]) -> list[ServiceUsage]:
    return [
        service(
            service_id,
            generator.randint(0, 3),
            product_id=product_id,
            product_name=names[product_id],
            service_name=names[service_id],
        )
        for service_id in IDS[4:]
        for product_id in IDS[:2]
        if generator.random() < 0.7
    ]
