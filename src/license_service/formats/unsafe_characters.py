"""The characters no text kept or shown by License Service may hold, and how a refusal names one.

Pod annotations, object names and query parameters are written by people the service
does not trust (anyone who can create a pod), and the Kubernetes API accepts any text
in an annotation value. Every text that reaches the store or an output is checked
against this one rule, once, where it enters (``metering.declarations`` for
annotations, ``cluster.projections`` for names, ``web.reports.period_parameters`` for
query parameters, the CLI for ``--cluster-id``/``--cluster-name``). Refused:

- NUL (U+0000): a PostgreSQL text column cannot hold it (the whole sample failed);
- lone surrogates (U+D800-U+DFFF): not text, UTF-8 cannot encode them (SQLite, JSON,
  CSV and the zip all failed on one);
- every other control character, C0 (U+0001-U+001F: tab, line feed and carriage return
  included), DEL (U+007F) and C1 (U+0080-U+009F): they forge lines in logs and in
  ``data_condition.txt``, split CSV rows in naive readers, and HTML cannot hold them;
- the line and paragraph separators U+2028 and U+2029: line breaks to many readers;
- the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
  they reorder how a name is displayed, so a report could show another name than the
  one stored ("Trojan Source", CVE-2021-42574).

Everything else, any script, emoji, joiners and marks included, is kept as written.
Whitespace at either end of an annotation value is not part of it (the rules strip
it first), so a value written as a YAML block (``|``) with its final line feed passes.

Pure; a refusal names the character by its code point and its 1-based position and
never shows the value, which may be long or, in a query, a pasted token.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

UNSAFE_CHARACTERS: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""One character no kept or shown text may hold (see the module's docstring)."""

# Unicode gives control characters no name; these are the ones people meet.
_CONTROL_NAMES: Final = {
    "\x00": "NULL",
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x08": "BACKSPACE",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


@dataclass(frozen=True, slots=True)
class UnsafeCharacter:
    """The first refused character of a text: the character, its 1-based position, the length."""

    character: str
    position: int
    length: int

    def describe(self) -> str:
        """``character '\\x00' (U+0000 NULL) at position 4 of 9``; never the text itself."""
        return (
            f"character {describe_character(self.character)} at position {self.position} "
            f"of {self.length}"
        )


def first_unsafe_character(text: str) -> UnsafeCharacter | None:
    """The first character of ``text`` no kept or shown text may hold, or ``None``; pure."""
    # Fast path (C speed): printable ASCII holds none of them; names almost always are.
    if text.isascii() and text.isprintable():
        return None
    match = UNSAFE_CHARACTERS.search(text)
    if match is None:
        return None
    return UnsafeCharacter(match.group(), match.start() + 1, len(text))


def unsafe_text_reason(text: str) -> str | None:
    """Why ``text`` cannot be kept or shown (which character, where, and the fix), or ``None``."""
    found = first_unsafe_character(text)
    if found is None:
        return None
    return (
        f"{found.describe()} cannot be stored or shown: names, ids and metrics may not hold "
        "control characters, line separators, bidirectional controls or lone surrogates; "
        "remove it"
    )


def describe_character(character: str) -> str:
    """``character`` as a message shows it: ``'?'``, or ``'\\t' (U+0009 CHARACTER TABULATION)``."""
    shown = repr(character)
    if character.isprintable() and character != " " and character.isascii():
        return shown
    code_point = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "") or _CONTROL_NAMES.get(character, "")
    if name:
        return f"{shown} ({code_point} {name})"
    category = unicodedata.category(character)
    if category == "Cc":
        return f"{shown} ({code_point}, a control character)"
    if category == "Cs":
        return f"{shown} ({code_point}, a lone surrogate)"
    return f"{shown} ({code_point})"
