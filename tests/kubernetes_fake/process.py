"""The fake API server in a child process, for tests that kill and restart it.

    with FakeApiProcess(state_file=tmp_path / "state.jsonl") as fake:
        ...                              # clients use fake.url
        fake.kill()                      # SIGKILL: connections break, nothing is saved late
        fake.start()                     # same port; objects and versions kept via the state file
        fake.control.compact()           # the server's test controls, over HTTP

Without a state file a restart starts from an empty cluster. ``RemoteControl`` offers the
``/_fake/…`` endpoints (see ``control.py``) with the method names of ``FakeApiServer``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

JsonObject = dict[str, Any]
_REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
_START_TIMEOUT_SECONDS = 30.0


class FakeApiProcess:
    """Starts, kills and restarts ``python -m tests.kubernetes_fake`` on one port."""

    def __init__(
        self,
        *,
        state_file: Path | None = None,
        port: int = 0,
        extra_arguments: tuple[str, ...] = (),
    ) -> None:
        self.state_file = state_file
        self.port = port
        self._extra = extra_arguments
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> FakeApiProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.terminate()

    @property
    def url(self) -> str:
        """The base URL (stable across restarts)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def control(self) -> RemoteControl:
        """The test controls of the running process."""
        return RemoteControl(self.url)

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the process (on the port of the first start) and wait until it listens."""
        if self.running:
            return
        command = [sys.executable, "-m", "tests.kubernetes_fake", "--port", str(self.port)]
        if self.state_file is not None:
            command += ["--state", str(self.state_file)]
        command += list(self._extra)
        environment = {**os.environ, "PYTHONPATH": str(_REPOSITORY_ROOT)}
        # stderr goes to a file: a pipe nobody reads could fill up and block the server.
        with tempfile.TemporaryFile(mode="w+") as errors:
            self._process = subprocess.Popen(
                command,
                cwd=_REPOSITORY_ROOT,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            line = _read_line(self._process.stdout)
            if not line.startswith("listening on "):
                self._process.kill()
                self._process.communicate(timeout=_START_TIMEOUT_SECONDS)
                errors.seek(0)
                raise RuntimeError(f"the fake API server did not start: {line!r} {errors.read()}")
        self.port = int(line.rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL the process and wait for it: the hardest possible stop."""
        self._end(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM the process and wait for it."""
        self._end(signal.SIGTERM)

    def restart(self, *, keep_state: bool = True) -> None:
        """Kill and start again; ``keep_state=False`` discards the state file first."""
        self.kill()
        if not keep_state and self.state_file is not None:
            self.state_file.unlink(missing_ok=True)
        self.start()

    def _end(self, signum: int) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signum)
        process.communicate(timeout=_START_TIMEOUT_SECONDS)


class RemoteControl:
    """``FakeApiServer``'s test controls, for a fake in another process."""

    def __init__(self, url: str) -> None:
        self._url = url

    def state(self) -> JsonObject:
        """``resourceVersion``, ``compactedResourceVersion`` and ``openWatches``."""
        return self._call("GET", "/_fake/state")

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion written."""
        return int(self.state()["resourceVersion"])

    def requests(self) -> list[JsonObject]:
        """Requests received so far (method, path, query, ...)."""
        return list(self._call("GET", "/_fake/requests")["requests"])

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        self._call("POST", "/_fake/requests/clear")

    def compact(self, *, expire_watches: bool = True) -> int:
        """Drop history up to now; return the compacted resourceVersion."""
        answer = self._call("POST", "/_fake/compact", {"expireWatches": expire_watches})
        return int(answer["compactedResourceVersion"])

    def drop_watches(self) -> int:
        """Cut every open watch; return how many were open."""
        return int(self._call("POST", "/_fake/drop-watches")["dropped"])

    def error_watches(self, code: int = 500, *, resource: str | None = None) -> int:
        """End the open watches with an ERROR event of ``code``; return how many."""
        answer = self._call("POST", "/_fake/error-watches", {"code": code, "resource": resource})
        return int(answer["ended"])

    def cut_watches_mid_event(self, *, resource: str | None = None) -> int:
        """Cut the open watches in the middle of their next event; return how many."""
        return int(self._call("POST", "/_fake/cut-watches", {"resource": resource})["cut"])

    def add_user(
        self, token: str, username: str, groups: tuple[str, ...] = (), uid: str | None = None
    ) -> None:
        """Make TokenReview authenticate ``token`` as this user."""
        self._call(
            "POST",
            "/_fake/users",
            {"token": token, "username": username, "groups": list(groups), "uid": uid},
        )

    def allow(self, user_or_group: str, non_resource_url: str, verb: str = "get") -> None:
        """Let a user or group use ``verb`` on a non-resource URL."""
        self._call(
            "POST",
            "/_fake/allow",
            {"subject": user_or_group, "path": non_resource_url, "verb": verb},
        )

    def fail(
        self,
        count: int | None = 1,
        *,
        status: int = 500,
        path: str | None = None,
        watch: bool | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status``."""
        self._fault("fail", count=count, status=status, path=path, watch=watch)

    def drop(
        self, count: int | None = 1, *, path: str | None = None, watch: bool | None = None
    ) -> None:
        """Cut the connection of the next ``count`` matching requests mid-response."""
        self._fault("drop", count=count, path=path, watch=watch)

    def delay(
        self,
        seconds: float,
        *,
        count: int | None = None,
        path: str | None = None,
        watch: bool | None = None,
    ) -> None:
        """Wait before answering matching requests."""
        self._fault("delay", seconds=seconds, count=count, path=path, watch=watch)

    def partition(self, user_agent: str, *, count: int | None = None) -> None:
        """Cut off the client whose ``User-Agent`` matches the regular expression ``user_agent``."""
        self._fault("partition", userAgent=user_agent, count=count)

    def cut_event(
        self,
        count: int | None = 1,
        *,
        path: str | None = None,
        after_events: int = 0,
        clean_end: bool = False,
    ) -> None:
        """Cut the next ``count`` matching watches in the middle of an event's line."""
        self._fault(
            "cut_event", count=count, path=path, afterEvents=after_events, cleanEnd=clean_end
        )

    def error_event(
        self,
        count: int | None = 1,
        *,
        status: int = 500,
        path: str | None = None,
        after_events: int = 0,
    ) -> None:
        """End the next ``count`` matching watches with an ERROR event of code ``status``."""
        self._fault("error_event", count=count, status=status, path=path, afterEvents=after_events)

    def stall(self, seconds: float, *, count: int | None = 1, path: str | None = None) -> None:
        """Keep the next ``count`` matching watches open and silent for ``seconds``."""
        self._fault("stall", seconds=seconds, count=count, path=path)

    def _fault(self, action: str, **fields: Any) -> None:
        self._call("POST", "/_fake/faults", {"action": action, **fields})

    def clear_faults(self) -> None:
        """Remove every arranged fault."""
        self._call("POST", "/_fake/faults/clear")

    def set_bookmark_interval(self, seconds: float) -> None:
        """Change the interval between BOOKMARK events."""
        self._call("POST", "/_fake/settings", {"bookmarkInterval": seconds})

    def _call(self, method: str, path: str, body: JsonObject | None = None) -> JsonObject:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self._url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: JsonObject = json.loads(response.read())
            return answer


def _read_line(stream: IO[str] | None) -> str:
    if stream is None:
        return ""
    return stream.readline().strip()
