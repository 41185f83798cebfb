"""Which containers of a pod are charged: the ``productChargedContainers`` rules (SPEC 2.3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from license_service.errors import InvalidPatternError

_REGEX_METACHARACTERS: Final = frozenset("*+?[(|^$\\")
_SEPARATORS: Final = re.compile(r"[,;]")


@dataclass(frozen=True, slots=True)
class _Entry:
    text: str
    pattern: re.Pattern[str] | None  # None: an exact container name

    def matches(self, name: str) -> bool:
        if self.pattern is None:
            return name == self.text
        return self.pattern.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class ChargedContainers:
    """A parsed ``productChargedContainers`` value; ``charges(name)`` applies it."""

    charge_all: bool
    includes: tuple[_Entry, ...] = ()
    excludes: tuple[_Entry, ...] = ()

    def charges(self, container_name: str) -> bool:
        """Return whether the container named ``container_name`` is charged."""
        if any(entry.matches(container_name) for entry in self.excludes):
            return False
        if self.charge_all:
            return True
        if not self.includes:
            # Only exclusions: every container that no exclusion matched.
            return bool(self.excludes)
        return any(entry.matches(container_name) for entry in self.includes)


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
    includes: list[_Entry] = []
    excludes: list[_Entry] = []
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
        try:
            entry = _entry(text)
        except re.error as exc:
            errors.append(f"entry {position} {text!r} is not a valid regular expression ({exc})")
            continue
        (excludes if excluded else includes).append(entry)
    if errors:
        raise InvalidPatternError(
            f"productChargedContainers {raw!r}: "
            + "; ".join(errors)
            + ". Use container names or regular expressions separated by ',' or ';'"
        )
    return ChargedContainers(
        charge_all=charge_all, includes=tuple(includes), excludes=tuple(excludes)
    )


def _entry(text: str) -> _Entry:
    if _REGEX_METACHARACTERS.isdisjoint(text):
        return _Entry(text, None)
    return _Entry(text, re.compile(text))
