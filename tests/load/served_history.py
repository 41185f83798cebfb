"""A data directory holding months of daily peaks, and ``serve`` on it in Kubernetes mode.

The history is written straight into the SQLite file before the service starts
(``bench.history.fill_history``: a catalogue of products, Cloud Paks with bundled products
and services, one day-long coverage interval per day), ending yesterday; today's rows
come from the service's own samples of the fake cluster, under the same cluster id.

The service runs with the allocator settings the image gives it (``MALLOC_*`` and
``PYTHONMALLOC`` variables of the ``Dockerfile``'s final stage, if any): resident memory
under load depends on them, and the test should see what a pod sees.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from bench.history import fill_history

from license_service.metering.cluster_view import ClusterId
from license_service.runtime.paths import DATABASE_FILE
from license_service.store.database import Database, sqlite_url
from tests.e2e.processes import REPOSITORY, ServiceProcess, start_service
from tests.load.live_cluster import SERVICE_NAMESPACE

DOCKERFILE: Final = REPOSITORY / "Dockerfile"
ALLOCATOR_VARIABLES: Final = ("MALLOC_", "PYTHONMALLOC")
CLUSTER_ID: Final = ClusterId("load-test-cluster")
SAMPLE_INTERVAL_SECONDS: Final = 1  # the sampler writes while the API reads


def fill_store(data_dir: Path, *, products: int, days: int) -> int:
    """Create ``data_dir`` with ``days`` days of ``products`` ending yesterday; return rows."""
    data_dir.mkdir(mode=0o700)
    database = Database.open(sqlite_url(data_dir / DATABASE_FILE))
    try:
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        return fill_history(
            database, products=products, days=days, last_day=yesterday, cluster_id=CLUSTER_ID
        )
    finally:
        database.engine.dispose()


def image_allocator_environment(dockerfile: Path = DOCKERFILE) -> dict[str, str]:
    """The allocator variables the image's final stage sets with ``ENV NAME=value``."""
    final_stage = dockerfile.read_text().replace("\\\n", " ").rsplit("\nFROM ", 1)[-1]
    found = {}
    for line in final_stage.splitlines():
        words = line.split()
        if words[:1] != ["ENV"]:
            continue
        for word in words[1:]:
            name, equals, value = word.partition("=")
            if equals and name.startswith(ALLOCATOR_VARIABLES):
                found[name] = value.strip("\"'")
    return found


def serve(run_dir: Path, *, data_dir: Path, kubeconfig: Path) -> ServiceProcess:
    """``license-service serve --kubeconfig`` on ``data_dir``, serving once it answers."""
    run_dir.mkdir()
    return start_service(
        run_dir,
        dumps=(),
        data_dir=data_dir,
        sample_interval=SAMPLE_INTERVAL_SECONDS,
        extra=[
            "--kubeconfig",
            str(kubeconfig),
            "--namespace",
            SERVICE_NAMESPACE,
            "--cluster-id",
            CLUSTER_ID,
        ],
    )
