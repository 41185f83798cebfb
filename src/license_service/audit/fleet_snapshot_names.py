"""The names of the Reporter's snapshot (SPEC 11) and of the files inside it, in one place.

The zip is ``license-service-reporter-snapshot_<dateFrom>_<dateTo>.zip``. It holds the
fleet's files with SPEC 5's ``<s>`` = ``<dateFrom>_<dateTo>_all`` (``all`` in the
cluster id's place), then each cluster's files in its own folder
``clusters/<dir>/`` with ``<s>`` = ``<dateFrom>_<dateTo>_<dir>``, then
``clusters.csv``, ``data_condition.txt``, ``checksum.txt``, ``signature.rsa`` and
``pub_key.pem``. A folder of its own keeps a cluster named ``all`` apart from the
fleet's files.

``<dir>`` is the cluster id when it is a safe file name (SPEC 5's rule: 1 to 253
letters, digits, ``.``, ``_``, ``-``, starting with a letter or digit; pushes and
imports accept no other id) and no other cluster of the snapshot has the same id
but for case (they would overwrite each other when unzipped on macOS or Windows).
Any other id (a database edited by hand) becomes ``<cleaned>~<hash>``: each
character outside that set replaced by ``_``, leading dots and dashes dropped, cut
to 64 characters, then ``~`` and the first 12 hex digits of the SHA-256 of the id.
``~`` never occurs in a safe id, so such a folder never meets one. ``data_condition.txt``
names each cluster's folder. Pure.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from license_service.audit.snapshot_names import (
    CHECKSUM_FILE,
    DATA_CONDITION_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_FILE,
)
from license_service.metering.periods import DatePeriod

FLEET_SNAPSHOT_PREFIX: Final = "license-service-reporter-snapshot"
FLEET_SUFFIX: Final = "all"
"""What stands in the cluster id's place of the fleet's files (SPEC 11)."""
CLUSTERS_FILE: Final = "clusters.csv"
CLUSTERS_FOLDER: Final = "clusters"
FLEET_PREFIXES: Final = ("products", "products_daily", "bundled_products", "bundled_products_daily")

_SAFE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
_UNSAFE_CHARACTER: Final = re.compile(r"[^A-Za-z0-9._-]")
_CLEANED_LENGTH: Final = 64
_HASH_DIGITS: Final = 12
_DATES: Final = r"\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}"
_FLEET_CSV: Final = re.compile(
    rf"(?:{'|'.join(FLEET_PREFIXES)})_(?P<dates>{_DATES})_{FLEET_SUFFIX}\.csv"
)
_CLUSTER_CSV: Final = re.compile(
    rf"{CLUSTERS_FOLDER}/(?P<dir>[^/]+)/(?:{'|'.join(FLEET_PREFIXES)})_{_DATES}_(?P=dir)\.csv"
)


@dataclass(frozen=True, slots=True)
class FleetSnapshotFiles:
    """The files of one Reporter snapshot over the dates ``dates`` (``<from>_<to>``), whose
    clusters' folders are ``folders`` (in order)."""

    dates: str
    folders: tuple[str, ...]

    @property
    def suffix(self) -> str:
        """The ``<s>`` of the fleet's files: ``<dateFrom>_<dateTo>_all``."""
        return f"{self.dates}_{FLEET_SUFFIX}"

    def fleet_file(self, prefix: str) -> str:
        """The fleet's file of ``prefix`` (``products``, ...): ``<prefix>_<s>.csv``."""
        return f"{prefix}_{self.suffix}.csv"

    def cluster_file(self, folder: str, prefix: str) -> str:
        """A cluster's file: ``clusters/<dir>/<prefix>_<dateFrom>_<dateTo>_<dir>.csv``."""
        return f"{CLUSTERS_FOLDER}/{folder}/{prefix}_{self.dates}_{folder}.csv"

    @property
    def checksummed(self) -> tuple[str, ...]:
        """The files ``checksum.txt`` lists, in the order they are written."""
        return (
            *(self.fleet_file(prefix) for prefix in FLEET_PREFIXES),
            *(
                self.cluster_file(folder, prefix)
                for folder in self.folders
                for prefix in FLEET_PREFIXES
            ),
            CLUSTERS_FILE,
            DATA_CONDITION_FILE,
        )

    @property
    def every_file(self) -> tuple[str, ...]:
        """Every file of the snapshot, in the order they are written."""
        return (*self.checksummed, CHECKSUM_FILE, SIGNATURE_FILE, PUBLIC_KEY_FILE)

    @property
    def added_later(self) -> frozenset[str]:
        """Files that snapshots of earlier versions do not hold: none yet."""
        return frozenset()


def fleet_snapshot_files(period: DatePeriod, folders: Iterable[str]) -> FleetSnapshotFiles:
    """The file names of the Reporter snapshot of ``period`` with the clusters' ``folders``."""
    return FleetSnapshotFiles(_dates(period), tuple(folders))


def fleet_snapshot_file_name(period: DatePeriod) -> str:
    """``license-service-reporter-snapshot_<dateFrom>_<dateTo>.zip``."""
    return f"{FLEET_SNAPSHOT_PREFIX}_{_dates(period)}.zip"


def cluster_folders(cluster_ids: Iterable[str]) -> dict[str, str]:
    """Each cluster id's folder name (see the module's rule), by id; distinct folders."""
    ids = list(dict.fromkeys(cluster_ids))
    cases = Counter(cluster_id.casefold() for cluster_id in ids)
    return {
        cluster_id: (
            cluster_id
            if _SAFE_ID.fullmatch(cluster_id) and cases[cluster_id.casefold()] == 1
            else _hashed(cluster_id)
        )
        for cluster_id in ids
    }


def fleet_files_in(names: Iterable[str]) -> FleetSnapshotFiles | None:
    """The layout of a Reporter snapshot whose zip holds ``names``, or ``None`` when they are
    not a Reporter snapshot's (no fleet file ``products_<dateFrom>_<dateTo>_all.csv``...)."""
    names = list(names)
    dates = Counter(match["dates"] for name in names if (match := _FLEET_CSV.fullmatch(name)))
    if not dates:
        return None
    folders = dict.fromkeys(
        match["dir"] for name in names if (match := _CLUSTER_CSV.fullmatch(name))
    )
    return FleetSnapshotFiles(dates.most_common(1)[0][0], tuple(folders))


def _hashed(cluster_id: str) -> str:
    cleaned = _UNSAFE_CHARACTER.sub("_", cluster_id).lstrip(".-")[:_CLEANED_LENGTH]
    digest = hashlib.sha256(cluster_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{cleaned or 'cluster'}~{digest[:_HASH_DIGITS]}"


def _dates(period: DatePeriod) -> str:
    return f"{period.first.isoformat()}_{period.last.isoformat()}"
