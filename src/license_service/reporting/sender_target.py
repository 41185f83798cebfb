"""Where the sender pushes, read before every round (SPEC 11): settings, flags, credentials.

``spec.sender`` of the configuration in force, with ``--reporter-url`` in place of
``reporterURL`` when given; the token and CA from ``credentials``; the cluster's id
and name from ``clusterID``/``clusterName`` or the service's own. ``None``: no
Reporter is configured, the sender idles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.configuration.sender_settings import SenderSettings
from license_service.errors import LicenseServiceError
from license_service.fleet.push_format import ClusterIdentity
from license_service.reporting.reporter_client import ReporterConnection
from license_service.reporting.reporter_credentials import ReporterCredentials
from license_service.reporting.sender import SenderTarget, UnusableTarget


def target_reader(
    *,
    config: Callable[[], LicensingConfig],
    reporter_url: str | None,
    credentials: ReporterCredentials,
    cluster: ClusterIdentity,
) -> Callable[[], SenderTarget | None]:
    """A function giving the target in force now; it raises ``UnusableTarget`` for a
    token or CA that cannot be had."""

    def target() -> SenderTarget | None:
        settings = config().sender_settings
        if reporter_url is not None:
            url = reporter_url.strip().rstrip("/")
            settings = (
                SenderSettings(reporter_url=url)
                if settings is None
                else replace(settings, reporter_url=url)
            )
        if settings is None:
            return None
        try:
            token, ca_pem = credentials.token(settings), credentials.ca(settings)
        except LicenseServiceError as error:
            raise UnusableTarget(str(error), reporter_url=settings.reporter_url) from error
        return SenderTarget(
            reporter=ReporterConnection(url=settings.reporter_url, token=token, ca_pem=ca_pem),
            cluster=ClusterIdentity(
                cluster_id=settings.cluster_id or cluster.cluster_id,
                cluster_name=settings.cluster_name or cluster.cluster_name,
                service_version=cluster.service_version,
            ),
            initial_days=settings.initial_days,
        )

    return target
