"""The API token's Secret (SPEC 4.2-4.3): read, created, written and followed through the API.

The token lives in Secret ``ibm-licensing-token`` (the name is ``spec.apiSecretToken``),
key ``token``, in the service's namespace: exactly what the seed document's
``token.yml`` applies and its ``kubectl get secret ... -o jsonpath='{.data.token}' |
base64 -d`` reads. This module moves the value; it does not judge it (the token rules
do, in ``secret_source`` and the CLI): a ``TokenReading`` is the text as written, or
why there is none.

- ``TokenSecret`` reads, creates and writes the Secret once (the CLI, the service's start).
  Created and written Secrets carry the seed's labels; a write keeps the Secret's
  other keys, labels and annotations, and retries when the Secret changed meanwhile.
- ``TokenSecretWatch`` follows it with a list+watch on ``fieldSelector=metadata.name``:
  every change is handed to ``on_reading``; a Secret that is missing (at start, or
  deleted later) is created with ``new_token()`` and reported missing until the
  watch delivers it; a creation that fails is retried with backoff.

One trailing newline of the value is not part of the token (``kubectl create secret
generic --from-file`` keeps the file's newline), as in a token file
(``rules.strip_final_newline``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from kubernetes import client

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.object_watching import (
    JsonObject,
    ObjectWatcher,
    WatchTarget,
)
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.errors import ClusterError
from license_service.secrets import secret_access
from license_service.secrets.followed_objects import FollowedObjects
from license_service.tokens.kinds import API_TOKEN, TokenKind
from license_service.tokens.rules import strip_final_newline

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

logger = logging.getLogger(__name__)

TOKEN_KEY: Final = API_TOKEN.secret_key
"""The API token's key; the upload token's is ``token-upload`` (``kinds.UPLOAD_TOKEN``)."""
TOKEN_SECRET_LABELS: Final[Mapping[str, str]] = secret_access.service_labels(
    "ibm-licensing-service-svc", managed_by="operator"
)
"""The labels of the seed document's ``token.yml``."""
SECRET_RESOURCE: Final = "secrets"  # noqa: S105  (a resource name)
_WRITE_ATTEMPTS: Final = 5

WriteOutcome = Literal["created", "updated"]


@dataclass(frozen=True, slots=True)
class TokenReading:
    """What the token Secret holds now: the text (rules not applied), or why there is none.

    ``missing`` is true when there is no Secret at all (being created, or not yet).
    The ``repr`` never shows the value.
    """

    secret: str
    value: str | None = field(default=None, repr=False)
    problem: str | None = None
    missing: bool = False


def token_reading(
    secret: Mapping[str, Any] | None, *, label: str, key: str = TOKEN_KEY
) -> TokenReading:
    """Read the token out of ``secret``'s ``key`` (JSON as the API sends it); ``label``
    names it; pure."""
    if secret is None:
        return TokenReading(label, problem=f"the {label} does not exist", missing=True)
    try:
        raw = secret_access.decode_value(secret, key)
    except ValueError as error:
        return TokenReading(label, problem=f"the {label} cannot be read: {error}")
    if raw is None:
        return TokenReading(label, problem=f"the {label} has no key {key!r}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return TokenReading(
            label,
            problem=f"the {label} key {key!r} is not UTF-8 text (byte {error.start + 1})",
        )
    return TokenReading(label, value=strip_final_newline(text))


def token_secret_manifest(
    token: str, *, namespace: str, name: str, key: str = TOKEN_KEY
) -> JsonObject:
    """The Secret holding ``token`` under ``key``, with the seed's labels; pure."""
    return secret_access.secret_manifest(
        namespace=namespace,
        name=name,
        labels=TOKEN_SECRET_LABELS,
        data={key: token.encode("utf-8")},
    )


