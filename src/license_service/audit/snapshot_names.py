"""The names of an audit snapshot and of the files inside it (SPEC 5), in one place.

The zip is ``license-service-snapshot_<clusterId>_<dateFrom>_<dateTo>.zip``; its CSV
files end in ``<s>`` = ``<dateFrom>_<dateTo>_<clusterId>``. Cluster ids become part
of file names, so only ids made of letters, digits, ``.``, ``_`` and ``-`` are accepted
(a Kubernetes UID is one); anything else raises ``AuditError`` rather than producing a
name that ``sha256sum`` or an unzip tool would read differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from license_service.errors import AuditError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod

SNAPSHOT_PREFIX: Final = "license-service-snapshot"
DATA_CONDITION_FILE: Final = "data_condition.txt"
CHECKSUM_FILE: Final = "checksum.txt"
SIGNATURE_FILE: Final = "signature.rsa"
PUBLIC_KEY_FILE: Final = "pub_key.pem"

# The prefixes of the CSV files, in the order they are written.
CSV_PREFIXES: Final = (
    "products",
    "products_daily",
    "bundled_products",
    "bundled_products_daily",
    "services",
    "compliance",
    "chargeback_products",
    "chargeback_products_daily",
    "uploads",
)

_CLUSTER_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
_DATES: Final = r"\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}"
_CSV_NAME: Final = re.compile(
    rf"(?P<prefix>{'|'.join(CSV_PREFIXES)})_(?P<suffix>{_DATES}_{_CLUSTER_ID.pattern})\.csv"
)
_ZIP_NAME: Final = re.compile(
    rf"{SNAPSHOT_PREFIX}_(?P<cluster>{_CLUSTER_ID.pattern})_(?P<first>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"_(?P<last>\d{{4}}-\d{{2}}-\d{{2}})\.zip"
)


@dataclass(frozen=True, slots=True)
class SnapshotFiles:
    """The names of the files of one snapshot, whose CSV files end in ``_<suffix>.csv``."""

    suffix: str
    chargeback: bool = False
    """Whether the chargeback groups' files are part of it (SPEC 8: chargeback on)."""

    @property
    def products(self) -> str:
        """``products_<s>.csv``: the period peak of every product and Cloud Pak."""
        return f"products_{self.suffix}.csv"

    @property
    def products_daily(self) -> str:
        """``products_daily_<s>.csv``: every daily peak of every product and Cloud Pak."""
        return f"products_daily_{self.suffix}.csv"

    @property
    def bundled_products(self) -> str:
        """``bundled_products_<s>.csv``: the period peak of every bundled product."""
        return f"bundled_products_{self.suffix}.csv"

    @property
    def bundled_products_daily(self) -> str:
        """``bundled_products_daily_<s>.csv``: every daily peak of every bundled product."""
        return f"bundled_products_daily_{self.suffix}.csv"

    @property
    def services(self) -> str:
        """``services_<s>.csv``: the period peak of every service."""
        return f"services_{self.suffix}.csv"

    @property
    def compliance(self) -> str:
        """``compliance_<s>.csv``: every product's period peak against its entitlement (SPEC 13)."""
        return f"compliance_{self.suffix}.csv"

    @property
    def added_later(self) -> frozenset[str]:
        """Files that snapshots of earlier versions do not hold: missing, they are no finding."""
        return frozenset({self.compliance})

    @property
    def chargeback_products(self) -> str:
        """``chargeback_products_<s>.csv``: the period peak of every product of every group."""
        return f"chargeback_products_{self.suffix}.csv"

    @property
    def chargeback_products_daily(self) -> str:
        """``chargeback_products_daily_<s>.csv``: every daily peak of every group's products."""
        return f"chargeback_products_daily_{self.suffix}.csv"

    @property
    def uploads(self) -> str:
        """``uploads_<s>.csv``: every accepted upload of the period (SPEC 10)."""
        return f"uploads_{self.suffix}.csv"

    @property
    def checksummed(self) -> tuple[str, ...]:
        """The files ``checksum.txt`` lists, in the order they are written."""
        chargeback = (
            (self.chargeback_products, self.chargeback_products_daily) if self.chargeback else ()
        )
        return (
            self.products,
            self.products_daily,
            self.bundled_products,
            self.bundled_products_daily,
            self.services,
            self.compliance,
            *chargeback,
            self.uploads,
            DATA_CONDITION_FILE,
        )

    @property
    def every_file(self) -> tuple[str, ...]:
        """Every file of the snapshot, in the order they are written."""
        return (*self.checksummed, CHECKSUM_FILE, SIGNATURE_FILE, PUBLIC_KEY_FILE)


def snapshot_files(
    cluster_id: ClusterId, period: DatePeriod, *, chargeback: bool = False
) -> SnapshotFiles:
    """The file names of the snapshot of ``cluster_id`` over ``period`` (with the chargeback
    groups' files when ``chargeback``)."""
    _check_cluster_id(cluster_id)
    return SnapshotFiles(
        f"{period.first.isoformat()}_{period.last.isoformat()}_{cluster_id}", chargeback
    )


def snapshot_file_name(cluster_id: ClusterId, period: DatePeriod) -> str:
    """``license-service-snapshot_<clusterId>_<dateFrom>_<dateTo>.zip``."""
    _check_cluster_id(cluster_id)
    return (
        f"{SNAPSHOT_PREFIX}_{cluster_id}_{period.first.isoformat()}_{period.last.isoformat()}.zip"
    )


def suffix_of_csv_name(name: str) -> str | None:
    """The ``<s>`` of a snapshot CSV name (``products_<s>.csv``...), or ``None`` for others."""
    match = _CSV_NAME.fullmatch(name)
    return match["suffix"] if match else None


def suffix_of_snapshot_name(name: str) -> str | None:
    """The ``<s>`` that the CSV files of the zip named ``name`` carry, or ``None``."""
    match = _ZIP_NAME.fullmatch(name)
    return f"{match['first']}_{match['last']}_{match['cluster']}" if match else None


def _check_cluster_id(cluster_id: ClusterId) -> None:
    if not _CLUSTER_ID.fullmatch(cluster_id):
        raise AuditError(
            f"cluster id {cluster_id!r} cannot be part of snapshot file names: use 1 to 253 "
            "letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(the default, the UID of the kube-system namespace, is one)"
        )
