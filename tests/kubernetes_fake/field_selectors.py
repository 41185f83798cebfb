"""Field selectors (``fieldSelector``), limited to the fields the real server indexes.

Each served type supports ``metadata.name`` and ``metadata.namespace`` plus the fields in its
``ResourceType.field_labels``; any other field is refused with 400 "field label not
supported", as upstream. A missing field compares as the empty string (an unscheduled pod
has ``spec.nodeName=""``). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .resource_types import ResourceType
from .statuses import bad_request

_CLAUSE = re.compile(r"^\s*(?P<field>[A-Za-z0-9_.]+)\s*(?P<op>==|!=|=)\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class FieldRequirement:
    """One ``field=value`` or ``field!=value`` clause."""

    field: str
    equal: bool
    value: str

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether the object's field value satisfies the clause."""
        return (field_value(obj, self.field) == self.value) == self.equal


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field clauses; the empty selector matches everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether the object is selected."""
        return all(requirement.matches(obj) for requirement in self.requirements)

    def exact_name(self) -> str | None:
        """The name when the selector pins ``metadata.name=<x>`` (as informers on one object do)."""
        for requirement in self.requirements:
            if requirement.field == "metadata.name" and requirement.equal:
                return requirement.value
        return None


def parse_field_selector(text: str | None, resource_type: ResourceType) -> FieldSelector:
    """Parse ``fieldSelector`` for a type; 400 when malformed or the field is not supported."""
    if not text or not text.strip():
        return FieldSelector()
    supported = {"metadata.name", "metadata.namespace", *resource_type.field_labels}
    requirements: list[FieldRequirement] = []
    for clause in text.split(","):
        match = _CLAUSE.match(clause)
        if match is None:
            raise bad_request(f"invalid selector: {text!r}; can't understand {clause!r}")
        if match["field"] not in supported:
            raise bad_request(
                f"field label not supported: {match['field']}"
                f" (supported for {resource_type.plural}: {', '.join(sorted(supported))})"
            )
        requirements.append(FieldRequirement(match["field"], match["op"] != "!=", match["value"]))
    return FieldSelector(tuple(requirements))


def field_value(obj: dict[str, Any], dotted: str) -> str:
    """The string value of a dotted field path; "" when absent (booleans as "true"/"false")."""
    current: Any = obj
    for part in dotted.split("."):
        if not isinstance(current, dict) or part not in current:
            return ""
        current = current[part]
    if isinstance(current, bool):
        return "true" if current else "false"
    return "" if current is None else str(current)
