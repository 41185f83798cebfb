"""Which namespaces are left out of measuring (SPEC 8 ``spec.features.excludeNamespace``); pure.

The setting is a comma-separated list of namespace names or regular expressions, each
matched against the WHOLE namespace name, blanks around items trimmed. A plain name is
a regular expression matching itself (namespace names hold no metacharacter), so one
rule serves both. Python's ``re`` stands in for RE2: the patterns an operator writes
for namespace names (``team-.*``, ``sandbox-[0-9]+``) mean the same in both; a
pattern Python refuses is refused with the item named. Pods of a matching namespace
are counted nowhere: not in the cluster's usage, not in any chargeback group.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from license_service.errors import ConfigurationError
from license_service.message_values import quoted

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
        try:
            re.compile(item)
        except re.error as exc:
            problems.append(
                f"item {position} {quoted(item)} is not a valid regular expression ({exc})"
            )
    if problems:
        raise ConfigurationError(
            "excludeNamespace: "
            + "; ".join(problems)
            + "; write namespace names or regular expressions separated by commas, "
            "e.g. 'sandbox, test-.*'"
        )
    return kept


@functools.lru_cache(maxsize=64)
def excluded_pattern(patterns: ExcludedNamespaces) -> re.Pattern[str] | None:
    """One pattern matching (``fullmatch``) the names ``patterns`` exclude; ``None``: none."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def excluder(patterns: ExcludedNamespaces) -> Callable[[str], bool]:
    """Whether a namespace is excluded, each name judged once (a cluster has few, pods many).

    Meant for one measurement: the answers are kept as long as the function.
    """
    pattern = excluded_pattern(patterns)
    answers: dict[str, bool] = {}

    def excluded(namespace: str) -> bool:
        answer = answers.get(namespace)
        if answer is None:
            answer = answers[namespace] = (
                pattern is not None and pattern.fullmatch(namespace) is not None
            )
        return answer

    return excluded


def excluded_text(patterns: ExcludedNamespaces) -> str:
    """The setting as an operator writes it (``a, b-.*``), or ``none`` when empty."""
    return ", ".join(patterns) if patterns else "none"
