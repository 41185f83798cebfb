"""The process that writes one audit snapshot, and then the same CSV rows with nothing else.

Run by ``snapshot_benchmark`` as ``python -m bench.snapshot_process --database-url URL
--first-day D --last-day D --out-dir DIR``, in a fresh interpreter so its memory
figures are the snapshot's alone. It generates a signing key (not timed), then:

1. writes the signed snapshot of the period with ``audit.snapshots.write_snapshot``
   into a file, as ``/snapshot`` does (a temporary file), timing it and taking the
   peak resident memory above what the process held before;
2. reads the snapshot's CSV files back (not timed) and writes the very same bytes
   into a new zip, deflated the same way, line by line through 64 KiB of
   buffering: the limit, writing and zipping the rows with nothing else; again
   time and peak memory above what was held before.

Each step's CPU time (every thread of the process) is taken too: the snapshot
deflates on a worker thread while it reads the store, so with a second core free
its time falls below its CPU time; on a machine whose cores are busy, the two meet.

It prints one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from bench.history import CLUSTER
from bench.measurements import emit, peak_rss_mib, reset_peak_memory, rss_mib, timed
from license_service.audit.snapshots import SnapshotContext, write_snapshot
from license_service.metering.periods import DatePeriod
from license_service.signing.file_store import SigningKeyFile
from license_service.store.database import Database

BUFFER_BYTES: Final = 64 * 1024


def write_rows_only(path: Path, files: dict[str, list[bytes]]) -> None:
    """Zip ``files`` (name to lines) with nothing else: the limit of a snapshot."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, lines in files.items():
            with archive.open(name, "w", force_zip64=True) as entry:
                buffer = bytearray()
                for line in lines:
                    buffer += line
                    if len(buffer) >= BUFFER_BYTES:
                        entry.write(buffer)
                        buffer.clear()
                entry.write(buffer)


def main(argv: list[str] | None = None) -> None:
    """Write the snapshot, then the limit; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--first-day", type=date.fromisoformat, required=True)
    parser.add_argument("--last-day", type=date.fromisoformat, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--signing-key", type=Path, required=True)
    arguments = parser.parse_args(argv)
    database = Database.open(arguments.database_url)
    signing_key = SigningKeyFile(arguments.signing_key).load_or_create()
    period = DatePeriod(arguments.first_day, arguments.last_day)
    context = SnapshotContext(
        version="bench",
        cluster_id=CLUSTER,
        cluster_name="bench",
        generated_at=datetime.now(UTC),
        retention_sample_days=62,
        retention_peak_days=731,
    )
    snapshot_path = arguments.out_dir / "snapshot.zip"
    result: dict[str, Any] = {"peak_reset": reset_peak_memory()}
    before = rss_mib()

    def snapshot() -> None:
        with snapshot_path.open("wb") as out:
            write_snapshot(
                database, context=context, period=period, signing_key=signing_key, out=out
            )

    cpu_before = time.process_time()
    result["snapshot_seconds"] = timed(snapshot)
    result["snapshot_cpu_seconds"] = time.process_time() - cpu_before
    result["snapshot_extra_mib"] = peak_rss_mib() - before
    result["snapshot_bytes"] = snapshot_path.stat().st_size

    with zipfile.ZipFile(snapshot_path) as archive:
        csv_files = {
            name: archive.read(name).splitlines(keepends=True)
            for name in archive.namelist()
            if name.endswith(".csv")
        }
    result["csv_bytes"] = sum(len(line) for lines in csv_files.values() for line in lines)
    result["csv_rows"] = sum(len(lines) - 1 for lines in csv_files.values())
    result["limit_peak_reset"] = reset_peak_memory()
    before = rss_mib()
    cpu_before = time.process_time()
    result["limit_seconds"] = timed(
        lambda: write_rows_only(arguments.out_dir / "rows.zip", csv_files)
    )
    result["limit_cpu_seconds"] = time.process_time() - cpu_before
    result["limit_extra_mib"] = peak_rss_mib() - before
    database.engine.dispose()
    emit(result)


if __name__ == "__main__":
    main()
