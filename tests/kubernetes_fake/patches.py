"""The PATCH bodies the API accepts, applied to plain JSON objects. Pure functions.

- JSON merge patch (RFC 7386): maps merge, ``null`` deletes, everything else replaces.
- JSON patch (RFC 6902): add, remove, replace, move, copy, test.
- Strategic merge patch: merge patch plus the directives kubectl sends (``$patch``,
  ``$retainKeys``, ``$setElementOrder/…``, ``$deleteFromPrimitiveList/…``), and lists merged
  by their merge key for the list fields of the core types we serve (``MERGE_KEYS``).
  Assumption: the real server takes merge keys from the Go struct tags of each type; the
  table below covers the fields of pods, nodes, namespaces and secrets that have one. Other
  lists are replaced, as upstream does for lists without a patch strategy.

Errors are ``ApiError``: 422 for a JSON patch that does not apply (as upstream), 400 for a
body that is not a patch at all.
"""

from __future__ import annotations

from typing import Any

from .json_values import clone
from .statuses import ApiError, bad_request

# Field name -> merge key, for list fields with patchStrategy "merge" on the types served.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "addresses": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
# Primitive lists with patchStrategy "merge": union instead of replace.
MERGED_PRIMITIVE_LISTS = frozenset({"finalizers"})


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: the result of merging ``patch`` into ``target`` (neither is modified)."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def apply_json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: apply the operations in order; 422 when one does not apply."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    document = clone(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"invalid JSON patch operation: {operation!r}")
        document = _json_patch_operation(document, operation)
    return document


def apply_strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge: a merge patch that understands kubectl's directives and merge keys."""
    if not isinstance(patch, dict):
        raise bad_request("a strategic merge patch must be a JSON object")
    return _strategic_map(clone(target) if isinstance(target, dict) else {}, patch)


def _strategic_map(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "delete":
        return {}
    if directive == "replace":
        return {key: value for key, value in patch.items() if key != "$patch"}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            # Element order only reorders lists; the fake keeps the merged order.
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(target.get(field), list):
                target[field] = [item for item in target[field] if item not in value]
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            merged = _strategic_map(current if isinstance(current, dict) else {}, value)
            if value.get("$patch") == "delete":
                target.pop(key, None)
            else:
                target[key] = merged
        elif isinstance(value, list):
            target[key] = _strategic_list(key, target.get(key), value)
        else:
            target[key] = value
    if isinstance(retain, list):
        for key in list(target):
            if key not in retain:
                del target[key]
    return target


def _strategic_list(field: str, current: Any, patch: list[Any]) -> list[Any]:
    if field in MERGED_PRIMITIVE_LISTS and isinstance(current, list):
        return current + [item for item in patch if item not in current]
    merge_key = MERGE_KEYS.get(field)
    if merge_key is None or not isinstance(current, list):
        return [_strip_directives(item) for item in patch if not _is_delete_directive(item)]
    result = [clone(item) for item in current]
    for item in patch:
        if not isinstance(item, dict):
            return [_strip_directives(element) for element in patch]
        if item.get("$patch") == "replace":
            return [_strip_directives(element) for element in patch if element is not item]
        index = next(
            (
                position
                for position, element in enumerate(result)
                if isinstance(element, dict) and element.get(merge_key) == item.get(merge_key)
            ),
            None,
        )
        if _is_delete_directive(item):
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = _strategic_map(result[index], item)
    return result


def _is_delete_directive(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "delete"


def _strip_directives(item: Any) -> Any:
    if isinstance(item, dict):
        return _strategic_map({}, item)
    return clone(item)


def _json_patch_operation(document: Any, operation: dict[str, Any]) -> Any:
    op = operation["op"]
    path = _pointer(operation["path"])
    if op == "add":
        return _add(document, path, clone(operation.get("value")))
    if op == "remove":
        _resolve(document, path)
        return _remove(document, path)
    if op == "replace":
        _resolve(document, path)
        return _add(_remove(document, path), path, clone(operation.get("value")))
    if op in ("move", "copy"):
        source = _pointer(operation.get("from", ""))
        value = clone(_resolve(document, source))
        if op == "move":
            document = _remove(document, source)
        return _add(document, path, value)
    if op == "test":
        if _resolve(document, path) != operation.get("value"):
            raise _unprocessable(f"testing value {operation['path']} failed")
        return document
    raise bad_request(f"unexpected JSON patch operation {op!r}")


def _pointer(text: Any) -> list[str]:
    if not isinstance(text, str) or (text and not text.startswith("/")):
        raise bad_request(f"invalid JSON pointer {text!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in text.split("/")[1:]]


def _resolve(document: Any, path: list[str]) -> Any:
    current = document
    for part in path:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise _unprocessable(f"doc is missing path: /{'/'.join(path)}")
    return current


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _resolve(document, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise _unprocessable(f"index out of range in path /{'/'.join(path)}")
    else:
        raise _unprocessable(f"doc is missing path: /{'/'.join(path)}")
    return document


def _remove(document: Any, path: list[str]) -> Any:
    if not path:
        return None
    parent = _resolve(document, path[:-1])
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise _unprocessable(f"unable to remove nonexistent key: /{'/'.join(path)}")
    return document


def _unprocessable(message: str) -> ApiError:
    return ApiError(
        422, "Invalid", f"the server rejected our request due to an error in our request: {message}"
    )
