"""ConfigMap ``ibm-licensing-upload-config`` (SPEC 10): where uploaders send, and what to trust.

Products that upload usage in the cluster read it next to the upload token's Secret:
``url`` is the service's in-cluster address (``https://`` when it serves HTTPS), and
``crt.pem`` the certificate to verify it by (only with HTTPS). The service writes it at
every start, so a change of address or certificate reaches the uploaders; it holds no
secret. ``upload_config_manifest`` is pure; ``UploadConfigMap.write`` reads, then
creates or updates it (retrying when it changed meanwhile).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, Final, Literal, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.errors import ClusterError
from license_service.tokens.kinds import UPLOAD_CONFIG_MAP

JsonObject = dict[str, Any]
WriteOutcome = Literal["created", "updated", "unchanged"]
URL_KEY: Final = "url"
CERTIFICATE_KEY: Final = "crt.pem"
_TIMEOUT: Final = (10.0, 30.0)
_ATTEMPTS: Final = 5
_NOT_FOUND: Final = 404
_CONFLICT: Final = 409


def upload_url(*, host: str, port: int, https: bool) -> str:
    """The service's address at ``host`` (its in-cluster DNS name), as uploaders reach it; pure."""
    return f"{'https' if https else 'http'}://{host}:{port}"


def upload_config_data(url: str, certificate: bytes | None) -> dict[str, str]:
    """The ConfigMap's ``data``: ``url``, and ``crt.pem`` when there is a certificate; pure."""
    data = {URL_KEY: url}
    if certificate is not None:
        data[CERTIFICATE_KEY] = certificate.decode("ascii")
    return data


def _replace_in(replace: Any, name: str, namespace: str, body: JsonObject, **options: Any) -> Any:
    """``replace(name, namespace, body)``: the update, called as a create is."""
    return replace(name, namespace, body, **options)


class UploadConfigMap:
    """The upload ConfigMap of one namespace; each call is one or a few API requests."""

    def __init__(self, api_client: client.ApiClient, *, namespace: str) -> None:
        """The caller keeps ownership of ``api_client``."""
        self._core = client.CoreV1Api(api_client)
        self.namespace = namespace
        self.label = f"ConfigMap {namespace}/{UPLOAD_CONFIG_MAP}"

    def write(self, data: Mapping[str, str]) -> WriteOutcome:
        """Make ``data`` the ConfigMap's whole ``data``, creating it when missing."""
        for _ in range(_ATTEMPTS):
            current = self._read()
            if current is None:
                manifest: JsonObject = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": UPLOAD_CONFIG_MAP, "namespace": self.namespace},
                    "data": dict(data),
                }
                if self._send(self._core.create_namespaced_config_map, manifest, verb="create"):
                    return "created"
                continue
            if current.get("data") == dict(data):
                return "unchanged"
            updated = {**current, "data": dict(data)}
            replace = functools.partial(
                _replace_in, self._core.replace_namespaced_config_map, UPLOAD_CONFIG_MAP
            )
            if self._send(replace, updated, verb="update"):
                return "updated"
        raise ClusterError(f"update {self.label}: it kept changing while being written; try again")

    def _read(self) -> JsonObject | None:
        try:
            response = self._core.read_namespaced_config_map(
                UPLOAD_CONFIG_MAP, self.namespace, _preload_content=False, _request_timeout=_TIMEOUT
            )
        except ApiException as error:
            if error.status == _NOT_FOUND:
                return None
            raise self._error(error, verb="get") from error
        except Exception as error:
            raise self._error(error, verb="get") from error
        document = json.loads(cast("bytes", response.data))
        if not isinstance(document, dict):
            raise ClusterError(f"get {self.label}: the answer is not a ConfigMap")
        return document

    def _send(self, send: Any, body: JsonObject, *, verb: str) -> bool:
        try:
            response = send(self.namespace, body, _preload_content=False, _request_timeout=_TIMEOUT)
        except ApiException as error:
            if error.status == _CONFLICT:
                return False
            raise self._error(error, verb=verb) from error
        except Exception as error:
            raise self._error(error, verb=verb) from error
        response.release_conn()
        return True

    def _error(self, error: Exception, *, verb: str) -> ClusterError:
        status = getattr(error, "status", None)
        hint = (
            f"; the service account needs get, create and update on configmaps in namespace "
            f"{self.namespace} (the service's Role)"
            if status in (401, 403)
            else ""
        )
        reason = getattr(error, "reason", None) or type(error).__name__
        return ClusterError(f"{verb} {self.label}: {status or 'no answer'} {reason}{hint}")
