"""Starting the real ``license-service`` process for end-to-end tests, and waiting on it.

``ServiceProcess`` runs ``python -m license_service serve|demo ...`` with its own
data directory and free ports, its standard output and error captured in files,
and stops it with SIGTERM (a process that does not stop within 20 s is killed and
the test fails). Waiting is bounded polling: a real process runs on real time.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import httpx
import pytest

REPOSITORY = Path(__file__).resolve().parent.parent.parent
DUMP = REPOSITORY / "tests" / "fixtures" / "dumps" / "cluster.json"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

T = TypeVar("T")

# Run as ``python -c _LIMIT_OPEN_FILES LIMIT ARGS...``: lowers the soft limit of open
# files, then becomes ``python ARGS...`` (a preexec_fn is unsafe in a threaded test).
_LIMIT_OPEN_FILES = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, "
    "(int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


_GIVEN_PORTS: set[int] = set()
# Under pytest-xdist (`pytest -n 2` by hand), each worker draws ports from a
# range of its own below the kernel's ephemeral ports (32768 and up on Linux): a port one
# worker probed and released could otherwise be handed to another worker's probe, or to
# an outgoing connection, before its server binds it (seen: "Address already in use").
_WORKER_PORTS_FROM = 23_000
_PORTS_PER_WORKER = 4_000
_WORKERS_WITH_RANGES = 2


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, never one this process was given before.

    The kernel may hand out a port again as soon as the probe closes, so two calls for one
    service (its API and metrics ports) could otherwise get the same one (seen in CI).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None
    if index is not None and index < _WORKERS_WITH_RANGES:
        start = _WORKER_PORTS_FROM + index * _PORTS_PER_WORKER
        for port in range(start, start + _PORTS_PER_WORKER):
            if port in _GIVEN_PORTS:
                continue
            _GIVEN_PORTS.add(port)
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue  # in use by something else on the machine
            return port
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


def eventually(check: Callable[[], T | None], *, within: float, what: str) -> T:
    """Poll ``check`` until it returns a true value, or fail saying ``what`` did not happen."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {within:g} s")
        time.sleep(0.05)


@dataclass
class ServiceProcess:
    """A running ``license-service`` process and how to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    metrics_port: int
    data_dir: Path
    stdout_path: Path
    stderr_path: Path
    scheme: str = "http"
    _files: list[IO[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def token(self) -> str:
        """The API token the server uses (read from its data directory, as an operator would)."""
        return (self.data_dir / "api-token").read_text().strip()

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def log(self) -> str:
        """Everything the process wrote to standard error so far."""
        return self.stderr_path.read_text()

    def wait_until_serving(self, *, verify: bool | ssl.SSLContext = True) -> None:
        def serving() -> bool:
            if self.process.poll() is not None:
                pytest.fail(
                    f"license-service exited with code {self.process.returncode} before "
                    f"serving:\n{self.stdout()}\n{self.log()}"
                )
            try:
                return httpx.get(f"{self.url}/livez", timeout=2, verify=verify).status_code == 200
            except httpx.TransportError:
                return False

        eventually(serving, within=START_TIMEOUT, what="the server answering /livez")

    def stop(self) -> int:
        """Send SIGTERM and wait for the exit; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"license-service did not stop within {STOP_TIMEOUT:g} s of SIGTERM")
        for file in self._files:
            file.close()
        return self.process.returncode


def start_service(
    tmp_path: Path,
    *,
    command: str = "serve",
    extra: Sequence[str] = (),
    dumps: Sequence[Path] = (DUMP,),
    sample_interval: int = 1,
    scheme: str = "http",
    verify: bool | ssl.SSLContext = True,
    signing_key: bytes | None = None,
    data_dir: Path | None = None,
    fd_limit: int | None = None,
    env: Mapping[str, str] | None = None,
) -> ServiceProcess:
    """Start ``license-service <command>`` in ``tmp_path`` and wait until it serves.

    ``signing_key`` (PEM) is put in the data directory first, as a kept key would be,
    which spares the process generating one. ``data_dir`` defaults to ``tmp_path/data``.
    ``fd_limit`` lowers the process's soft limit of open files (``RLIMIT_NOFILE``).
    ``env`` replaces the process's environment (default: this one's).
    """
    data_dir = data_dir or tmp_path / "data"
    if signing_key is not None and not data_dir.exists():
        data_dir.mkdir(mode=0o700)
        key_file = data_dir / "signing-key.pem"
        key_file.write_bytes(signing_key)
        key_file.chmod(0o600)
    port, metrics_port = free_port(), free_port()
    arguments = [
        sys.executable,
        "-m",
        "license_service",
        command,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metrics-port",
        str(metrics_port),
        "--data-dir",
        str(data_dir),
        "--sample-interval",
        str(sample_interval),
    ]
    if command == "serve":
        for dump in dumps:
            arguments += ["--cluster-dump", str(dump)]
    arguments += extra
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    stdout, stderr = stdout_path.open("wb"), stderr_path.open("wb")
    if fd_limit is not None:
        arguments = [sys.executable, "-c", _LIMIT_OPEN_FILES, str(fd_limit), *arguments[1:]]
    environment = None if env is None else dict(env)
    process = subprocess.Popen(
        arguments, stdout=stdout, stderr=stderr, cwd=tmp_path, env=environment
    )
    service = ServiceProcess(
        process=process,
        port=port,
        metrics_port=metrics_port,
        data_dir=data_dir,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        scheme=scheme,
        _files=[stdout, stderr],
    )
    try:
        service.wait_until_serving(verify=verify)
    except BaseException:
        service.stop()
        raise
    return service


def run_cli(
    *arguments: str, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``license-service <arguments>`` to completion (e.g. ``token set``).

    ``env`` replaces the process's environment (default: this one's).
    """
    return subprocess.run(
        [sys.executable, "-m", "license_service", *arguments],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=None if env is None else dict(env),
    )


def environment_outside_a_pod(home: Path, **variables: str) -> dict[str, str]:
    """This environment with ``HOME`` at ``home``, without ``$KUBECONFIG`` or the pod's
    variables, plus ``variables``: where ``serve`` finds no kubeconfig unless one is put."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name != "KUBECONFIG" and not name.startswith("KUBERNETES_")
    }
    return {**kept, "HOME": str(home), **variables}
