"""Following the ConfigMap ``license-service-entitlements`` (SPEC 13) in the service's namespace.

``EntitlementsConfigMapWatch`` lists and watches that one ConfigMap
(``fieldSelector=metadata.name=...``, with the one loop: 410, backoff, retries) and
hands ``on_text`` the text of its key ``entitlements.yaml``, or ``None`` when the
ConfigMap or the key is missing (no entitlements). Judging the text is the caller's
business (``entitlement_sources.followed``). RBAC: get, list and watch on ConfigMaps in
the service's namespace; a refusal shows under ``/health`` as the watch's failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final, cast

from kubernetes import client

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.object_watching import (
    JsonObject,
    ObjectWatcher,
    WatchTarget,
)
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.configuration.entitlement_documents import CONFIGMAP_KEY, CONFIGMAP_NAME
from license_service.secrets.followed_objects import FollowedObjects

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

RESOURCE: Final = "configmaps"


def configmap_target(api_client: client.ApiClient, *, namespace: str, name: str) -> WatchTarget:
    """The list+watch of the one ConfigMap ``namespace/name``."""
    core, selector = client.CoreV1Api(api_client), f"metadata.name={name}"

    def request(*, timeout: tuple[float, float], **parameters: object) -> HTTPResponse:
        response = core.list_namespaced_config_map(
            namespace,
            field_selector=selector,
            _preload_content=False,
            _request_timeout=timeout,
            **parameters,  # type: ignore[arg-type]
        )
        return cast("HTTPResponse", response)

    return WatchTarget(
        resource=RESOURCE, description=f"ConfigMap {namespace}/{name}", request=request
    )


class EntitlementsConfigMapWatch(FollowedObjects):
    """Hands the text of the entitlements ConfigMap's key (or ``None``) to ``on_text``."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        namespace: str,
        on_text: Callable[[str | None, str], object],
        counters: CollectorCounters,
        options: WatchOptions,
        clock: Callable[[], datetime],
        name: str = CONFIGMAP_NAME,
    ) -> None:
        """``on_text(text, source)``; nothing is sent until ``start``."""
        self.label = f"ConfigMap {namespace}/{name}"
        self._name = name
        self._on_text = on_text
        self._loop = ObjectWatcher(
            configmap_target(api_client, namespace=namespace, name=name),
            on_change=self._changed,
            counters=counters,
            options=options,
            clock=clock,
        )

    def _changed(self, objects: Mapping[str, JsonObject]) -> None:
        configmap = objects.get(self._name)
        data = configmap.get("data") if configmap is not None else None
        text = data.get(CONFIGMAP_KEY) if isinstance(data, Mapping) else None
        self._on_text(text if isinstance(text, str) else None, f"{self.label} key {CONFIGMAP_KEY}")
