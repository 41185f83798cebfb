"""``license-service snapshot create | verify``: audit snapshots without the server (SPEC 5).

``create`` builds the snapshot of a period from the server's store (its data directory,
or a ``--database-url``) and signs it with the data directory's signing key, creating
that key if the directory has none yet, as the server would. The zip is written to a
temporary file beside the output and renamed into place, so a half-written snapshot
never carries the final name; the temporary files of runs that were killed are removed
by the next run (``audit.partial_files``).

``verify`` checks a snapshot as ``sha256sum -c`` and ``openssl dgst -verify`` would,
and names every file that fails and why. Exit codes: 0 every check passed; 1 a check
failed; 2 the input cannot be read (not a zip, unusable key, wrong command line).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from license_service import __version__
from license_service.audit.partial_files import remove_stale_partials, writing_whole
from license_service.cli import options as flags
from license_service.errors import InputError, SnapshotVerificationError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import EARLIEST_DATE, MAX_PERIOD_DAYS, DatePeriod
from license_service.runtime.options import DATABASE_FILE, DEFAULT_DATA_DIR
from license_service.signing.file_store import SIGNING_KEY_FILE, SigningKeyFile
from license_service.store.retention import DEFAULT_PEAK_DAYS, DEFAULT_SAMPLE_DAYS

if TYPE_CHECKING:
    from license_service.audit.verification import VerificationReport
    from license_service.store.database import Database

CHECKS_FAILED: Final = 1
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def build_snapshot_app() -> typer.Typer:
    """The ``snapshot`` command group."""
    return flags.command_group(
        "snapshot",
        help_text="Create and verify signed audit snapshots.",
        commands={"create": create_command, "verify": verify_command},
    )


def create_command(
    *,
    date_from: Annotated[
        str,
        typer.Option("--from", metavar="YYYY-MM-DD", help="First day (UTC) of the period."),
    ],
    date_to: Annotated[
        str,
        typer.Option("--to", metavar="YYYY-MM-DD", help="Last day (UTC) of the period, included."),
    ],
    output: Annotated[
        Path | None,
        flags.optional(
            "--output",
            "-o",
            metavar="FILE",
            help_text="Where to write the zip; a directory gets the standard name "
            "(default: the standard name in the current directory).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        flags.data_dir(
            f"The server's data directory: its {DATABASE_FILE} and {SIGNING_KEY_FILE} "
            f"(default: ./{DEFAULT_DATA_DIR})."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        flags.database_url(
            "Read this database (sqlite:///FILE or postgresql://...) instead of the data "
            "directory's; the signing key still comes from the data directory."
        ),
    ] = None,
    signing_key: Annotated[
        Path | None,
        flags.optional(
            "--signing-key",
            metavar="PEM",
            help_text=f"Sign with this key file (default: DIR/{SIGNING_KEY_FILE}; created if "
            "missing).",
        ),
    ] = None,
    cluster_id: Annotated[
        str | None,
        flags.cluster_id("The cluster to report (default: the only cluster in the store)."),
    ] = None,
    cluster_name: Annotated[
        str | None,
        flags.cluster_name("The cluster's name for data_condition.txt (default: its id)."),
    ] = None,
    entitlements: Annotated[
        Path | None,
        flags.optional(
            "--entitlements",
            metavar="FILE",
            help_text="The entitlements YAML for compliance_<s>.csv (default: none, so "
            "every product with usage is UNENTITLED).",
        ),
    ] = None,
    retention_sample_days: Annotated[
        int,
        typer.Option(
            "--retention-sample-days",
            metavar="DAYS",
            min=1,
            help="The server's raw sample retention, in days.",
        ),
    ] = DEFAULT_SAMPLE_DAYS,
    retention_peak_days: Annotated[
        int,
        typer.Option(
            "--retention-peak-days",
            metavar="DAYS",
            min=1,
            help="The server's daily peak retention, in days.",
        ),
    ] = DEFAULT_PEAK_DAYS,
    chargeback: Annotated[
        bool,
        typer.Option(
            "--chargeback",
            help="Add the chargeback groups' files, as the server does while "
            "spec.chargebackEnabled is true.",
        ),
    ] = False,
) -> None:
    """Build a signed audit snapshot of a period from the store, without the server."""
    from license_service.audit.snapshot_names import snapshot_file_name
    from license_service.audit.snapshots import SnapshotContext, write_snapshot
    from license_service.entitlement_sources.file_source import EntitlementsFile
    from license_service.metering.entitlements import Entitlements
    from license_service.store.database import Database

    now = datetime.now(UTC)
    bought = (
        EntitlementsFile.load(entitlements, clock=lambda: now).current()
        if entitlements is not None
        else Entitlements()
    )
    period = _period(date_from, date_to, today=now.date())
    directory = data_dir if data_dir is not None else DEFAULT_DATA_DIR
    # A snapshot reads what the server stored: an empty database is refused, not created.
    database = Database.open(
        database_url or _data_dir_database(directory, data_dir is not None), if_empty="refuse"
    )
    try:
        cluster = _cluster(database, cluster_id)
        key = SigningKeyFile(signing_key or directory / SIGNING_KEY_FILE).load_or_create()
        target = _target(output, snapshot_file_name(cluster, period))
        context = SnapshotContext(
            version=__version__,
            cluster_id=cluster,
            cluster_name=cluster_name if cluster_name is not None else cluster,
            generated_at=now,
            retention_sample_days=retention_sample_days,
            retention_peak_days=retention_peak_days,
            entitlements=bought,
            chargeback=chargeback,
        )
        for stale in remove_stale_partials(target.parent):
            typer.echo(f"removed {stale}, left by a snapshot run that was interrupted")
        with writing_whole(target) as out:
            write_snapshot(database, context=context, period=period, signing_key=key, out=out)
    finally:
        database.dispose()
    typer.echo(f"wrote {target}")
    typer.echo(f"signed by {key.fingerprint}")


def verify_command(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE.zip", help="The snapshot to check.", show_default=False),
    ],
    *,
    public_key: Annotated[
        Path | None,
        flags.optional(
            "--public-key",
            metavar="PEM",
            help_text="Require the snapshot to be signed by this public key (a pub_key.pem you "
            "trust); without it the key inside the snapshot is used.",
        ),
    ] = None,
) -> None:
    """Check a snapshot's files, checksums and signature; name every file that fails."""
    from license_service.audit.verification import verify_snapshot

    trusted = None if public_key is None else _read_public_key(public_key)
    report = verify_snapshot(file, public_key_pem=trusted)
    for line in _report_lines(report):
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(CHECKS_FAILED)


