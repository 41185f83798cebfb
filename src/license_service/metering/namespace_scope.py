"""Which namespaces are left out of measuring (SPEC 8 ``spec.features.excludeNamespace``); pure.

The setting is a comma-separated list of namespace names or regular expressions, each
matched against the WHOLE namespace name, blanks around items trimmed. A plain name is
a regular expression matching itself (namespace names hold no metacharacter), so one
rule serves both. Patterns are RE2 (``google-re2``), judged and compiled as
``productChargedContainers`` patterns are (``charged_containers``: linear-time
matching, a memory budget, plain reasons for what RE2 refuses); an invalid item is
refused with its position and text. Pods of a matching namespace are counted nowhere:
not in the cluster's usage, not in any chargeback group.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Protocol

from license_service.errors import ConfigurationError
from license_service.message_values import quoted
from license_service.metering.charged_containers import compile_pattern, pattern_problem


class _Compiled(Protocol):
    """What is used of a compiled RE2 pattern."""

    def fullmatch(self, text: str) -> object | None: ...


ExcludedNamespaces = tuple[str, ...]
"""The items of ``excludeNamespace``, trimmed, in the order written (empty: none excluded)."""


def parse_excluded_namespaces(text: str) -> ExcludedNamespaces:
    """The items of ``text`` (comma-separated, blanks trimmed, empty items dropped).

    Raises ``ConfigurationError`` naming each item that is not a valid regular expression.
    """
    items = tuple(item.strip() for item in text.split(","))
    return checked_patterns(item for item in items if item)


def checked_patterns(items: Iterable[str]) -> ExcludedNamespaces:
    """``items`` as given, once each checked to compile; ``ConfigurationError`` otherwise."""
    kept = tuple(items)
    problems = []
    for position, item in enumerate(kept, start=1):
        problem = pattern_problem(item)
        if problem is not None:
            # The shared reason's advice speaks of container exclusions: say it for namespaces.
            problem = problem.replace(
                "add an exclusion entry such as '!istio-.*'", "list the namespaces to exclude"
            )
            problems.append(f"item {position} {quoted(item)} {problem}")
    if problems:
        raise ConfigurationError(
            "excludeNamespace: "
            + "; ".join(problems)
            + "; write namespace names or regular expressions separated by commas, "
            "e.g. 'sandbox, test-.*'"
        )
    return kept


@functools.lru_cache(maxsize=64)
def excluded_patterns(patterns: ExcludedNamespaces) -> tuple[_Compiled, ...]:
    """Each item compiled by RE2 (each was checked when the setting was read)."""
    return tuple(compile_pattern(pattern) for pattern in patterns)


def excluder(patterns: ExcludedNamespaces) -> Callable[[str], bool]:
    """Whether a namespace is excluded, each name judged once (a cluster has few, pods many).

    Meant for one measurement: the answers are kept as long as the function.
    """
    compiled = excluded_patterns(patterns)
    answers: dict[str, bool] = {}

    def excluded(namespace: str) -> bool:
        answer = answers.get(namespace)
        if answer is None:
            answer = answers[namespace] = any(
                pattern.fullmatch(namespace) is not None for pattern in compiled
            )
        return answer

    return excluded


def excluded_text(patterns: ExcludedNamespaces) -> str:
    """The setting as an operator writes it (``a, b-.*``), or ``none`` when empty."""
    return ", ".join(patterns) if patterns else "none"
