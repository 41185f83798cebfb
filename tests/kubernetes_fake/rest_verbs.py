"""The REST verbs on resources: what each request does to the store and what it answers.

get, list, watch, create, update (PUT), patch (JSON, merge, strategic merge, server-side
apply), delete and deletecollection, the ``status`` subresource, and the two review types.

Semantics worth knowing (assumptions where the fake simplifies upstream):
- Optimistic concurrency: a PUT or PATCH carrying ``metadata.resourceVersion`` that is not
  the current one answers 409 Conflict; without one, built-in types update unconditionally
  and custom resources answer 422 (PUT only), as upstream.
- A write that changes nothing stores nothing: same resourceVersion, no watch event.
- Creating a namespaced object needs its namespace (NamespaceLifecycle admission): 404.
- Deletion is immediate (no kubelet, no finalizers): one DELETED event. Deleting a namespace
  deletes the namespaced objects in it at once (upstream: asynchronously, after Terminating).
  DELETE answers the object for pods, namespaces and custom resources, a Success Status for
  secrets and nodes, as upstream's registries do.
- Strategic merge patch on a custom resource answers 415, as upstream.
- Server-side apply is approximated: the applied configuration is merged into the object
  (or creates it); fields the manager stops applying are not removed and ``managedFields``
  are not tracked. ``fieldManager`` is required, as upstream.
- ``dryRun=All`` answers what would be stored and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .admission import (
    check_unconditional_update,
    prepare_create,
    prepare_status_update,
    prepare_update,
    same_content,
)
from .json_values import clone
from .listing import list_item, list_objects
from .object_store import ObjectStore
from .patches import apply_json_patch, apply_merge_patch, apply_strategic_merge_patch
from .resource_types import (
    IBM_LICENSINGS,
    NAMESPACES,
    PODS,
    RESOURCE_TYPES,
    SUBJECT_ACCESS_REVIEWS,
    TOKEN_REVIEWS,
    ResourceType,
)
from .reviews import AccessReviews
from .routing import ResourceRoute
from .statuses import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    method_not_allowed,
    not_found,
)
from .watching import ExpiredStart, WatchSession, plan_watch, stream_events

JsonObject = dict[str, Any]

_RETURNS_DELETED_OBJECT = frozenset({PODS.key, NAMESPACES.key, IBM_LICENSINGS.key})
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}


@dataclass(frozen=True)
class JsonResponse:
    """A complete answer: HTTP status and JSON body."""

    status: int
    body: JsonObject


@dataclass(frozen=True)
class StreamResponse:
    """A watch: lines to send as they come."""

    lines: Iterator[bytes]
    session: WatchSession


@dataclass
class WatchSettings:
    """Server-wide watch behaviour a test may change at any time."""

    bookmark_interval: float = 60.0
    default_timeout: float = 1800.0
    expired_start: ExpiredStart = "status"


class ResourceApi:
    """Executes resource requests against one store."""

    def __init__(
        self, store: ObjectStore, reviews: AccessReviews, watch_settings: WatchSettings
    ) -> None:
        self.store = store
        self.reviews = reviews
        self.watch_settings = watch_settings

    def handle(
        self,
        method: str,
        route: ResourceRoute,
        query: Mapping[str, str],
        *,
        body: bytes,
        content_type: str,
    ) -> JsonResponse | StreamResponse:
        """Answer one request on a resource path."""
        watch = route.legacy_watch or query.get("watch") in ("true", "1")
        resource_type = route.resource_type
        verb = _verb(method, route, watch)
        if verb is None or (route.subresource is None and verb not in resource_type.verbs):
            raise method_not_allowed(method, resource_type.key)
        if resource_type in (TOKEN_REVIEWS, SUBJECT_ACCESS_REVIEWS):
            return self._review(resource_type, _json_body(body))
        dry_run = query.get("dryRun") == "All"
        if verb == "list":
            return JsonResponse(
                200, list_objects(self.store, resource_type, namespace=route.namespace, query=query)
            )
        if verb == "watch":
            return self._watch(route, query)
        if verb == "create":
            return JsonResponse(201, self.create(route, _json_body(body), dry_run=dry_run))
        if verb == "deletecollection":
            return JsonResponse(200, self._delete_collection(route, query, dry_run=dry_run))
        assert route.name is not None
        if verb == "get":
            return JsonResponse(200, self._existing(route))
        if verb == "update":
            return JsonResponse(200, self._update(route, _json_body(body), dry_run=dry_run))
        if verb == "patch":
            return self._patch(route, query, body, content_type, dry_run=dry_run)
        return JsonResponse(200, self._delete(route, _optional_json(body), dry_run=dry_run))

    # -- verbs -----------------------------------------------------------------------------

    def create(self, route: ResourceRoute, body: Any, *, dry_run: bool = False) -> JsonObject:
        """Store a new object (POST on a collection) and return it."""
        resource_type = route.resource_type
        if resource_type.namespaced and route.namespace is None:
            raise method_not_allowed("POST", resource_type.key)
        with self.store.lock:
            if resource_type.namespaced:
                assert route.namespace is not None
                self._require_namespace(route.namespace)
            obj = prepare_create(resource_type, body, namespace=route.namespace)
            name = obj["metadata"]["name"]
            if self.store.get(resource_type.key, route.namespace or "", name) is not None:
                raise already_exists(resource_type.plural, name, group=resource_type.group)
            if dry_run:
                return obj
            return self.store.put(resource_type.key, obj, "ADDED")

    def _existing(self, route: ResourceRoute) -> JsonObject:
        assert route.name is not None
        obj = self.store.get(route.resource_type.key, route.namespace or "", route.name)
        if obj is None:
            raise not_found(route.resource_type.plural, route.name, group=route.resource_type.group)
        return obj

    def _update(self, route: ResourceRoute, body: Any, *, dry_run: bool) -> JsonObject:
        resource_type = route.resource_type
        with self.store.lock:
            current = self._existing(route)
            if not isinstance(body, dict):
                raise bad_request("the request body must be a JSON object")
            self._check_version(route, current, body)
            if route.subresource is None:
                check_unconditional_update(resource_type, body, current["metadata"]["name"])
            return self._store_update(route, current, body, dry_run=dry_run)

    def _patch(
        self,
        route: ResourceRoute,
        query: Mapping[str, str],
        body: bytes,
        content_type: str,
        *,
        dry_run: bool,
    ) -> JsonResponse:
        resource_type = route.resource_type
        patch_type = _PATCH_TYPES.get(content_type)
        if patch_type is None:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(_PATCH_TYPES)}",
            )
        if patch_type == "strategic" and resource_type.custom:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "strategic merge patch is not supported for custom resources; "
                "use application/merge-patch+json",
            )
        if patch_type == "apply":
            if not query.get("fieldManager"):
                raise bad_request(
                    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                    "is required for apply patch"
                )
            patch = _yaml_body(body)
        else:
            patch = _json_body(body)
        with self.store.lock:
            assert route.name is not None
            current = self.store.get(resource_type.key, route.namespace or "", route.name)
            if current is None:
                if patch_type == "apply" and route.subresource is None:
                    if not isinstance(patch, dict):
                        raise bad_request("an apply patch must be an object")
                    applied = clone(patch)
                    applied.setdefault("metadata", {}).setdefault("name", route.name)
                    return JsonResponse(201, self.create(route, applied, dry_run=dry_run))
                raise not_found(resource_type.plural, route.name, group=resource_type.group)
            if patch_type == "json":
                patched = apply_json_patch(current, patch)
            elif patch_type == "strategic":
                patched = apply_strategic_merge_patch(current, patch)
            else:
                patched = apply_merge_patch(current, patch)
            if not isinstance(patched, dict):
                raise bad_request("the patch does not leave an object")
            self._check_version(route, current, patched)
            return JsonResponse(200, self._store_update(route, current, patched, dry_run=dry_run))

    def _store_update(
        self, route: ResourceRoute, current: JsonObject, body: JsonObject, *, dry_run: bool
    ) -> JsonObject:
        resource_type = route.resource_type
        if route.subresource == "status":
            new = prepare_status_update(current, body)
        else:
            new = prepare_update(resource_type, current, body, namespace=route.namespace)
        if same_content(current, new):
            return current
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if dry_run:
            return new
        return self.store.put(resource_type.key, new, "MODIFIED")

    def _delete(self, route: ResourceRoute, options: Any, *, dry_run: bool) -> JsonObject:
        resource_type = route.resource_type
        with self.store.lock:
            current = self._existing(route)
            preconditions = options.get("preconditions") if isinstance(options, dict) else None
            if isinstance(preconditions, dict):
                for field in ("uid", "resourceVersion"):
                    wanted = preconditions.get(field)
                    if wanted and wanted != current["metadata"].get(field):
                        raise conflict(
                            resource_type.plural,
                            current["metadata"]["name"],
                            group=resource_type.group,
                            why=(
                                f"Precondition failed: {field} in precondition: {wanted}, "
                                f"{field} in object meta: {current['metadata'].get(field)}"
                            ),
                        )
            deleted = current if dry_run else self.delete_object(resource_type, current)
        if resource_type.key in _RETURNS_DELETED_OBJECT:
            return deleted
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": current["metadata"]["name"],
                "group": resource_type.group,
                "kind": resource_type.plural,
                "uid": current["metadata"]["uid"],
            },
        }

    def delete_object(self, resource_type: ResourceType, current: JsonObject) -> JsonObject:
        """Remove an object now; a namespace takes its namespaced objects with it."""
        with self.store.lock:
            if resource_type is NAMESPACES:
                namespace = current["metadata"]["name"]
                for namespaced in RESOURCE_TYPES:
                    if not namespaced.namespaced or not namespaced.stored:
                        continue
                    for obj in list(self.store.iter_current(namespaced.key)):
                        if obj["metadata"].get("namespace") == namespace:
                            self.store.delete(namespaced.key, obj)
            return self.store.delete(resource_type.key, current)

    def _delete_collection(
        self, route: ResourceRoute, query: Mapping[str, str], *, dry_run: bool
    ) -> JsonObject:
        resource_type = route.resource_type
        with self.store.lock:
            selected = list_objects(
                self.store,
                resource_type,
                namespace=route.namespace,
                query={k: v for k, v in query.items() if k in ("labelSelector", "fieldSelector")},
            )
            deleted: list[JsonObject] = []
            for item in selected["items"]:
                metadata = item["metadata"]
                current = self.store.get(
                    resource_type.key, metadata.get("namespace") or "", metadata["name"]
                )
                if current is None:
                    continue
                final = current if dry_run else self.delete_object(resource_type, current)
                deleted.append(list_item(resource_type, final))
            return {
                "kind": resource_type.list_kind,
                "apiVersion": resource_type.api_version,
                "metadata": {"resourceVersion": str(self.store.revision)},
                "items": deleted,
            }

    def _watch(self, route: ResourceRoute, query: Mapping[str, str]) -> StreamResponse:
        if route.name is not None:
            # Watching one object: the legacy path form, same as a name field selector.
            query = {**query, "fieldSelector": f"metadata.name={route.name}"}
        settings = self.watch_settings
        plan = plan_watch(
            self.store,
            route.resource_type,
            namespace=route.namespace,
            query=query,
            default_timeout=settings.default_timeout,
            expired_start=settings.expired_start,
        )
        session = WatchSession(route.resource_type)
        lines = stream_events(
            self.store, plan, session, bookmark_interval=settings.bookmark_interval
        )
        return StreamResponse(lines, session)

    def _review(self, resource_type: ResourceType, body: Any) -> JsonResponse:
        if resource_type is TOKEN_REVIEWS:
            return JsonResponse(201, self.reviews.token_review(body))
        return JsonResponse(201, self.reviews.subject_access_review(body))

    # -- checks ----------------------------------------------------------------------------

    def _require_namespace(self, namespace: str) -> None:
        if self.store.get(NAMESPACES.key, "", namespace) is None:
            raise not_found("namespaces", namespace)

    @staticmethod
    def _check_version(route: ResourceRoute, current: JsonObject, body: JsonObject) -> None:
        sent = (body.get("metadata") or {}).get("resourceVersion")
        if sent and sent != current["metadata"]["resourceVersion"]:
            raise conflict(
                route.resource_type.plural,
                current["metadata"]["name"],
                group=route.resource_type.group,
            )


def _verb(method: str, route: ResourceRoute, watch: bool) -> str | None:
    if route.subresource is not None:
        return {"GET": "get", "PUT": "update", "PATCH": "patch"}.get(method)
    if route.name is None:
        if method == "GET":
            return "watch" if watch else "list"
        return {"POST": "create", "DELETE": "deletecollection"}.get(method)
    if method == "GET" and watch:
        return "watch"
    return {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)


def _json_body(body: bytes) -> Any:
    if not body:
        raise bad_request("the request needs a JSON body")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise bad_request(f"the request body is not valid JSON: {error}") from error


def _optional_json(body: bytes) -> Any:
    return _json_body(body) if body.strip() else None


def _yaml_body(body: bytes) -> Any:
    try:
        return yaml.safe_load(body)
    except yaml.YAMLError as error:
        raise bad_request(f"the apply patch is not valid YAML: {error}") from error
