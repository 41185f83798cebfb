"""One object from the API to one shared projection; an object that cannot be read is skipped.

The translation itself is ``cluster.kubernetes_json``, with the sharing of
``projection_sharing`` on top. The collector decodes most objects faster, straight
from the bytes (``cluster.typed_objects``), and comes here only for what that refuses,
so a malformed object is named by ``kubernetes_json``'s message.

An object the translation refuses (say a pod whose ``spec.containers`` is not a list)
never stops the loop: it is counted as a ``decode`` error, logged once per object
until it can be read again, and left out of the view.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.projection_sharing import SharedValues
from license_service.cluster.kubernetes.resource_kinds import (
    ObjectKey,
    Projection,
    ResourceKind,
    key_of,
    key_of_json,
)
from license_service.errors import InputError
from license_service.metering.cluster_view import Namespace, Node, Pod

logger = logging.getLogger(__name__)

_MAX_REMEMBERED_WARNINGS: Final = 10_000


class ObjectDecoder:
    """Decodes the objects of one resource; remembers which refused objects were logged."""

    def __init__(
        self, kind: ResourceKind, *, sharing: SharedValues, counters: CollectorCounters
    ) -> None:
        self._kind = kind
        self._sharing = sharing
        self._counters = counters
        self._warned: set[ObjectKey | None] = set()

    def decode(self, obj: object) -> Projection | None:
        """The shared projection of ``obj``, or ``None`` when it cannot be read (logged once)."""
        try:
            projection = self._kind.decode(obj)
        except InputError as exc:
            self._refuse(obj, exc)
            return None
        if self._warned:
            self._warned.discard(key_of(projection))
        if isinstance(projection, Pod):
            return self._sharing.pod(projection)
        if isinstance(projection, Node):
            return self._sharing.node(projection)
        if isinstance(projection, Namespace):
            return self._sharing.namespace(projection)
        return projection

    def accepted(self, keys: Iterable[ObjectKey]) -> None:
        """Objects of ``keys`` were read by another path (``typed_objects``): warn if they break."""
        if self._warned:
            self._warned.difference_update(keys)

    def _refuse(self, obj: object, error: InputError) -> None:
        self._counters.count_error(self._kind.name, "decode")
        key = key_of_json(obj)
        if key in self._warned:
            return
        if len(self._warned) >= _MAX_REMEMBERED_WARNINGS:
            self._warned.clear()
        self._warned.add(key)
        logger.warning(
            "%s %s skipped: it cannot be read (%s); it is left out of the usage until it is fixed",
            self._kind.kind,
            "/".join(part for part in key if part) if key else "(unnamed)",
            error,
        )
