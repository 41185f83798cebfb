"""Reading and writing one Secret through the API, as raw JSON, with errors that say what to grant.

The service owns three Secrets in its namespace (the API token's, the signing
key's and, with ``spec.httpsEnable``, the self-signed certificate's) and reads the
operator's ``ibm-licensing-certs``; RBAC gives it get, list, watch, create and
update on them (SPEC 7), never patch or delete, so these are the only verbs used
here. Values travel base64-encoded in ``data`` (the API server turns a manifest's
``stringData`` into ``data``). The Secrets the service creates carry the labels of
the seed document (``service_labels``); one it keeps once made (the signing key, the
self-signed certificate) is read, or created when missing, by
``read_or_create_secret``, which reads back the winner's when replicas race.

Failures raise ``ClusterError`` naming the Secret, the verb, the HTTP status and the
fix (a missing namespace, a missing RBAC rule); no message holds a Secret's content.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.failures import (
    describe_failure,
    status_code,
    status_message,
)
from license_service.cluster.kubernetes.raw_responses import close_response, read_document
from license_service.errors import ClusterError

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

NOT_FOUND: Final = 404
CONFLICT: Final = 409
FORBIDDEN: Final = 403
UNAUTHORIZED: Final = 401
_TIMEOUT: Final = (10.0, 30.0)
_MAX_DETAIL: Final = 300

JsonObject = dict[str, Any]
_INSTANCE: Final = "ibm-licensing-service"


def secret_label(namespace: str, name: str) -> str:
    """How messages name a Secret: ``Secret ibm-common-services/ibm-licensing-token``."""
    return f"Secret {namespace}/{name}"


def read_secret(core: client.CoreV1Api, *, namespace: str, name: str) -> JsonObject | None:
    """The Secret as JSON, or ``None`` when it does not exist."""
    try:
        response = core.read_namespaced_secret(
            name, namespace, _preload_content=False, _request_timeout=_TIMEOUT
        )
    except ApiException as error:
        if status_code(error) == NOT_FOUND:
            return None
        raise _secret_error(error, verb="get", namespace=namespace, name=name) from error
    except Exception as error:
        raise _secret_error(error, verb="get", namespace=namespace, name=name) from error
    return _json_object(
        read_document(cast("HTTPResponse", response)), namespace=namespace, name=name
    )


def create_secret(core: client.CoreV1Api, manifest: Mapping[str, Any]) -> bool:
    """Create the Secret ``manifest`` describes; ``False`` when one of that name exists already."""
    return _written(core.create_namespaced_secret, manifest, verb="create")


def replace_secret(core: client.CoreV1Api, secret: Mapping[str, Any]) -> bool:
    """Write ``secret`` (as read, then changed) back; ``False`` when it changed meanwhile (409)."""
    _, name = _where(secret)
    return _written(functools.partial(core.replace_namespaced_secret, name), secret, verb="update")


def read_or_create_secret(
    core: client.CoreV1Api,
    *,
    namespace: str,
    name: str,
    manifest: Callable[[], JsonObject],
) -> tuple[JsonObject, bool]:
    """The Secret, created from ``manifest()`` when missing; the flag says this call created it.

    When another replica creates it meanwhile (409), the Secret it created is read
    back and returned: every replica ends up with the same content.
    """
    secret = read_secret(core, namespace=namespace, name=name)
    if secret is not None:
        return secret, False
    created = manifest()
    if create_secret(core, created):
        return created, True
    secret = read_secret(core, namespace=namespace, name=name)
    if secret is None:
        raise ClusterError(
            f"create {secret_label(namespace, name)}: the API said it exists, then that it "
            "does not; try again (is something deleting it?)"
        )
    return secret, False


def secret_manifest(
    *,
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    data: Mapping[str, bytes],
    type_name: str = "Opaque",
) -> JsonObject:
    """A Secret holding ``data`` (each value base64-encoded), with ``labels``; pure."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "type": type_name,
        "data": {key: encode_value(value) for key, value in data.items()},
    }


def service_labels(component: str, *, managed_by: str) -> dict[str, str]:
    """The labels of one of the service's Secrets, as the seed document writes them; pure."""
    return {
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/instance": _INSTANCE,
        "app.kubernetes.io/managed-by": managed_by,
        "app.kubernetes.io/name": "ibm-licensing-service-instance",
        "release": _INSTANCE,
    }


def encode_value(value: bytes) -> str:
    """A value as ``data`` holds it (base64)."""
    return base64.b64encode(value).decode("ascii")


def decode_value(secret: Mapping[str, Any], key: str) -> bytes | None:
    """The bytes under ``data.<key>``; ``None`` when the key is absent.

    Raises ``ValueError`` when the value is not base64 (the API server never sends
    that, but a fake or a proxy might).
    """
    data = secret.get("data")
    if not isinstance(data, Mapping) or key not in data:
        return None
    value = data[key]
    if value is None:
        return b""
    if not isinstance(value, str):
        raise ValueError(f"data.{key} is not a string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise ValueError(f"data.{key} is not base64: {error}") from error


def _where(manifest: Mapping[str, Any]) -> tuple[str, str]:
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping):
        raise ClusterError("a Secret without metadata cannot be written; this is a defect")
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))


def _json_object(document: object, *, namespace: str, name: str) -> JsonObject:
    if not isinstance(document, dict):
        raise ClusterError(
            f"get {secret_label(namespace, name)}: the answer is not a Secret; check that the "
            "API server address is right"
        )
    return document


def _written(send: Callable[..., object], secret: Mapping[str, Any], *, verb: str) -> bool:
    """Send ``secret`` to its namespace with ``send`` (a create or an update); ``False`` on a
    409 (the name is taken, or the Secret changed since it was read)."""
    namespace, name = _where(secret)
    try:
        # A dict is sent as it is: no client model object is built.
        response = send(namespace, dict(secret), _preload_content=False, _request_timeout=_TIMEOUT)
    except ApiException as error:
        if status_code(error) == CONFLICT:
            return False
        raise _secret_error(error, verb=verb, namespace=namespace, name=name) from error
    except Exception as error:
        raise _secret_error(error, verb=verb, namespace=namespace, name=name) from error
    close_response(cast("HTTPResponse", response))
    return True


def _secret_error(error: Exception, *, verb: str, namespace: str, name: str) -> ClusterError:
    action = f"{verb} {secret_label(namespace, name)}"
    if not isinstance(error, ApiException) or status_code(error) == 0:
        return ClusterError(describe_failure(error, action=action).message)
    status = status_code(error)
    message = f"{action}: HTTP {status}: {_api_message(error)}"
    if status in (UNAUTHORIZED, FORBIDDEN):
        message += (
            "; the service account (or kubeconfig user) needs get, list, watch, create and "
            f"update on secrets in namespace {namespace} (the service's Role)"
        )
    elif status == NOT_FOUND and verb == "create":
        message += (
            f"; the namespace {namespace} may not exist: give the service's namespace with "
            "--namespace"
        )
    return ClusterError(message)


def _api_message(error: ApiException) -> str:
    body = error.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and body:
        try:
            return status_message(json.loads(body))
        except ValueError:
            return " ".join(body.split())[:_MAX_DETAIL]
    return str(error.reason or "no message")
