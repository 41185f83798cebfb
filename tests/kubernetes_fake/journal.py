"""The state file of a fake run as a process: an append-only journal of writes.

Each write appends one JSON line before the request is answered, so killing the process
(even with SIGKILL) loses nothing that a client saw acknowledged. On start the journal is
replayed and rewritten as a snapshot (one header line with the revision, one line per live
object), which keeps the resourceVersion counter increasing across restarts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

JsonObject = dict[str, Any]


class Journal:
    """Appends writes to a file and replays them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def load(self) -> tuple[int, list[tuple[str, JsonObject]]]:
        """The revision and the live objects (resource, object) recorded in the file."""
        revision = 0
        live: dict[tuple[str, str, str], JsonObject] = {}
        if not self.path.exists():
            return 0, []
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    # A line cut short by a kill mid-write was never acknowledged.
                    break
                revision = max(revision, int(entry["rv"]))
                if "resource" not in entry:
                    continue
                key = (entry["resource"], entry["namespace"], entry["name"])
                if entry.get("object") is None:
                    live.pop(key, None)
                else:
                    live[key] = entry["object"]
        return revision, [(resource, obj) for (resource, _, _), obj in live.items()]

    def rewrite(self, revision: int, objects: list[tuple[str, JsonObject]]) -> None:
        """Replace the file with a snapshot and keep it open for appending."""
        self.close()
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            out.write(json.dumps({"rv": revision}) + "\n")
            for resource, obj in objects:
                metadata = obj["metadata"]
                out.write(
                    json.dumps(
                        {
                            "rv": int(metadata["resourceVersion"]),
                            "resource": resource,
                            "namespace": metadata.get("namespace") or "",
                            "name": metadata["name"],
                            "object": obj,
                        }
                    )
                    + "\n"
                )
        os.replace(temporary, self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def append(
        self, revision: int, resource: str, key: tuple[str, str], obj: JsonObject | None
    ) -> None:
        """Record one write (``obj`` None for a deletion) and flush it to the OS."""
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        entry = {
            "rv": revision,
            "resource": resource,
            "namespace": key[0],
            "name": key[1],
            "object": obj,
        }
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file (appends reopen it)."""
        if self._file is not None:
            self._file.close()
            self._file = None
