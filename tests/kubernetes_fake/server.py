"""``FakeApiServer``: a Kubernetes API server on 127.0.0.1 for tests, run in a thread.

    with FakeApiServer(bookmark_interval=0.2) as api:
        client = api_client(api.url)          # the real kubernetes client
        api.add_user("t0k3n", "system:serviceaccount:ns:reader", groups=("readers",))
        api.allow("readers", "/products", "get")
        api.faults.fail(2, path="/api/v1/pods")
        api.compact()                         # next watch from an old version: 410
        api.restart(keep_state=True)          # same port, same objects, higher versions

What it guarantees is described in the modules it assembles: ``object_store`` (versions,
compaction), ``listing`` (pages), ``watching`` (events, bookmarks, 410), ``rest_verbs``
(verbs and their assumptions), ``reviews`` (TokenReview / SubjectAccessReview), ``faults``.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from .control import control_handler
from .faults import FaultPlan
from .handler import ApiHttpServer, CallerAuthentication, ServerParts
from .journal import Journal
from .json_values import clone_object
from .object_store import ObjectStore
from .request_log import RequestLog, RequestRecord
from .resource_types import NAMESPACES, RESOURCE_TYPES, ResourceType, resource_type_of
from .rest_verbs import ResourceApi, WatchSettings
from .reviews import AccessReviews, NonResourceRule, ResourceRule
from .routing import ResourceRoute
from .statuses import ApiError, not_found
from .watching import ExpiredStart, WatchRegistry

JsonObject = dict[str, Any]

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class FakeApiServer:
    """A faithful-enough Kubernetes API server for the real client and kubectl."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bookmark_interval: float = 60.0,
        watch_timeout: float = 1800.0,
        expired_watch_start: ExpiredStart = "status",
        namespaces: Iterable[str] = DEFAULT_NAMESPACES,
        state_file: Path | None = None,
        caller_token: str | None = None,
        control_endpoints: bool = False,
    ) -> None:
        self._host = host
        self._port = port
        self._state_file = state_file
        self._namespaces = tuple(namespaces)
        self.faults = FaultPlan()
        self.reviews = AccessReviews()
        self.watch_settings = WatchSettings(
            bookmark_interval=bookmark_interval,
            default_timeout=watch_timeout,
            expired_start=expired_watch_start,
        )
        self.authentication = CallerAuthentication(required_token=caller_token)
        self._log = RequestLog()
        self._watches = WatchRegistry()
        self._control_endpoints = control_endpoints
        self._httpd: ApiHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._api = self._fresh_api()

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> FakeApiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        journal = self._api.store.journal
        if journal is not None:
            journal.close()

    def start(self) -> None:
        """Listen and serve in a background thread (on the same port after a stop)."""
        if self._httpd is not None:
            return
        parts = ServerParts(
            api=self._api,
            faults=self.faults,
            log=self._log,
            watches=self._watches,
            authentication=self.authentication,
            control=control_handler(self) if self._control_endpoints else None,
        )
        self._httpd = ApiHttpServer((self._host, self._port), parts)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-kube-api-{self._port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop answering: close the listener and cut every open connection and watch."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = None
        self._thread = None
        httpd.parts.stopping.set()
        self._watches.drop_all(stopping=True)
        self._api.store.notify_watchers()
        httpd.shutdown()
        httpd.server_close()
        httpd.cut_connections()
        if thread is not None:
            thread.join(timeout=5)

    def restart(self, *, keep_state: bool = True, keep_history: bool = False) -> None:
        """Stop and start again on the same port.

        ``keep_state=False`` starts from an empty cluster (versions start over).
        ``keep_history=False`` (default) behaves like a restarted API server whose watch
        cache starts at the current revision: older versions answer 410.
        """
        self.stop()
        if not keep_state:
            if self._state_file is not None:
                self._api.store.close_journal()
                self._state_file.unlink(missing_ok=True)
            self._api = self._fresh_api()
        elif not keep_history:
            self._api.store.compact(expire_watches=True)
        self.start()

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The TCP port (chosen at the first start when 0 was asked)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{self._host}:{self._port}"

    # -- the cluster's state ---------------------------------------------------------------

    @property
    def store(self) -> ObjectStore:
        """The versioned object store (for direct inspection)."""
        return self._api.store

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion written."""
        return self._api.store.revision

    def create(self, obj: JsonObject) -> JsonObject:
        """Create an object directly (same admission as a POST); return what was stored."""
        return clone_object(self._api.create(_route_for(obj), obj))

    def load(self, objects: Iterable[JsonObject]) -> int:
        """Create many objects directly, for seeding a bench; return how many.

        Nothing is copied back and the cyclic garbage collector pauses meanwhile: seeding
        150,000 pods takes seconds instead of minutes.
        """
        collecting = gc.isenabled()
        gc.disable()
        count = 0
        try:
            for obj in objects:
                self._api.create(_route_for(obj), obj)
                count += 1
        finally:
            if collecting:
                gc.enable()
        return count

    def get(self, resource: str, name: str, *, namespace: str | None = None) -> JsonObject | None:
        """The current object (``resource`` is a plural such as ``pods``), or None."""
        resource_type = _type_named(resource)
        obj = self._api.store.get(resource_type.key, namespace or "", name)
        return clone_object(obj) if obj is not None else None

    def objects(self, resource: str) -> list[JsonObject]:
        """Every current object of a resource, in key order."""
        resource_type = _type_named(resource)
        return [clone_object(obj) for obj in self._api.store.iter_current(resource_type.key)]

    def delete(self, resource: str, name: str, *, namespace: str | None = None) -> JsonObject:
        """Delete an object directly; 404 ``ApiError`` when it does not exist."""
        resource_type = _type_named(resource)
        with self._api.store.lock:
            current = self._api.store.get(resource_type.key, namespace or "", name)
            if current is None:
                raise not_found(resource_type.plural, name, group=resource_type.group)
            return clone_object(self._api.delete_object(resource_type, current))

    def compact(self, *, expire_watches: bool = True) -> int:
        """Drop history up to now; return the compacted resourceVersion.

        Lists continued from older tokens and watches from older versions then answer 410.
        With ``expire_watches`` (default) every open watch gets a 410 ERROR event, so a test
        can force the mid-stream case; without it only watches that fall behind do.
        """
        return self._api.store.compact(expire_watches=expire_watches)

    # -- watches ---------------------------------------------------------------------------

    def drop_watches(self) -> int:
        """Cut every open watch connection mid-stream; return how many were open."""
        dropped = self._watches.drop_all()
        self._api.store.notify_watchers()
        return dropped

    def error_watches(self, code: int = 500, *, resource: str | None = None) -> int:
        """End the open watches (of ``resource``, a plural; None: all) with an ERROR event.

        The event carries a ``Status`` with ``code`` (500 InternalError by default), then the
        stream ends cleanly, as upstream ends a watch whose storage watch failed. Returns how
        many watches were open.
        """
        sessions = self._watches.sessions_of(resource)
        for session in sessions:
            session.error_status = code
        self._api.store.notify_watchers()
        return len(sessions)

    def cut_watches_mid_event(self, *, resource: str | None = None) -> int:
        """Cut the open watches (of ``resource``; None: all) in the middle of their next event.

        Half of the next event's line goes out, then the connection breaks (BOOKMARKs pass
        until then). Returns how many watches were open.
        """
        sessions = self._watches.sessions_of(resource)
        for session in sessions:
            session.cut_next_event = True
        return len(sessions)

    @property
    def open_watches(self) -> int:
        """How many watch streams are open now."""
        return len(self._watches.open_sessions())

    @property
    def bookmark_interval(self) -> float:
        """Seconds between BOOKMARK events on watches that allow them."""
        return self.watch_settings.bookmark_interval

    @bookmark_interval.setter
    def bookmark_interval(self, seconds: float) -> None:
        self.watch_settings.bookmark_interval = seconds

    # -- callers, users and rules ----------------------------------------------------------

    def require_caller_token(self, token: str | None) -> None:
        """Accept only requests bearing ``token`` (None: accept every caller again)."""
        self.authentication.required_token = token

    def add_user(
        self,
        token: str,
        username: str,
        groups: Iterable[str] = (),
        uid: str | None = None,
    ) -> None:
        """Make TokenReview authenticate ``token`` as this user."""
        self.reviews.add_user(token, username, tuple(groups), uid or f"uid-{username}")

    def remove_user(self, token: str) -> None:
        """Make TokenReview reject ``token`` again."""
        self.reviews.remove_user(token)

    def allow(self, user_or_group: str, non_resource_url: str, verb: str = "get") -> None:
        """Let a user or group use ``verb`` on a non-resource URL (``*`` suffix: prefix)."""
        self.reviews.allow(NonResourceRule(user_or_group, non_resource_url, verb))

    def allow_resource(
        self,
        user_or_group: str,
        verb: str,
        resource: str,
        *,
        group: str = "",
        namespace: str | None = None,
        name: str | None = None,
    ) -> None:
        """Let a user or group use ``verb`` on a resource, as resourceAttributes reviews ask."""
        self.reviews.allow(ResourceRule(user_or_group, verb, resource, group, namespace, name))

    def revoke(self, user_or_group: str) -> None:
        """Remove every rule of a user or group."""
        self.reviews.revoke_all(user_or_group)

    # -- requests --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Requests received so far, oldest first (control requests excluded)."""
        return self._log.records()

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        self._log.clear()

    # -- internals -------------------------------------------------------------------------

    def _fresh_api(self) -> ResourceApi:
        journal = Journal(self._state_file) if self._state_file is not None else None
        store = ObjectStore(journal=journal)
        api = ResourceApi(store, self.reviews, self.watch_settings)
        if store.revision == 0:
            for name in self._namespaces:
                api.create(
                    ResourceRoute(NAMESPACES, None),
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                )
        return api


def _route_for(obj: JsonObject) -> ResourceRoute:
    resource_type = _type_of(obj)
    namespace = obj.get("metadata", {}).get("namespace") if resource_type.namespaced else None
    if resource_type.namespaced and not namespace:
        namespace = "default"
    return ResourceRoute(resource_type, namespace)


def _type_of(obj: JsonObject) -> ResourceType:
    resource_type = resource_type_of(str(obj.get("apiVersion")), str(obj.get("kind")))
    if resource_type is None or not resource_type.stored:
        raise ApiError(
            404,
            "NotFound",
            f"the fake serves no {obj.get('kind')} in {obj.get('apiVersion')}",
        )
    return resource_type


def _type_named(resource: str) -> ResourceType:
    for resource_type in RESOURCE_TYPES:
        if resource in (resource_type.plural, resource_type.key) and resource_type.stored:
            return resource_type
    raise ValueError(
        f"unknown resource {resource!r}; use one of "
        f"{', '.join(t.plural for t in RESOURCE_TYPES if t.stored)}"
    )
