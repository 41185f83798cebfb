"""The one rule on text kept or shown: which characters are refused, and how they are named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_service.formats.unsafe_characters import (
    UNSAFE_CHARACTERS,
    UnsafeCharacter,
    describe_character,
    first_unsafe_character,
    unsafe_text_reason,
)

REFUSED = [
    *(chr(code) for code in range(0x00, 0x20)),  # C0, tab, line feed and carriage return included
    "\x7f",
    *(chr(code) for code in range(0x80, 0xA0)),  # C1
    "\u2028",
    "\u2029",
    *(chr(code) for code in range(0x202A, 0x202F)),  # bidirectional embeddings and overrides
    *(chr(code) for code in range(0x2066, 0x206A)),  # bidirectional isolates
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
]
KEPT = [
    "IBM WebSphere Liberty",
    '=HYPERLINK("x")',
    "Produkt Größe",
    "製品 ☃ 😀",
    "👩\u200d💻",  # a zero-width joiner inside an emoji sequence
    "\u0645\u200c\u06cc",  # a zero-width non-joiner, as Persian writes it
    "e\u0301",  # a combining mark
    "non\u00a0breaking",
    "\ufeffbom",
    "",
]


@pytest.mark.parametrize("character", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_each_refused_character_is_found_inside_a_text(character: str) -> None:
    found = first_unsafe_character(f"ab{character}cd")

    assert found == UnsafeCharacter(character, 3, 5)


@pytest.mark.parametrize("text", KEPT)
def test_names_of_any_script_joiners_and_marks_are_kept(text: str) -> None:
    assert first_unsafe_character(text) is None
    assert unsafe_text_reason(text) is None


def test_the_reason_names_the_first_character_and_its_position_never_the_text() -> None:
    reason = unsafe_text_reason("secret\x00value\n")

    assert reason is not None
    assert reason.startswith("character '\\x00' (U+0000 NULL) at position 7 of 13 cannot be")
    assert "secret" not in reason
    assert "\x00" not in reason


@pytest.mark.parametrize(
    ("character", "shown"),
    [
        ("?", "'?'"),
        ("\t", "'\\t' (U+0009 CHARACTER TABULATION)"),
        ("\x85", "'\\x85' (U+0085 NEXT LINE)"),
        ("\x01", "'\\x01' (U+0001, a control character)"),
        ("\ud800", "'\\ud800' (U+D800, a lone surrogate)"),
        ("\u202e", "'\\u202e' (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("é", "'é' (U+00E9 LATIN SMALL LETTER E WITH ACUTE)"),
    ],
)
def test_a_character_is_described_escaped_with_its_code_point(character: str, shown: str) -> None:
    assert describe_character(character) == shown


@given(st.text())
def test_the_fast_path_agrees_with_the_pattern(text: str) -> None:
    found = first_unsafe_character(text)
    match = UNSAFE_CHARACTERS.search(text)

    assert (found is None) == (match is None)
    if found is not None and match is not None:
        assert (found.character, found.position) == (match.group(), match.start() + 1)
        # The description is printable ASCII-escaped: it can go into any log line or body.
        assert first_unsafe_character(found.describe()) is None
