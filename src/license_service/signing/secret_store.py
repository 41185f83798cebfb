"""The audit signing key kept in Secret ``license-service-signing-key`` (SPEC 5), created once.

In Kubernetes the key that signs audit snapshots must outlive pods and volumes, so it
is kept in a Secret of the service's namespace, key ``signing-key.pem`` (an unencrypted
PKCS#8 PEM, the same bytes as the data directory's ``signing-key.pem`` outside
Kubernetes; not a ``kubernetes.io/tls`` Secret, since there is no certificate).

Guarantees: the Secret is created when missing and never overwritten. Two replicas
starting together end up with the same key: the second creation answers 409, and the
key is read back from the Secret the first one created. A Secret without the key
raises ``AuditError`` instead of being replaced: replacing it would make every snapshot
signed before unverifiable against the published key. ``load_or_create_signing_key_pem``
moves bytes; ``SigningKeySecret``, the ``SigningKeyStore`` of a service in Kubernetes,
checks that they are a usable key (``SigningKey.from_pem``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from kubernetes import client

from license_service.errors import AuditError
from license_service.secrets import secret_access
from license_service.secrets.secret_access import JsonObject
from license_service.signing.keys import SigningKey

logger = logging.getLogger(__name__)

SIGNING_KEY_SECRET: Final = "license-service-signing-key"  # noqa: S105  (a Secret's name)
SIGNING_KEY_KEY: Final = "signing-key.pem"
REPORTER_SIGNING_KEY_SECRET: Final = "license-service-reporter-signing-key"  # noqa: S105
"""The Reporter's own signing key (SPEC 11, its ``/snapshot``), shared by its replicas."""
SIGNING_KEY_LABELS: Final = secret_access.service_labels(
    "ibm-licensing-service-signing-key", managed_by="license-service"
)


def signing_key_secret_manifest(pem: bytes, *, namespace: str, name: str) -> JsonObject:
    """The Secret holding the PEM key; pure."""
    return secret_access.secret_manifest(
        namespace=namespace, name=name, labels=SIGNING_KEY_LABELS, data={SIGNING_KEY_KEY: pem}
    )


def load_or_create_signing_key_pem(
    api_client: client.ApiClient,
    *,
    namespace: str,
    generate: Callable[[], bytes],
    name: str = SIGNING_KEY_SECRET,
) -> bytes:
    """The PEM key kept in the Secret; ``generate()`` makes one when the Secret is missing."""
    label = secret_access.secret_label(namespace, name)
    secret, created = secret_access.read_or_create_secret(
        client.CoreV1Api(api_client),
        namespace=namespace,
        name=name,
        manifest=lambda: signing_key_secret_manifest(generate(), namespace=namespace, name=name),
    )
    if created:
        logger.info("Generated a new audit signing key and kept it in %s", label)
    try:
        pem = secret_access.decode_value(secret, SIGNING_KEY_KEY)
    except ValueError as error:
        raise AuditError(f"{label} cannot be read: {error}; restore it from a backup") from error
    if not pem:
        raise AuditError(
            f"{label} has no key {SIGNING_KEY_KEY!r}: restore the key from a backup, or delete "
            "the Secret to have a new key generated (snapshots signed before then verify only "
            "with the old public key)"
        )
    return pem


class SigningKeySecret:
    """A ``SigningKeyStore`` backed by the signing key's Secret in the service's namespace."""

    def __init__(
        self, api_client: client.ApiClient, *, namespace: str, name: str = SIGNING_KEY_SECRET
    ) -> None:
        """The caller keeps ``api_client``; nothing is sent until ``load_or_create``. ``name``:
        the Secret (the Reporter keeps its own key in ``REPORTER_SIGNING_KEY_SECRET``)."""
        self._api_client = api_client
        self.namespace = namespace
        self.name = name
        self._key: SigningKey | None = None

    def load_or_create(self) -> SigningKey:
        """The key kept in the Secret; generated and kept there first when there is none.

        The Secret is read once: the service uses the key it found at its start.
        """
        if self._key is not None:
            return self._key
        pem = load_or_create_signing_key_pem(
            self._api_client,
            namespace=self.namespace,
            generate=lambda: SigningKey.generate().private_pem(),
            name=self.name,
        )
        self._key = SigningKey.from_pem(
            pem, source=f"key {SIGNING_KEY_KEY} of Secret {self.namespace}/{self.name}"
        )
        return self._key
