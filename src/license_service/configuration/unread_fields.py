"""The fields of an ``IBMLicensing`` spec that License Service does not read, sorted in two kinds.

- **not applicable**: a field of IBM's CRD (``ibm_crd_fields``) that this service has no
  use for (``spec.datasource``, ``spec.license.accept``): written on purpose for IBM's
  operator, so it is named quietly, once;
- **unknown**: a field that neither this service nor IBM's CRD has
  (``spec.features.auth.urlBaseEnabled``): most likely a typo, worth a warning.

A not-applicable section is named once, by its own path, but its keys are still looked
into: a typo inside it is unknown. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from license_service.configuration.ibm_crd_fields import IBM_SPEC_FIELDS
from license_service.configuration.spec_fields import SpecReader


@dataclass(frozen=True, slots=True)
class UnreadFields:
    """Dotted paths of the fields not read, in document order."""

    unknown: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)


def unread_fields(
    reader: SpecReader,
    spec: Mapping[str, object],
    *,
    honoured: Mapping[str, object],
    path: str = "spec",
) -> UnreadFields:
    """The fields of ``spec`` that ``honoured`` does not list, as unknown or not applicable.

    ``honoured`` has the shape of ``IBM_SPEC_FIELDS`` (a mapping is a section, ``None`` a
    field). A section this service reads that is not a mapping is a problem of ``reader``.
    """
    found = UnreadFields()
    _walk(reader, spec, honoured=honoured, ibm=IBM_SPEC_FIELDS, path=path, found=found)
    return found


def _walk(
    reader: SpecReader,
    mapping: Mapping[str, object],
    *,
    honoured: Mapping[str, object] | None,
    ibm: Mapping[str, object] | None,
    path: str,
    found: UnreadFields,
) -> None:
    for key, value in mapping.items():
        child_path = f"{path}.{key}"
        read_here = honoured is not None and key in honoured
        ibm_has = ibm is not None and key in ibm
        if not read_here and not ibm_has:
            found.unknown.append(child_path)
            continue
        honoured_child = honoured.get(key) if honoured is not None and read_here else None
        ibm_child = ibm.get(key) if ibm is not None and ibm_has else None
        if not read_here:
            # Inside a not-applicable section (``honoured`` is None) it alone is named.
            if honoured is not None:
                found.not_applicable.append(child_path)
            if isinstance(ibm_child, Mapping) and isinstance(value, Mapping):
                _walk(reader, value, honoured=None, ibm=ibm_child, path=child_path, found=found)
            continue
        if isinstance(honoured_child, Mapping):
            section = reader.section(value, child_path)
            _walk(
                reader,
                section,
                honoured=honoured_child,
                ibm=ibm_child if isinstance(ibm_child, Mapping) else None,
                path=child_path,
                found=found,
            )