class TokenSecret:
    """One token Secret, by namespace and name; every call is one or a few API requests."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        namespace: str,
        name: str,
        kind: TokenKind = API_TOKEN,
    ) -> None:
        """The caller keeps ownership of ``api_client``; ``kind``: which token (its key)."""
        self._api_client = api_client
        self._core = client.CoreV1Api(api_client)
        self.namespace = namespace
        self.name = name
        self.kind = kind

    @property
    def label(self) -> str:
        """``Secret <namespace>/<name>``, as messages name it."""
        return secret_access.secret_label(self.namespace, self.name)

    def read(self) -> TokenReading:
        """What the Secret holds now (``missing`` when there is none)."""
        return token_reading(
            secret_access.read_secret(self._core, namespace=self.namespace, name=self.name),
            label=self.label,
            key=self.kind.secret_key,
        )

    def create(self, token: str) -> bool:
        """Create the Secret holding ``token``; ``False`` (nothing written) when it exists."""
        return secret_access.create_secret(
            self._core,
            token_secret_manifest(
                token, namespace=self.namespace, name=self.name, key=self.kind.secret_key
            ),
        )

    def write(self, token: str) -> WriteOutcome:
        """Make ``token`` the Secret's value, creating the Secret when it does not exist."""
        for _ in range(_WRITE_ATTEMPTS):
            current = secret_access.read_secret(
                self._core, namespace=self.namespace, name=self.name
            )
            if current is None:
                if self.create(token):
                    return "created"
                continue  # created by someone else meanwhile: update theirs
            updated = _with_token(current, token, key=self.kind.secret_key)
            if secret_access.replace_secret(self._core, updated):
                return "updated"
        raise ClusterError(
            f"update {self.label}: it kept changing while being written "
            f"({_WRITE_ATTEMPTS} attempts); try again"
        )

    def watch_target(self) -> WatchTarget:
        """The list+watch of this one Secret (``fieldSelector=metadata.name=<name>``)."""
        core, namespace, selector = self._core, self.namespace, f"metadata.name={self.name}"

        def request(*, timeout: tuple[float, float], **parameters: object) -> HTTPResponse:
            response = core.list_namespaced_secret(
                namespace,
                field_selector=selector,
                _preload_content=False,
                _request_timeout=timeout,
                **parameters,  # type: ignore[arg-type]
            )
            return cast("HTTPResponse", response)

        return WatchTarget(resource=SECRET_RESOURCE, description=self.label, request=request)


class TokenSecretWatch(FollowedObjects):
    """Follows a token Secret: hands each reading to ``on_reading``, creates it when missing."""

    def __init__(
        self,
        secret: TokenSecret,
        *,
        on_reading: Callable[[TokenReading], None],
        new_token: Callable[[], str],
        counters: CollectorCounters,
        options: WatchOptions,
        clock: Callable[[], datetime],
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        """``new_token()`` makes the value of a Secret created because it was missing."""
        self._secret = secret
        self._on_reading = on_reading
        self._new_token = new_token
        self._loop = ObjectWatcher(
            secret.watch_target(),
            on_change=self._changed,
            counters=counters,
            options=options,
            clock=clock,
            sleep=sleep,
        )

    @property
    def secret(self) -> TokenSecret:
        """The Secret followed."""
        return self._secret

    def _changed(self, objects: Mapping[str, JsonObject]) -> None:
        secret = objects.get(self._secret.name)
        kind = self._secret.kind
        reading = token_reading(secret, label=self._secret.label, key=kind.secret_key)
        self._on_reading(reading)
        # create() raises on failure: the watcher then lists again after a delay and retries.
        if secret is None and self._secret.create(self._new_token()):
            logger.info(
                "Created %s with a new random %s (key %r); read it with "
                "`kubectl get secret %s -n %s -o jsonpath='{.data.%s}' | base64 -d`",
                self._secret.label,
                kind.name,
                kind.secret_key,
                self._secret.name,
                self._secret.namespace,
                kind.secret_key,
            )


def _with_token(secret: JsonObject, token: str, *, key: str) -> JsonObject:
    """``secret`` holding ``token``, with the seed's labels added; other content kept."""
    updated = dict(secret)
    metadata = dict(updated.get("metadata") or {})
    metadata["labels"] = {**dict(metadata.get("labels") or {}), **TOKEN_SECRET_LABELS}
    updated["metadata"] = metadata
    updated["data"] = {
        **dict(updated.get("data") or {}),
        key: secret_access.encode_value(token.encode("utf-8")),
    }
    updated.pop("stringData", None)
    return updated
