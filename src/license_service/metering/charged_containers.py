"""Which containers of a pod are charged: the ``productChargedContainers`` rules (SPEC 2.3).

Anyone who may create a pod writes this annotation, so its regular expressions are
compiled by RE2 (``google-re2``), never by Python's backtracking ``re``: matching
takes time linear in the container name whatever the pattern, so ``(a+)+$`` cannot
stall a measurement. What RE2 cannot run in linear time (backreferences,
look-around, atomic groups, possessive quantifiers) is refused with a message saying
why and what to write instead, like any other invalid pattern. The work one value
can ask for is bounded too: its length, each pattern's length, the number of
patterns, and each compiled pattern's memory (``MAX_PATTERN_MEMORY``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Protocol

import re2

from license_service.errors import InvalidPatternError

MAX_VALUE_LENGTH: Final = 10_000
"""The longest ``productChargedContainers`` value read, in characters."""
MAX_PATTERN_LENGTH: Final = 1_000
"""The longest single entry (a container name has at most 63 characters)."""
MAX_PATTERNS: Final = 64
"""The most regular-expression entries in one value (exact names are not limited)."""
MAX_PATTERN_MEMORY: Final = 256 * 1024
"""RE2's memory budget for one compiled pattern, in bytes; larger patterns are refused."""
RE2_SYNTAX: Final = "https://github.com/google/re2/wiki/Syntax"

_REGEX_METACHARACTERS: Final = frozenset("*+?[(|^$\\")
_SEPARATORS: Final = re.compile(r"[,;]")
_SHOWN_LENGTH: Final = 80
_LISTED_ERRORS: Final = 10
_HOW_TO_FIX: Final = (
    "Use container names or RE2 regular expressions (" + RE2_SYNTAX + ") separated by ',' or ';'"
)
# RE2's own error text starts with what it refused; these get a plainer explanation.
_UNSUPPORTED: Final = (
    (
        ("(?=", "(?!", "(?<=", "(?<!"),
        "look-around assertions are not supported (patterns use RE2 syntax, matched in "
        "linear time); to leave names out, add an exclusion entry such as '!istio-.*'",
    ),
    (
        ("(?P=", "\\1", "\\2", "\\3", "\\4", "\\5", "\\6", "\\7", "\\8", "\\9"),
        "backreferences are not supported (patterns use RE2 syntax, matched in linear "
        "time); spell the repeated part out, or list the names",
    ),
    (
        ("(?>", "*+", "++", "?+", "}+"),
        "atomic groups and possessive quantifiers are not supported (patterns use RE2 "
        "syntax, which never backtracks): use the plain group or quantifier",
    ),
)


class _Compiled(Protocol):
    """What is used of a compiled RE2 pattern (the module ships no type hints)."""

    def fullmatch(self, text: str) -> object | None: ...


def _re2_options() -> object:
    options = re2.Options()
    options.max_mem = MAX_PATTERN_MEMORY
    # RE2 would print every refused pattern to standard error itself.
    options.log_errors = False
    return options


_OPTIONS: Final = _re2_options()


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str
    compiled: _Compiled

    def matches(self, name: str) -> bool:
        try:
            return self.compiled.fullmatch(name) is not None
        except UnicodeEncodeError:
            # A lone surrogate (possible in JSON, never in a Kubernetes name) has no
            # UTF-8 form for RE2 to read; such a name matches no pattern.
            return False


@dataclass(frozen=True, slots=True)
class _Entries:
    """Exact names (a set lookup) and patterns (each matched in linear time)."""

    names: frozenset[str] = frozenset()
    patterns: tuple[_Pattern, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.names or self.patterns)

    def match(self, name: str) -> bool:
        return name in self.names or any(pattern.matches(name) for pattern in self.patterns)


@dataclass(frozen=True, slots=True)
class ChargedContainers:
    """A parsed ``productChargedContainers`` value; ``charges(name)`` applies it."""

    charge_all: bool
    includes: _Entries = _Entries()
    excludes: _Entries = _Entries()

    def charges(self, container_name: str) -> bool:
        """Return whether the container named ``container_name`` is charged."""
        if self.excludes.match(container_name):
            return False
        if self.charge_all:
            return True
        if not self.includes:
            # Only exclusions: every container that no exclusion matched.
            return bool(self.excludes)
        return self.includes.match(container_name)


ALL_CONTAINERS: Final = ChargedContainers(charge_all=True)
NO_CONTAINERS: Final = ChargedContainers(charge_all=False)


