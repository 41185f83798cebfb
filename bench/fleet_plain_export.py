"""The plain baseline of the fleet snapshot: the same CSV files, zipped with csv and zipfile.

Run by ``fleet_benchmark`` as ``python -m bench.fleet_plain_export --database-url URL
--first-day D --last-day D --out FILE.zip``, in a fresh interpreter. Straight from the
Reporter's tables, with nothing of License Service's code, it writes what the
Reporter's ``/snapshot`` holds (SPEC 11) for the period:

- ``products_<from>_<to>_all.csv`` (each product's highest daily sum and its earliest
  day, by SQL), ``products_daily_<from>_<to>_all.csv`` (the fleet's daily sums) and
  the same two for bundled products;
- the same four files per cluster (suffix the cluster id), from its daily peaks;
- ``clusters.csv``;

each through ``csv.writer`` into a deflated zip entry. The rows stream from server-side
cursors (a named cursor per query), so memory stays flat. It prints one JSON line:
seconds, CPU seconds, rows, files and zip bytes.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

import psycopg
from sqlalchemy.engine import make_url

from bench.measurements import emit

_FETCH: Final = 10_000


class _Export:
    def __init__(self, connection: psycopg.Connection[Any], archive: zipfile.ZipFile) -> None:
        self.connection = connection
        self.archive = archive
        self.rows = 0
        self.files = 0
        self._cursors = 0

    def query(self, sql: str, parameters: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql``, fetched from a server-side cursor."""
        self._cursors += 1
        with self.connection.cursor(name=f"plain_{self._cursors}") as cursor:
            cursor.itersize = _FETCH
            cursor.execute(sql, parameters)  # type: ignore[arg-type]
            yield from cursor

    def write(self, name: str, header: Sequence[str], rows: Iterator[Sequence[Any]]) -> None:
        """One CSV file of the zip."""
        with (
            self.archive.open(name, "w", force_zip64=True) as entry,
            io.TextIOWrapper(entry, encoding="utf-8", newline="", write_through=False) as text,
        ):
            writer = csv.writer(text)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                self.rows += 1
        self.files += 1


# (file stem, peaks table, sums table, key columns, name columns, value column)
_REPORTS: Final = (
    (
        "products",
        "fleet_product_daily_peaks",
        "fleet_product_daily_sums",
        ("product_id", "metric"),
        ("product_name",),
        "quantity",
    ),
    (
        "bundled_products",
        "fleet_bundled_product_daily_peaks",
        "fleet_bundled_product_daily_sums",
        ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"),
        ("product_name", "cloudpak_name", "cloudpak_version"),
        "measured_quantity",
    ),
)


def _period_sql(source: str, key: Sequence[str], names: Sequence[str], value: str) -> str:
    """Per key the highest daily value and its earliest day (``DISTINCT ON``)."""
    columns = ", ".join((*key, *names))
    keys = ", ".join(key)
    return (
        f"SELECT DISTINCT ON ({keys}) {columns}, {value}, day FROM ({source}) AS daily "  # noqa: S608
        f"ORDER BY {keys}, {value} DESC, day"
    )


def export(connection: psycopg.Connection[Any], out: Path, first: date, last: date) -> _Export:
    """Write the plain zip of the period ``first`` .. ``last``."""
    suffix = f"{first.isoformat()}_{last.isoformat()}"
    period = (first, last)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        done = _Export(connection, archive)
        for stem, peaks, sums, key, names, value in _REPORTS:
            columns = ", ".join((*key, *names))
            daily = (
                f"SELECT day, {columns}, {value} FROM {sums} "  # noqa: S608
                "WHERE day BETWEEN %s AND %s"
            )
            header = ["date", *key, *names, value]
            done.write(
                f"{stem}_daily_{suffix}_all.csv",
                header,
                done.query(f"{daily} ORDER BY day, {columns}", period),
            )
            done.write(
                f"{stem}_{suffix}_all.csv",
                [*key, *names, value, "peakDate"],
                done.query(_period_sql(daily, key, names, value), period),
            )
            per_cluster = (
                f"SELECT cluster_id, day, {columns}, {value} FROM {peaks} "  # noqa: S608
                "WHERE day BETWEEN %s AND %s"
            )
            _per_cluster(
                done,
                f"{stem}_daily_{suffix}",
                header,
                done.query(f"{per_cluster} ORDER BY cluster_id, day, {columns}", period),
            )
            by_cluster = (
                f"SELECT DISTINCT ON (cluster_id, {', '.join(key)}) cluster_id, {columns}, "  # noqa: S608
                f"{value}, day FROM {peaks} WHERE day BETWEEN %s AND %s "
                f"ORDER BY cluster_id, {', '.join(key)}, {value} DESC, day"
            )
            _per_cluster(
                done,
                f"{stem}_{suffix}",
                [*key, *names, value, "peakDate"],
                done.query(by_cluster, period),
            )
        done.write(
            "clusters.csv",
            ["clusterId", "clusterName", "serviceVersion", "lastPushAt", "keyFingerprint"],
            done.query(
                "SELECT cluster_id, cluster_name, service_version, last_push_at, "
                "key_fingerprint FROM fleet_clusters ORDER BY cluster_id",
                (),
            ),
        )
    return done


def _per_cluster(
    done: _Export, stem: str, header: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> None:
    """One file per cluster from ``rows`` ordered by cluster (its first column)."""
    current: list[tuple[Any, ...]] = []
    cluster: str | None = None
    for row in rows:
        if row[0] != cluster:
            if cluster is not None:
                done.write(f"{stem}_{cluster}.csv", header, iter(current))
            cluster, current = row[0], []
        current.append(row[1:])
    if cluster is not None:
        done.write(f"{stem}_{cluster}.csv", header, iter(current))


def main(argv: list[str] | None = None) -> None:
    """Write the plain zip; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--first-day", type=date.fromisoformat, required=True)
    parser.add_argument("--last-day", type=date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(argv)
    url = make_url(arguments.database_url)
    options = url.query.get("options")
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    started = time.perf_counter()
    cpu = time.process_time()
    with psycopg.connect(conninfo, options=str(options) if options else None) as connection:
        done = export(connection, arguments.out, arguments.first_day, arguments.last_day)
    emit(
        {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
            "rows": done.rows,
            "files": done.files,
            "zip_bytes": arguments.out.stat().st_size,
        }
    )


if __name__ == "__main__":
    main()
