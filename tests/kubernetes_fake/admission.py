"""What the real API server does to an object before it stores it.

Create: check kind/apiVersion and namespace against the URL, require a valid name (or expand
``generateName``), refuse a client-set resourceVersion, set ``uid`` and
``creationTimestamp``, and apply the per-type defaults below. Update: keep the immutable
metadata, check the uid precondition, and bump ``generation`` of custom resources when
anything but metadata and status changed (their status subresource is assumed enabled, as
the IBMLicensing CRD has it).

Per type: Secrets fold ``stringData`` into base64 ``data`` and default ``type: Opaque``;
Namespaces get ``spec.finalizers: [kubernetes]`` and ``status.phase: Active``; Pods need
containers with a name and an image and default ``status.phase: Pending`` when no status is
sent. Assumption (deviation): the real server resets a created pod's status to Pending; the
fake keeps a status sent on create so tests can make running pods in one call.

Assumption: custom resources are not schema-validated (the fake has no CRD schema).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets as random_source
import uuid
from datetime import UTC, datetime
from typing import Any

from .json_values import clone, clone_object
from .resource_types import LEASES, NAMESPACES, PODS, SECRETS, ResourceType
from .statuses import ApiError, bad_request, conflict, internal_error, invalid

JsonObject = dict[str, Any]

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_GENERATE_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Metadata only the server sets; values sent by a client are replaced.
_SERVER_METADATA = ("uid", "creationTimestamp", "generation", "selfLink", "deletionTimestamp")


def now_timestamp() -> str:
    """The current time as the API writes timestamps (RFC 3339, seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare_create(resource_type: ResourceType, body: Any, *, namespace: str | None) -> JsonObject:
    """The object to store for a create request (without its resourceVersion)."""
    obj = _checked_body(resource_type, body, namespace=namespace)
    metadata = obj["metadata"]
    if metadata.get("resourceVersion"):
        # Upstream answers this with a 500 as well.
        raise internal_error("resourceVersion should not be set on objects to be created")
    metadata.pop("resourceVersion", None)
    if not metadata.get("name"):
        prefix = metadata.get("generateName")
        if not prefix:
            raise invalid(
                resource_type.kind,
                "",
                "metadata.name",
                "Required value: name or generateName is required",
                group=resource_type.group,
            )
        suffix = "".join(random_source.choice(_GENERATE_SUFFIX_ALPHABET) for _ in range(5))
        metadata["name"] = f"{prefix}{suffix}"
    _check_name(resource_type, metadata["name"])
    for key in _SERVER_METADATA:
        metadata.pop(key, None)
    metadata["uid"] = str(uuid.uuid4())
    metadata["creationTimestamp"] = now_timestamp()
    if resource_type.custom:
        metadata["generation"] = 1
    _apply_type_rules(resource_type, obj, created=True)
    return obj


def prepare_update(
    resource_type: ResourceType, current: JsonObject, body: Any, *, namespace: str | None
) -> JsonObject:
    """The object to store for an update of ``current`` (resourceVersion checked by caller)."""
    obj = _checked_body(resource_type, body, namespace=namespace)
    metadata = obj["metadata"]
    current_metadata = current["metadata"]
    name = current_metadata["name"]
    if metadata.get("name") not in (None, "", name):
        raise bad_request(
            f"the name of the object ({metadata['name']}) does not match the name on the "
            f"URL ({name})"
        )
    metadata["name"] = name
    if metadata.get("uid") not in (None, "", current_metadata["uid"]):
        raise conflict(
            resource_type.plural,
            name,
            group=resource_type.group,
            why=(
                f"Precondition failed: UID in precondition: {metadata['uid']}, "
                f"UID in object meta: {current_metadata['uid']}"
            ),
        )
    for key in _SERVER_METADATA:
        metadata.pop(key, None)
        if key in current_metadata:
            metadata[key] = current_metadata[key]
    if resource_type.custom and _spec_changed(current, obj):
        metadata["generation"] = int(current_metadata.get("generation", 1)) + 1
    _apply_type_rules(resource_type, obj, created=False)
    return obj


def prepare_status_update(current: JsonObject, body: Any) -> JsonObject:
    """The object after a write to the status subresource: only ``status`` changes."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    obj = clone_object(current)
    if "status" in body:
        obj["status"] = clone(body["status"])
    else:
        obj.pop("status", None)
    return obj


def same_content(current: JsonObject, new: JsonObject) -> bool:
    """Whether an update changes nothing (then upstream writes nothing and keeps the version)."""
    return _without_version(current) == _without_version(new)


def _without_version(obj: JsonObject) -> JsonObject:
    metadata = {
        key: value
        for key, value in obj.get("metadata", {}).items()
        if key not in ("resourceVersion", "managedFields")
    }
    return {**obj, "metadata": metadata}


def _spec_changed(current: JsonObject, new: JsonObject) -> bool:
    def essence(obj: JsonObject) -> JsonObject:
        return {k: v for k, v in obj.items() if k not in ("metadata", "status")}

    return essence(current) != essence(new)


def _checked_body(resource_type: ResourceType, body: Any, *, namespace: str | None) -> JsonObject:
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    obj = clone_object(body)
    kind = obj.setdefault("kind", resource_type.kind)
    api_version = obj.setdefault("apiVersion", resource_type.api_version)
    if kind != resource_type.kind or api_version != resource_type.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) and kind ({kind}) do not match the "
            f"resource {resource_type.key} ({resource_type.api_version} {resource_type.kind})"
        )
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = obj["metadata"] = {}
    if not isinstance(metadata, dict):
        raise bad_request("metadata must be a JSON object")
    if resource_type.namespaced:
        sent = metadata.get("namespace")
        if sent and sent != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                f"the request ({sent} != {namespace})"
            )
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if values is not None and (
            not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values())
        ):
            raise bad_request(f"metadata.{field} must map strings to strings, got {values!r}")
    return obj


def _check_name(resource_type: ResourceType, name: Any) -> None:
    pattern, limit, what = (
        (_DNS_LABEL, 63, "a lowercase RFC 1123 label")
        if resource_type is NAMESPACES
        else (_DNS_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain")
    )
    if not isinstance(name, str) or len(name) > limit or not pattern.match(name):
        raise invalid(
            resource_type.kind,
            str(name),
            "metadata.name",
            f'Invalid value: "{name}": {what} must consist of lower case alphanumeric '
            "characters, '-' or '.', and must start and end with an alphanumeric character",
            group=resource_type.group,
        )


def _apply_type_rules(resource_type: ResourceType, obj: JsonObject, *, created: bool) -> None:
    if resource_type is SECRETS:
        _fold_string_data(obj)
    elif resource_type is NAMESPACES:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    elif resource_type is PODS:
        _check_pod(obj)
        if created and not obj.get("status"):
            obj["status"] = {"phase": "Pending"}
    elif resource_type is LEASES:
        _check_lease_times(obj)


# A Lease's times are MicroTime: upstream parses them with six fraction digits
# (RFC3339Micro) and refuses anything else as a request it cannot decode.
_MICRO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)")


def _check_lease_times(lease: JsonObject) -> None:
    spec = lease.get("spec") or {}
    for field in ("acquireTime", "renewTime"):
        value = spec.get(field)
        if value is not None and not (isinstance(value, str) and _MICRO_TIME.fullmatch(value)):
            raise bad_request(
                f'Lease in version "v1" cannot be handled as a Lease: parsing time {value!r} '
                f'as "2006-01-02T15:04:05.000000Z07:00": cannot parse'
            )


def _fold_string_data(secret: JsonObject) -> None:
    data = secret.get("data") or {}
    if not isinstance(data, dict):
        raise bad_request("Secret data must map keys to base64 strings")
    for key, value in data.items():
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError) as error:
            raise bad_request(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data '
                f"in data[{key!r}]: {error}"
            ) from error
    string_data = secret.pop("stringData", None) or {}
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode("utf-8")).decode("ascii")
    if data:
        secret["data"] = data
    else:
        secret.pop("data", None)
    secret.setdefault("type", "Opaque")


def _check_pod(pod: JsonObject) -> None:
    name = pod["metadata"].get("name", "")
    containers = (pod.get("spec") or {}).get("containers")
    if not isinstance(containers, list) or not containers:
        raise invalid("Pod", name, "spec.containers", "Required value")
    for index, container in enumerate(containers):
        for field in ("name", "image"):
            if not isinstance(container, dict) or not container.get(field):
                raise invalid("Pod", name, f"spec.containers[{index}].{field}", "Required value")


def check_unconditional_update(resource_type: ResourceType, body: JsonObject, name: str) -> None:
    """Custom resources refuse updates without a resourceVersion (422), as upstream."""
    if resource_type.custom and not body.get("metadata", {}).get("resourceVersion"):
        raise ApiError(
            422,
            "Invalid",
            f'{resource_type.kind}.{resource_type.group} "{name}" is invalid: '
            "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
        )