def parse_charged_containers(raw: str | None) -> ChargedContainers:
    """Parse the annotation value; absent or ``All`` charges every container, ``""`` none.

    Raises ``InvalidPatternError`` listing every invalid entry.
    """
    if raw is None or raw.strip().lower() == "all":
        return ALL_CONTAINERS
    if raw.strip() == "":
        return NO_CONTAINERS
    if len(raw) > MAX_VALUE_LENGTH:
        raise InvalidPatternError(
            f"productChargedContainers {_shown(raw)} has {len(raw)} characters, more than "
            f"the {MAX_VALUE_LENGTH} allowed: list fewer names, or cover them with a pattern"
        )
    names: dict[bool, set[str]] = {False: set(), True: set()}
    patterns: dict[bool, list[_Pattern]] = {False: [], True: []}
    errors: list[str] = []
    charge_all = False
    for position, piece in enumerate(_SEPARATORS.split(raw), start=1):
        text = piece.strip()
        excluded = text.startswith("!")
        if excluded:
            text = text[1:].strip()
        if not text:
            # An empty entry (``a,,b`` or a trailing separator) names nothing.
            if excluded:
                errors.append(f"entry {position} is a bare '!' that excludes nothing")
            continue
        if not excluded and text.lower() == "all":
            # ``All;!istio-proxy`` means every container but the sidecar; container
            # names are lowercase DNS labels, so only a container named "all" is shadowed.
            charge_all = True
            continue
        if _REGEX_METACHARACTERS.isdisjoint(text):
            names[excluded].add(text)
            continue
        problem = pattern_problem(text)
        if problem is None and len(patterns[False]) + len(patterns[True]) == MAX_PATTERNS:
            problem = (
                f"is one regular expression more than the {MAX_PATTERNS} allowed in one "
                "value; join patterns with '|'"
            )
        if problem is not None:
            errors.append(f"entry {position} {_shown(text)} {problem}")
            continue
        patterns[excluded].append(_Pattern(text, compile_pattern(text)))
    if errors:
        listed = errors[:_LISTED_ERRORS]
        if len(errors) > _LISTED_ERRORS:
            listed.append(f"and {len(errors) - _LISTED_ERRORS} more invalid entries")
        raise InvalidPatternError(
            f"productChargedContainers {_shown(raw)}: " + "; ".join(listed) + f". {_HOW_TO_FIX}"
        )
    return ChargedContainers(
        charge_all=charge_all,
        includes=_Entries(frozenset(names[False]), tuple(patterns[False])),
        excludes=_Entries(frozenset(names[True]), tuple(patterns[True])),
    )


def compile_pattern(text: str) -> _Compiled:
    """``text`` compiled by RE2 within the memory budget; ``re2.error`` when it cannot be."""
    compiled: _Compiled = re2.compile(text, _OPTIONS)
    return compiled


def pattern_problem(text: str) -> str | None:
    """Why ``text`` cannot be used as a pattern, or ``None`` when RE2 compiles it (also the
    rule of ``excludeNamespace`` items, ``namespace_scope``)."""
    if len(text) > MAX_PATTERN_LENGTH:
        return (
            f"has {len(text)} characters, more than the {MAX_PATTERN_LENGTH} allowed for one "
            "entry: shorten the pattern"
        )
    try:
        compile_pattern(text)
    except UnicodeEncodeError:
        return "is not a valid regular expression (it holds a lone surrogate, not text)"
    except re2.error as exc:
        reason = _re2_reason(exc)
        for markers, explanation in _UNSUPPORTED:
            if any(marker in text for marker in markers) and reason.startswith(
                ("invalid perl operator", "invalid escape sequence", "bad repetition operator")
            ):
                return f"is not a valid regular expression: {explanation}"
        if reason.startswith("pattern too large"):
            return (
                "is not a valid regular expression: it needs more memory than the "
                f"{MAX_PATTERN_MEMORY // 1024} KiB allowed for one pattern; use fewer or "
                "smaller repetition counts"
            )
        return f"is not a valid regular expression ({reason}; see {RE2_SYNTAX})"
    return None


def _re2_reason(error: Exception) -> str:
    """RE2's message (it comes as bytes) as text."""
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        return reason.decode("utf-8", errors="replace")
    return str(reason)


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut short when long (a value may be megabytes)."""
    if len(text) <= _SHOWN_LENGTH:
        return repr(text)
    return f"{text[:_SHOWN_LENGTH]!r}... ({len(text)} characters)"
