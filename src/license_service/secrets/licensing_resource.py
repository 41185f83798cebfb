"""Following the cluster's ``IBMLicensing`` resources (SPEC 6): the one in force, as it changes.

``IBMLicensing`` (``operator.ibm.com/v1alpha1``, plural ``ibmlicensings``) is
cluster-scoped; when there are several, the oldest wins (``oldest_ibmlicensing``).
``LicensingResourceWatch`` lists and watches them all (``ObjectWatcher``) and hands
``on_document`` the winning document as the API sent it, or ``None`` when there is
none; ``read_licensing_document`` reads it once (for the CLI). Judging the document
(``parse_ibmlicensing``, keeping the previous configuration when it is invalid) is the
caller's business.

When the resource type is not installed (the list answers 404), ``on_document``
gets ``None`` (the defaults apply) and the loop keeps retrying with backoff, so a
CustomResourceDefinition installed later is picked up without a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.failures import describe_failure, status_code
from license_service.cluster.kubernetes.object_watching import (
    JsonObject,
    ObjectWatcher,
    WatchTarget,
)
from license_service.cluster.kubernetes.raw_responses import read_document
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.configuration.ibmlicensing import oldest_ibmlicensing
from license_service.errors import ClusterError
from license_service.secrets.followed_objects import FollowedObjects

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

GROUP: Final = "operator.ibm.com"
VERSION: Final = "v1alpha1"
PLURAL: Final = "ibmlicensings"
DESCRIPTION: Final = "IBMLicensing resources"
NOT_FOUND: Final = 404
_READ_TIMEOUT: Final = (10.0, 30.0)


def licensing_target(api_client: client.ApiClient) -> WatchTarget:
    """The list+watch of every ``IBMLicensing`` resource (a 404 list means none)."""
    custom = client.CustomObjectsApi(api_client)

    def request(*, timeout: tuple[float, float], **parameters: object) -> HTTPResponse:
        response = custom.list_cluster_custom_object(
            GROUP,
            VERSION,
            PLURAL,
            _preload_content=False,
            _request_timeout=timeout,
            **parameters,  # type: ignore[arg-type]
        )
        return cast("HTTPResponse", response)

    return WatchTarget(
        resource=PLURAL, description=DESCRIPTION, request=request, missing_means_empty=True
    )


def read_licensing_document(api_client: client.ApiClient) -> JsonObject | None:
    """The ``IBMLicensing`` document in force now (one list), or ``None`` when there is none.

    A resource type that is not installed (404) counts as none; other failures raise
    ``ClusterError``.
    """
    target = licensing_target(api_client)
    try:
        response = target.request(timeout=_READ_TIMEOUT)
        document = read_document(response)
    except ApiException as error:
        if status_code(error) == NOT_FOUND:
            return None
        raise _list_error(error) from error
    except Exception as error:
        raise _list_error(error) from error
    items = document.get("items") if isinstance(document, Mapping) else None
    documents = [item for item in items or () if isinstance(item, Mapping)]
    return oldest_ibmlicensing(documents) if documents else None


class LicensingResourceWatch(FollowedObjects):
    """Hands the ``IBMLicensing`` document in force (or ``None``) to ``on_document`` on change."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        on_document: Callable[[JsonObject | None], None],
        counters: CollectorCounters,
        options: WatchOptions,
        clock: Callable[[], datetime],
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        """The caller keeps ownership of ``api_client``; nothing is sent until ``start``."""
        self._on_document = on_document
        self._loop = ObjectWatcher(
            licensing_target(api_client),
            on_change=self._changed,
            counters=counters,
            options=options,
            clock=clock,
            sleep=sleep,
        )

    def _changed(self, objects: Mapping[str, JsonObject]) -> None:
        documents = list(objects.values())
        self._on_document(oldest_ibmlicensing(documents) if documents else None)


def _list_error(error: Exception) -> ClusterError:
    failure = describe_failure(error, action=f"list {DESCRIPTION}", resource=PLURAL)
    return ClusterError(failure.message)
