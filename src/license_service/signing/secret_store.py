"""The audit signing key kept in Secret ``license-service-signing-key`` (SPEC 5), created once.

In Kubernetes the key that signs audit snapshots must outlive pods and volumes, so it
is kept in a Secret of the service's namespace, key ``signing-key.pem`` (an unencrypted
PKCS#8 PEM, the same bytes as the data directory's ``signing-key.pem`` outside
Kubernetes; not a ``kubernetes.io/tls`` Secret, since there is no certificate).

Guarantees: the Secret is created when missing and never overwritten. Two replicas
starting together end up with the same key: the second creation answers 409, and the
key is read back from the Secret the first one created. A Secret without the key
raises ``AuditError`` instead of being replaced: replacing it would make every snapshot
signed before unverifiable against the published key. This module moves bytes; the
caller checks that they are a usable key (``SigningKey.from_pem``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from kubernetes import client

from license_service.cluster.kubernetes.object_watching import JsonObject
from license_service.errors import AuditError, ClusterError
from license_service.secrets.secret_access import (
    create_secret,
    decode_value,
    encode_value,
    read_secret,
    secret_label,
)

logger = logging.getLogger(__name__)

SIGNING_KEY_SECRET: Final = "license-service-signing-key"  # noqa: S105  (a Secret's name)
SIGNING_KEY_KEY: Final = "signing-key.pem"
SIGNING_KEY_LABELS: Final = {
    "app.kubernetes.io/component": "ibm-licensing-service-signing-key",
    "app.kubernetes.io/instance": "ibm-licensing-service",
    "app.kubernetes.io/managed-by": "license-service",
    "app.kubernetes.io/name": "ibm-licensing-service-instance",
    "release": "ibm-licensing-service",
}


def signing_key_secret_manifest(pem: bytes, *, namespace: str, name: str) -> JsonObject:
    """The Secret holding the PEM key; pure."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(SIGNING_KEY_LABELS)},
        "type": "Opaque",
        "data": {SIGNING_KEY_KEY: encode_value(pem)},
    }


def load_or_create_signing_key_pem(
    api_client: client.ApiClient,
    *,
    namespace: str,
    generate: Callable[[], bytes],
    name: str = SIGNING_KEY_SECRET,
) -> bytes:
    """The PEM key kept in the Secret; ``generate()`` makes one when the Secret is missing."""
    core = client.CoreV1Api(api_client)
    label = secret_label(namespace, name)
    secret = read_secret(core, namespace=namespace, name=name)
    if secret is None:
        pem = generate()
        if create_secret(core, signing_key_secret_manifest(pem, namespace=namespace, name=name)):
            logger.info("Generated a new audit signing key and kept it in %s", label)
            return pem
        # Another replica created it meanwhile: its key is the one kept.
        secret = read_secret(core, namespace=namespace, name=name)
        if secret is None:
            raise ClusterError(
                f"create {label}: the API said it exists, then that it does not; "
                "try again (is something deleting it?)"
            )
    try:
        pem_read = decode_value(secret, SIGNING_KEY_KEY)
    except ValueError as error:
        raise AuditError(f"{label} cannot be read: {error}; restore it from a backup") from error
    if not pem_read:
        raise AuditError(
            f"{label} has no key {SIGNING_KEY_KEY!r}: restore the key from a backup, or delete "
            "the Secret to have a new key generated (snapshots signed before then verify only "
            "with the old public key)"
        )
    return pem_read
