"""A cluster dump whose usage keeps changing, for a service under fault to sample.

``ChangingDump`` rewrites a copy of the fixture dump every few tenths of a second
with another CPU limit on the WebSphere pod (1 to 6 cores), always by an atomic
rename, so the service (which re-reads a replaced dump within a second) stores
samples of different values and daily peaks are a real maximum, not a constant.
"""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path
from typing import Any, Final

from tests.e2e.processes import DUMP

CHANGING_POD: Final = "was-liberty-0"
_EVERY_SECONDS: Final = 0.3


class ChangingDump:
    """A dump file at ``path`` whose ``CHANGING_POD`` gets a new CPU limit while running."""

    def __init__(self, path: Path, *, seed: int) -> None:
        self.path = path
        self._document: dict[str, Any] = json.loads(DUMP.read_text())
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="changing dump", daemon=True)
        self.write(cores=1)

    def write(self, *, cores: int) -> None:
        """Replace the file by the dump with ``cores`` as the pod's CPU limit."""
        for item in self._document["items"]:
            if item["kind"] == "Pod" and item["metadata"]["name"] == CHANGING_POD:
                for container in item["spec"]["containers"]:
                    container["resources"]["limits"]["cpu"] = str(cores)
        replacement = self.path.with_name(self.path.name + ".new")
        replacement.write_text(json.dumps(self._document))
        os.replace(replacement, self.path)

    def __enter__(self) -> ChangingDump:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(_EVERY_SECONDS):
            self.write(cores=self._random.randint(1, 6))