def _report_lines(report: VerificationReport) -> list[str]:
    findings: dict[str, list[str]] = {}
    for finding in report.findings:
        findings.setdefault(finding.file, []).append(finding.problem)
    lines = [str(report.snapshot)]
    names = list(report.files) + [name for name in findings if name not in report.files]
    for name in names:
        if name in findings:
            lines += [f"  {name}: FAILED: {problem}" for problem in findings[name]]
        elif name in report.verified:
            lines.append(f"  {name}: OK")
        else:
            lines.append(f"  {name}: not checked (see the failures above or below)")
    lines.append(_key_line(report))
    if report.ok:
        lines.append("OK: every file matches checksum.txt and the signature verifies")
    else:
        lines.append(
            f"FAILED: {len(report.findings)} problem{'s' if len(report.findings) != 1 else ''} "
            f"in {', '.join(name for name in names if name in findings)}"
        )
    return lines


def _key_line(report: VerificationReport) -> str:
    if report.key_fingerprint is None:
        return "Signature: no usable public key to check it with"
    if report.trusted_key:
        return f"Signature checked with the trusted key {report.key_fingerprint}"
    return (
        f"Signature checked with the key inside the snapshot, {report.key_fingerprint}: "
        "compare it with the fingerprint on the service's /status page, or pass --public-key"
    )


def _read_public_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SnapshotVerificationError(
            f"cannot read the trusted public key {path}: {exc.strerror or exc}; give the path "
            "of a PEM public key file"
        ) from exc


def _period(date_from: str, date_to: str, *, today: date) -> DatePeriod:
    first = _day(date_from, "--from")
    last = _day(date_to, "--to")
    if first < EARLIEST_DATE:
        raise typer.BadParameter(
            f"{date_from} is before {EARLIEST_DATE.isoformat()}: there is no data from then; "
            "give a later --from",
            param_hint="--from",
        )
    if last < first:
        raise typer.BadParameter(
            f"{date_to} is before --from {date_from}: give --to on or after --from",
            param_hint="--to",
        )
    if last > today:
        raise typer.BadParameter(
            f"{date_to} is after today ({today.isoformat()}, UTC): a snapshot covers days "
            "that have begun; give --to no later than today",
            param_hint="--to",
        )
    period = DatePeriod(first, last)
    if period.days > MAX_PERIOD_DAYS:
        raise typer.BadParameter(
            f"{date_from} to {date_to} spans {period.days} days; a snapshot covers at most "
            f"{MAX_PERIOD_DAYS}: split the period",
            param_hint="--from/--to",
        )
    return period


def _day(text: str, option: str) -> date:
    problem = f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2026-11-01"
    if not _DATE.fullmatch(text):
        raise typer.BadParameter(problem, param_hint=option)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{problem} ({exc})", param_hint=option) from exc


def _data_dir_database(directory: Path, given: bool) -> str:
    from license_service.store.database import sqlite_url

    path = directory / DATABASE_FILE
    if not path.is_file():
        where = "" if given else " (the default data directory; give --data-dir DIR)"
        raise InputError(
            f"no database {path}{where}: give the data directory of a server that has "
            "sampled, or --database-url"
        )
    return sqlite_url(path)


def _cluster(database: Database, wanted: str | None) -> ClusterId:
    from license_service.store.clusters import cluster_ids

    with database.read() as connection:
        known = cluster_ids(connection)
    if wanted is not None:
        if wanted not in known:
            raise InputError(
                f"cluster id {wanted!r} has no data in {database.url}; clusters there: "
                f"{', '.join(known) or 'none'}"
            )
        return ClusterId(wanted)
    if len(known) == 1:
        return known[0]
    if not known:
        raise InputError(
            f"database {database.url} holds no cluster data yet: let the server sample first"
        )
    raise InputError(
        f"database {database.url} holds several clusters ({', '.join(known)}): "
        "choose one with --cluster-id"
    )


def _target(output: Path | None, standard_name: str) -> Path:
    if output is None:
        return Path.cwd() / standard_name
    if output.is_dir():
        return output / standard_name
    return output
