"""Starting a real ``license-service reporter`` for end-to-end tests, and reading its token."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

from tests.e2e.processes import ServiceProcess, free_port


def start_reporter(
    tmp_path: Path,
    database_url: str,
    *,
    name: str = "r",
    extra: tuple[str, ...] = (),
    port: int | None = None,
    scheme: str = "http",
    verify: bool | ssl.SSLContext = True,
) -> ServiceProcess:
    """``license-service reporter`` on a free port (or ``port``: a restart where clusters
    push to), its data directory in ``tmp_path``; ``scheme`` "https" with ``--tls-cert``
    and ``--tls-key`` in ``extra``, ``verify`` trusting the certificate."""
    data_dir = tmp_path / ("reporter-data" if not extra else f"{name}-data")
    port = port or free_port()
    stdout_path, stderr_path = tmp_path / f"{name}-out.txt", tmp_path / f"{name}-err.txt"
    stdout, stderr = stdout_path.open("wb"), stderr_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "license_service",
            "reporter",
            "--database-url",
            database_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        stdout=stdout,
        stderr=stderr,
        cwd=tmp_path,
    )
    reporter = ServiceProcess(
        process=process,
        port=port,
        metrics_port=0,
        data_dir=data_dir,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        scheme=scheme,
        _files=[stdout, stderr],
    )
    try:
        reporter.wait_until_serving(verify=verify)
    except BaseException:
        reporter.stop()
        raise
    return reporter


def token_of(reporter: ServiceProcess) -> str:
    """The token the Reporter generated in its data directory (or the shared one given)."""
    shared = reporter.data_dir.parent / "shared-token"
    return (shared if shared.exists() else reporter.data_dir / "token").read_text().strip()
