"""List requests: snapshots, pages and continue tokens, as "API concepts" describes them.

- Without ``resourceVersion`` a list is a consistent read at the latest revision;
  ``resourceVersion=0`` may be served from any revision (the fake uses the latest);
  ``resourceVersionMatch=NotOlderThan`` serves the latest, ``Exact`` serves that revision;
  a bare ``resourceVersion=N`` with ``limit`` means Exact, without it NotOlderThan (legacy).
- ``limit`` cuts the result into pages; ``continue`` is an opaque token holding the snapshot
  revision and the last key, so every page comes from the same snapshot.
- A token whose revision has been compacted answers 410 Expired, with a fresh token in
  ``metadata.continue`` of the Status that continues from the same key at the latest
  revision (upstream's "inconsistent continue"). A revision newer than the store answers 504
  (upstream: "Too large resource version").
- Items of built-in types carry no kind/apiVersion in a list (upstream omits them); custom
  resource items keep theirs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from .field_selectors import parse_field_selector
from .label_selectors import parse_label_selector
from .object_store import ObjectKey, ObjectStore
from .resource_types import ResourceType
from .statuses import ApiError, bad_request, gone

JsonObject = dict[str, Any]


def list_objects(
    store: ObjectStore,
    resource_type: ResourceType,
    *,
    namespace: str | None,
    query: Mapping[str, str],
) -> JsonObject:
    """The ``<Kind>List`` a GET on a collection answers."""
    labels = parse_label_selector(query.get("labelSelector"))
    fields = parse_field_selector(query.get("fieldSelector"), resource_type)
    limit = _limit(query.get("limit"))
    with store.lock:
        at, after = _snapshot(store, query, limit=limit)
        items, last = store.page(
            resource_type.key,
            at=at,
            namespace=namespace,
            after=after,
            limit=limit,
            predicate=lambda obj: (
                labels.matches(obj["metadata"].get("labels")) and fields.matches(obj)
            ),
        )
    metadata: JsonObject = {"resourceVersion": str(at)}
    if last is not None:
        metadata["continue"] = encode_continue(at, last)
    return {
        "kind": resource_type.list_kind,
        "apiVersion": resource_type.api_version,
        "metadata": metadata,
        "items": [list_item(resource_type, obj) for obj in items],
    }


def list_item(resource_type: ResourceType, obj: JsonObject) -> JsonObject:
    """An object as it appears inside a list."""
    if resource_type.custom:
        return obj
    return {key: value for key, value in obj.items() if key not in ("kind", "apiVersion")}


def encode_continue(revision: int, last: ObjectKey) -> str:
    """An opaque continue token for the page after ``last`` in snapshot ``revision``."""
    payload = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": list(last)})
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii")


def decode_continue(token: str) -> tuple[int, ObjectKey]:
    """The snapshot revision and last key in a token; 400 when it is not one of ours."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        namespace, name = payload["start"]
        return int(payload["rv"]), (str(namespace), str(name))
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError) as error:
        raise bad_request(f"continue key is not valid: {error}") from error


def _snapshot(
    store: ObjectStore, query: Mapping[str, str], *, limit: int | None
) -> tuple[int, ObjectKey | None]:
    token = query.get("continue")
    requested = query.get("resourceVersion", "")
    match = query.get("resourceVersionMatch", "")
    if match and not requested:
        raise bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match and match not in ("Exact", "NotOlderThan"):
        raise bad_request(f'resourceVersionMatch: Unsupported value: "{match}"')
    if token:
        if requested:
            raise bad_request("specifying resource version is not allowed when using continue")
        revision, after = decode_continue(token)
        if store.is_compacted(revision):
            raise gone(
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter, or use the "
                "continue token in this response to retrieve the remainder of the results. "
                "Continuing with the provided token results in an inconsistent list - objects "
                "that were created, modified, or deleted between the time the first chunk was "
                "returned and now may show up in the list.",
                continue_token=encode_continue(store.revision, after),
            )
        return revision, after
    if not requested or requested == "0":
        return store.revision, None
    revision = _revision(requested)
    if revision > store.revision:
        raise ApiError(
            504,
            "Timeout",
            f"Too large resource version: {revision}, current: {store.revision}",
            details={
                "causes": [
                    {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
                ],
                "retryAfterSeconds": 1,
            },
        )
    exact = match == "Exact" or (not match and limit is not None)
    if not exact:
        return store.revision, None
    if store.is_compacted(revision):
        raise gone(f"The resourceVersion for the provided list is too old: {revision}")
    return revision, None


def _limit(text: str | None) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError as error:
        raise bad_request(f"limit must be an integer, got {text!r}") from error
    return value if value > 0 else None


def _revision(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise bad_request(f'invalid resource version "{text}"') from error
    if value < 0:
        raise bad_request(f'invalid resource version "{text}"')
    return value
