"""The HTTPS certificate of ``spec.httpsEnable`` (SPEC 6), kept in a Secret of the namespace.

Two sources, as ``spec.httpsCertsSource`` says:

- ``self-signed`` (the default): Secret ``license-service-tls`` (type
  ``kubernetes.io/tls``, keys ``tls.crt`` and ``tls.key``), created when missing and
  kept, so every replica and every restart serves the same certificate and clients
  that pinned it keep trusting it; it is replaced only when a start finds it due for
  renewal (``due``: within 30 days of its expiry). Two replicas starting together end
  up with the same pair: the second creation (or replacement) answers 409, and the
  pair is read back from the Secret the first one wrote.
- ``custom``: Secret ``ibm-licensing-certs``, written by the operator; it is only
  read, and a missing Secret or key raises ``ClusterError`` saying how to create it.

This module moves bytes; the caller writes them where the server reads them
(``file_store.served_tls_files``), and the server checks that they form a usable
pair. ``TlsSecret`` keeps the pair of a service in Kubernetes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from kubernetes import client

from license_service.errors import ClusterError
from license_service.secrets import secret_access
from license_service.tls.certificates import (
    TlsPems,
    generate_self_signed,
    renewal_due,
    service_dns_names,
)

logger = logging.getLogger(__name__)

SELF_SIGNED_TLS_SECRET: Final = "license-service-tls"  # noqa: S105  (a Secret's name)
CUSTOM_TLS_SECRET: Final = "ibm-licensing-certs"  # noqa: S105  (a Secret's name)
CERTIFICATE_KEY: Final = "tls.crt"
PRIVATE_KEY_KEY: Final = "tls.key"
TLS_SECRET_LABELS: Final = secret_access.service_labels(
    "ibm-licensing-service-tls", managed_by="license-service"
)


def tls_secret_manifest(pems: TlsPems, *, namespace: str, name: str) -> dict[str, Any]:
    """The ``kubernetes.io/tls`` Secret holding ``pems``; pure."""
    return secret_access.secret_manifest(
        namespace=namespace,
        name=name,
        labels=TLS_SECRET_LABELS,
        data={CERTIFICATE_KEY: pems.certificate, PRIVATE_KEY_KEY: pems.private_key},
        type_name="kubernetes.io/tls",
    )


class TlsSecret:
    """The HTTPS pair kept in a Secret of the service's namespace.

    ``custom`` (``spec.httpsCertsSource: custom``) reads the operator's Secret; otherwise
    the self-signed pair for the service's DNS names is kept in its own Secret.
    """

    def __init__(self, api_client: client.ApiClient, *, namespace: str, custom: bool) -> None:
        """The caller keeps ``api_client``; nothing is sent until ``load_or_create``."""
        self._api_client = api_client
        self.namespace = namespace
        self.custom = custom

    def load_or_create(self, *, now: datetime) -> TlsPems:
        """The pair to serve: the operator's, or the kept self-signed one (renewed when due)."""
        if self.custom:
            return read_custom_pems(self._api_client, namespace=self.namespace)
        return load_or_create_self_signed_pems(
            self._api_client,
            namespace=self.namespace,
            generate=lambda: generate_self_signed(
                dns_names=service_dns_names(self.namespace), now=now
            ),
            due=lambda pems: renewal_due(pems.certificate, now),
        )


def load_or_create_self_signed_pems(
    api_client: client.ApiClient,
    *,
    namespace: str,
    generate: Callable[[], TlsPems],
    due: Callable[[TlsPems], bool] = lambda _pems: False,
    name: str = SELF_SIGNED_TLS_SECRET,
) -> TlsPems:
    """The pair kept in the Secret; ``generate()`` makes one when the Secret is missing or
    when the kept pair is ``due`` for renewal."""
    core = client.CoreV1Api(api_client)
    label = secret_access.secret_label(namespace, name)
    secret, created = secret_access.read_or_create_secret(
        core,
        namespace=namespace,
        name=name,
        manifest=lambda: tls_secret_manifest(generate(), namespace=namespace, name=name),
    )
    if created:
        logger.info("Generated a self-signed HTTPS certificate and kept it in %s", label)
    fix = "delete the Secret to have a new self-signed certificate generated at the next start"
    kept = _pems(secret, label=label, fix=fix)
    if created or not due(kept):
        return kept
    renewed = generate()
    fresh = tls_secret_manifest(renewed, namespace=namespace, name=name)
    if secret_access.replace_secret(core, {**secret, "data": fresh["data"]}):
        logger.info("Renewed the self-signed HTTPS certificate kept in %s", label)
        return renewed
    # Another replica renewed it meanwhile: its certificate is the one kept.
    winner = secret_access.read_secret(core, namespace=namespace, name=name)
    if winner is None:
        raise ClusterError(f"renew {label}: the Secret disappeared; start the service again")
    return _pems(winner, label=label, fix=fix)


def read_custom_pems(
    api_client: client.ApiClient, *, namespace: str, name: str = CUSTOM_TLS_SECRET
) -> TlsPems:
    """The pair of the operator's Secret (``spec.httpsCertsSource: custom``); never written."""
    core = client.CoreV1Api(api_client)
    label = secret_access.secret_label(namespace, name)
    fix = (
        f"create it with `kubectl create secret tls {name} --namespace {namespace} "
        "--cert=<certificate.pem> --key=<key.pem>`, or set spec.httpsCertsSource to "
        "self-signed"
    )
    secret = secret_access.read_secret(core, namespace=namespace, name=name)
    if secret is None:
        raise ClusterError(
            f"spec.httpsCertsSource is custom but {label} does not exist; {fix}, then start "
            "the service again"
        )
    return _pems(secret, label=label, fix=fix)


def _pems(secret: dict[str, Any], *, label: str, fix: str) -> TlsPems:
    values = {}
    for key in (CERTIFICATE_KEY, PRIVATE_KEY_KEY):
        try:
            value = secret_access.decode_value(secret, key)
        except ValueError as error:
            raise ClusterError(f"{label} cannot be read: {error}; {fix}") from error
        if not value:
            raise ClusterError(f"{label} has no key {key!r} (it needs tls.crt and tls.key); {fix}")
        values[key] = value
    return TlsPems(certificate=values[CERTIFICATE_KEY], private_key=values[PRIVATE_KEY_KEY])
