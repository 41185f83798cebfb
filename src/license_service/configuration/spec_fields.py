"""Typed values read from a nested document, every problem recorded with its dotted path.

``SpecReader`` reads the leaves of a mapping such as an ``IBMLicensing`` spec
(``features.auth.urlBasedEnabled``) and checks their YAML type strictly: a boolean
must be a boolean, a number a number, a choice one of the allowed values. It
never raises: each problem (path, bad value, allowed values) is appended to a list,
so the caller can report all of them at once. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar, cast

from license_service.message_values import quoted

MAX_NAME_LENGTH: Final = 253  # the longest Kubernetes object name (a DNS subdomain)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class NameRule:
    """A kind of Kubernetes name: the pattern a name must match, and the rule in words."""

    pattern: re.Pattern[str]
    text: str


class SpecReader:
    """Reads typed values under ``spec``, recording a problem for every invalid one.

    Each reader returns ``None`` when the value is absent, null or invalid, so the
    caller applies the default and the collected problems decide the outcome.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def section(self, value: object, path: str) -> Mapping[str, object]:
        """``value`` as a mapping; null is empty, anything else a problem."""
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return cast(Mapping[str, object], value)
        self.problems.append(
            f"{path}: {shown(value)} is not a mapping; write {path} as key: value lines"
        )
        return {}

    def boolean(self, spec: Mapping[str, object], path: str) -> bool | None:
        """A YAML boolean; the string ``"no"`` or the number 0 is a problem."""
        value = _lookup(spec, path)
        if value is None or isinstance(value, bool):
            return value
        self.problems.append(
            f"spec.{path}: {shown(value)} is not a boolean; allowed values: true, false (unquoted)"
        )
        return None

    def choice(self, spec: Mapping[str, object], path: str, *, allowed: Sequence[_T]) -> _T | None:
        """One of ``allowed``, of the same type: ``"2"`` is not ``2``."""
        value = _lookup(spec, path)
        if value is None:
            return None
        # A boolean is an int in Python: ``True`` must not pass for ``1``.
        for candidate in allowed:
            if type(value) is type(candidate) and value == candidate:
                return candidate
        self.problems.append(
            f"spec.{path}: {shown(value)} is not allowed; allowed values: "
            + ", ".join(yaml_text(candidate) for candidate in allowed)
        )
        return None

    def positive_integer(self, spec: Mapping[str, object], path: str) -> int | None:
        """A whole number above zero."""
        value = _lookup(spec, path)
        if value is None:
            return None
        if type(value) is int and value > 0:
            return value
        self.problems.append(
            f"spec.{path}: {shown(value)} is not allowed; allowed values: a whole number above 0"
        )
        return None

    def text(self, spec: Mapping[str, object], path: str, *, example: str) -> str | None:
        """A YAML string (quoted or not); a number or a list is a problem."""
        value = _lookup(spec, path)
        if value is None or isinstance(value, str):
            return value
        self.problems.append(
            f"spec.{path}: {shown(value)} is not allowed; allowed values: text, e.g. {example}"
        )
        return None

    def name(
        self, spec: Mapping[str, object], path: str, rule: NameRule, *, default: _T
    ) -> str | _T:
        """A Kubernetes name that follows ``rule``, else ``default``."""
        value = _lookup(spec, path)
        if value is None:
            return default
        if (
            isinstance(value, str)
            and len(value) <= MAX_NAME_LENGTH
            and rule.pattern.fullmatch(value)
        ):
            return value
        self.problems.append(
            f"spec.{path}: {shown(value)} is not allowed; allowed values: {rule.text}"
        )
        return default


def _lookup(spec: Mapping[str, object], path: str) -> object:
    """The value at dotted ``path`` under ``spec``, or None when absent or not reachable."""
    value: object = spec
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None  # a section of the wrong type: already reported by SpecReader.section
        value = value.get(key)
    return value


def shown(value: object) -> str:
    """A value as the message shows it (cut when long), with its type when that is the problem."""
    if isinstance(value, str):
        return f"{quoted(value)} (a string)"
    if isinstance(value, bool):
        return yaml_text(value)
    if isinstance(value, int | float):
        return quoted(value)
    return f"{type_name(value)} {quoted(value)}"


def yaml_text(value: object) -> str:
    """A value as YAML writes it: ``true``/``false`` for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def type_name(value: object) -> str:
    """What kind of YAML value ``value`` is, for messages (``a mapping``, ``a list``)."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "empty"
    return f"a {type(value).__name__}"
