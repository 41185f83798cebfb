"""Label selectors, parsed and matched as ``k8s.io/apimachinery/pkg/labels`` does.

Grammar (comma = AND): ``key=value``, ``key==value``, ``key!=value``, ``key in (a,b)``,
``key notin (a,b)``, ``key`` (exists), ``!key`` (does not exist), ``key>N`` / ``key<N``.
``!=`` and ``notin`` also match objects without the key, as upstream. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .statuses import ApiError, bad_request

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_EXPRESSION = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_BINARY_EXPRESSION = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|!=|=|>|<)\s*(?P<value>\S*)\s*$")
_EXISTS = re.compile(rf"^\s*(?P<negated>!?)\s*(?P<key>{_KEY})\s*$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a selector."""

    key: str
    operator: str  # "in", "notin", "exists", "!exists", "gt", "lt"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether labels satisfy this clause."""
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator == "in":
            return present and labels[self.key] in self.values
        if self.operator == "notin":
            return not present or labels[self.key] not in self.values
        if not present:
            return False
        try:
            actual = int(labels[self.key])
        except ValueError:
            return False
        (bound,) = self.values
        return actual > int(bound) if self.operator == "gt" else actual < int(bound)


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with these labels is selected."""
        actual = labels or {}
        return all(requirement.matches(actual) for requirement in self.requirements)


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the ``labelSelector`` query parameter; 400 BadRequest when it is malformed."""
    if not text or not text.strip():
        return LabelSelector()
    return LabelSelector(tuple(_parse_clause(clause) for clause in _split_clauses(text)))


def _split_clauses(text: str) -> list[str]:
    # Commas inside "in (a,b)" belong to the value set, not to the conjunction.
    clauses: list[str] = []
    depth = 0
    current: list[str] = []
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "," and depth == 0:
            clauses.append("".join(current))
            current = []
        else:
            current.append(character)
    clauses.append("".join(current))
    return clauses


def _parse_clause(clause: str) -> Requirement:
    if match := _SET_EXPRESSION.match(clause):
        values = frozenset(value.strip() for value in match["values"].split(",") if value.strip())
        _check_values(clause, values)
        return Requirement(match["key"], match["op"], values)
    if match := _BINARY_EXPRESSION.match(clause):
        operator = {"=": "in", "==": "in", "!=": "notin", ">": "gt", "<": "lt"}[match["op"]]
        value = match["value"]
        if operator in ("gt", "lt") and not value.lstrip("-").isdigit():
            raise _invalid(
                clause, f"for 'Gt', 'Lt' operators, the value must be an integer: {value}"
            )
        _check_values(clause, frozenset({value}))
        return Requirement(match["key"], operator, frozenset({value}))
    if match := _EXISTS.match(clause):
        return Requirement(match["key"], "!exists" if match["negated"] else "exists")
    raise _invalid(clause, "unable to parse requirement")


def _check_values(clause: str, values: frozenset[str]) -> None:
    for value in values:
        if len(value) > 63 or not re.fullmatch(_VALUE, value):
            raise _invalid(clause, f"invalid label value: {value!r}")


def _invalid(clause: str, why: str) -> ApiError:
    return bad_request(f"unable to parse requirement: {clause.strip()!r}: {why}")
