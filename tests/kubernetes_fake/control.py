"""Test-control endpoints under ``/_fake/``, for a fake that runs as a separate process.

A test that runs ``python -m tests.kubernetes_fake`` cannot call the server's methods, so the
same operations are offered over HTTP (see ``RemoteControl`` in ``process.py``). They are
served only when the server is built with ``control_endpoints=True``; they bypass faults,
caller authentication and the request log.

    GET  /_fake/state                  {"resourceVersion", "compactedResourceVersion",
                                        "openWatches"}
    GET  /_fake/requests               {"requests": [{"method", "path", "query"}, ...]}
    POST /_fake/requests/clear
    POST /_fake/compact                {"expireWatches": true}
    POST /_fake/drop-watches
    POST /_fake/error-watches          {"code": 500, "resource": "pods"|null}
    POST /_fake/cut-watches            {"resource": "pods"|null}
    POST /_fake/users                  {"token", "username", "groups", "uid"}
    POST /_fake/allow                  {"subject", "path", "verb"}
    POST /_fake/allow-resource         {"subject", "verb", "resource", "group", "namespace", "name"}
    POST /_fake/faults                 {"action": "fail"|"drop"|"delay"|"partition"|
                                        "cut_event"|"error_event"|"stall", "count", "status",
                                        "path", "method", "seconds", "watch", "afterEvents",
                                        "cleanEnd", "userAgent"}
    POST /_fake/faults/clear
    POST /_fake/settings               {"bookmarkInterval"}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeApiServer

JsonObject = dict[str, Any]


def control_handler(
    api: FakeApiServer,
) -> Callable[[str, str, Mapping[str, str], bytes], JsonObject | None]:
    """A function answering control requests for ``api`` (None: no such endpoint)."""

    def handle(method: str, path: str, query: Mapping[str, str], body: bytes) -> JsonObject | None:
        data: JsonObject = json.loads(body) if body.strip() else {}
        if method == "GET" and path == "/_fake/state":
            return {
                "resourceVersion": api.resource_version,
                "compactedResourceVersion": api.store.compacted_revision,
                "openWatches": api.open_watches,
            }
        if method == "GET" and path == "/_fake/requests":
            return {"requests": [asdict(record) for record in api.requests]}
        if method != "POST":
            return None
        if path == "/_fake/requests/clear":
            api.clear_requests()
        elif path == "/_fake/compact":
            return {
                "compactedResourceVersion": api.compact(
                    expire_watches=data.get("expireWatches", True)
                )
            }
        elif path == "/_fake/drop-watches":
            return {"dropped": api.drop_watches()}
        elif path == "/_fake/error-watches":
            ended = api.error_watches(int(data.get("code", 500)), resource=data.get("resource"))
            return {"ended": ended}
        elif path == "/_fake/cut-watches":
            return {"cut": api.cut_watches_mid_event(resource=data.get("resource"))}
        elif path == "/_fake/users":
            api.add_user(data["token"], data["username"], data.get("groups", ()), data.get("uid"))
        elif path == "/_fake/allow":
            api.allow(data["subject"], data["path"], data.get("verb", "get"))
        elif path == "/_fake/allow-resource":
            api.allow_resource(
                data["subject"],
                data["verb"],
                data["resource"],
                group=data.get("group", ""),
                namespace=data.get("namespace"),
                name=data.get("name"),
            )
        elif path == "/_fake/faults":
            _arrange_fault(api, data)
        elif path == "/_fake/faults/clear":
            api.faults.clear()
        elif path == "/_fake/settings":
            if "bookmarkInterval" in data:
                api.bookmark_interval = float(data["bookmarkInterval"])
        else:
            return None
        return {"ok": True}

    return handle


def _arrange_fault(api: FakeApiServer, data: JsonObject) -> None:
    action = data["action"]
    count = data.get("count", 1)
    path = data.get("path")
    method = data.get("method")
    watch = data.get("watch")
    status = int(data.get("status", 500))
    after_events = int(data.get("afterEvents", 0))
    if action == "fail":
        api.faults.fail(count, status=status, path=path, method=method, watch=watch)
    elif action == "drop":
        api.faults.drop(count, path=path, method=method, watch=watch)
    elif action == "delay":
        api.faults.delay(float(data["seconds"]), count=count, path=path, method=method, watch=watch)
    elif action == "partition":
        api.faults.partition(str(data["userAgent"]), count=count, path=path)
    elif action == "cut_event":
        api.faults.cut_event(
            count, path=path, after_events=after_events, clean_end=bool(data.get("cleanEnd"))
        )
    elif action == "error_event":
        api.faults.error_event(count, status=status, path=path, after_events=after_events)
    elif action == "stall":
        api.faults.stall(float(data["seconds"]), count=count, path=path)
    else:
        raise ValueError(
            f"unknown fault action {action!r}; use fail, drop, delay, partition, cut_event, "
            "error_event or stall"
        )
