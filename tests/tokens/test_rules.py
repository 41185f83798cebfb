"""The SPEC 4.3 token rules: each refused character named with its position, never the token."""

from __future__ import annotations

import string

import pytest

from license_service.errors import ConfigurationError, InvalidTokenError
from license_service.tokens.rules import (
    GENERATED_LENGTH,
    MAX_LENGTH,
    MIN_FORCED_LENGTH,
    MIN_LENGTH,
    check_token,
    generate_token,
    token_problem,
)

GOOD = "Zq7mW2xK9pL4vR8t"  # 16 letters and digits


@pytest.mark.parametrize(
    ("token", "shown", "position"),
    [
        ("abc def0123456789", "' ' (U+0020 SPACE)", 4),
        ("abcdef?0123456789", "'?'", 7),
        ("%abcdef0123456789", "'%'", 1),
        ("abcdef0123456789&", "'&'", 17),
        ("abcdef01#23456789", "'#'", 9),
        ("abcdef0+123456789", "'+'", 8),
        ("abcdef0123456789\t", "'\\t' (U+0009 CHARACTER TABULATION)", 17),
        ("ab\ncdef0123456789", "'\\n' (U+000A LINE FEED)", 3),
        ("abcdef0123456789\r", "'\\r' (U+000D CARRIAGE RETURN)", 17),
        ("abc\x00def0123456789", "'\\x00' (U+0000 NULL)", 4),
        ("abc\x07def0123456789", "'\\x07' (U+0007, a control character)", 4),
        ("abc\x7fdef0123456789", "'\\x7f' (U+007F DELETE)", 4),
        ("abcdé0123456789xyz", "'é' (U+00E9 LATIN SMALL LETTER E WITH ACUTE)", 5),
        ("abc\u200bdef0123456789", "'\\u200b' (U+200B ZERO WIDTH SPACE)", 4),
        ("abc\u00a0def0123456789", "'\\xa0' (U+00A0 NO-BREAK SPACE)", 4),
    ],
    ids=[
        "space",
        "question-mark",
        "percent",
        "ampersand",
        "hash",
        "plus",
        "tab",
        "newline",
        "carriage-return",
        "nul",
        "bell",
        "delete",
        "non-ascii-letter",
        "zero-width-space",
        "no-break-space",
    ],
)
def test_a_refused_character_is_named_with_its_one_based_position(
    token: str, shown: str, position: int
) -> None:
    with pytest.raises(InvalidTokenError) as refused:
        check_token(token)

    message = str(refused.value)
    assert f"character {shown} at position {position} of {len(token)}" in message
    assert token not in message


def test_the_message_tells_how_to_fix_a_refused_character() -> None:
    with pytest.raises(InvalidTokenError, match="letters and digits only"):
        check_token("abc def0123456789")


def test_only_the_first_refused_character_is_named_and_the_others_counted() -> None:
    problem = token_problem("a b?c&d0123456789")

    assert problem is not None
    assert problem.description.startswith("character ' ' (U+0020 SPACE) at position 2 ")
    assert problem.description.endswith("(and 2 more refused characters)")


def test_the_message_never_holds_the_secret_part_of_the_token() -> None:
    secret = "s3cretPart0fT0ken"

    with pytest.raises(InvalidTokenError) as refused:
        check_token(f"{secret} x")

    assert secret not in str(refused.value)


def test_a_short_token_is_refused_saying_how_to_make_one() -> None:
    # Unless forced (SPEC 4.3): 8 to 15 characters need --force.
    with pytest.raises(
        InvalidTokenError, match=r"has 15 characters; at least 16.*license-service token generate"
    ):
        check_token(GOOD[:15])
    with pytest.raises(InvalidTokenError, match=r"or --force accepts 8 to 15"):
        check_token(GOOD[:15])
    check_token(GOOD)


def test_force_accepts_8_to_15_characters_and_never_fewer() -> None:
    # SPEC 4.3 "unless forced"; issue 11.7: a floor nothing goes below (the server's too).
    assert (MIN_LENGTH, MIN_FORCED_LENGTH) == (16, 8)
    check_token(GOOD[:15], forced=True)
    check_token(GOOD[:MIN_FORCED_LENGTH], forced=True)
    with pytest.raises(
        InvalidTokenError, match=r"has 7 characters; .*at least 8 characters, even with --force"
    ):
        check_token(GOOD[:7], forced=True)
    with pytest.raises(InvalidTokenError, match="even with --force"):
        check_token(GOOD[:1], forced=True)
    assert token_problem(GOOD[:7], forced=False) == token_problem(GOOD[:7], forced=True)


def test_force_changes_nothing_but_the_minimum_length() -> None:
    with pytest.raises(InvalidTokenError, match="at most 1024"):
        check_token("a" * (MAX_LENGTH + 1), forced=True)
    with pytest.raises(InvalidTokenError, match="character ';' at position 5"):
        check_token("abcd;efgh", forced=True)


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(InvalidTokenError, match="the token is empty"):
        check_token("")


def test_an_empty_token_is_told_to_be_given_not_to_lose_a_character() -> None:
    with pytest.raises(InvalidTokenError) as refused:
        check_token("")

    assert str(refused.value) == (
        "the token is empty; give a token of 16 characters or more (`license-service token "
        "generate` makes a 24-character token)"
    )


def test_a_refused_character_is_named_before_the_length() -> None:
    with pytest.raises(InvalidTokenError, match="position 2"):
        check_token("a?")


@pytest.mark.parametrize("length", [MAX_LENGTH + 1, 9_000, 200_000])
def test_a_token_too_long_for_a_url_is_refused_naming_the_maximum(length: int) -> None:
    with pytest.raises(InvalidTokenError, match=rf"has {length} characters; at most 1024"):
        check_token("a" * length)
    check_token("a" * MAX_LENGTH)


def test_a_semicolon_is_refused_as_a_query_string_separator() -> None:
    # The access log splits the query at ';': what followed it was logged in clear.
    problem = token_problem("abcdefgh;ijklmnopq")

    assert problem is not None
    assert "character ';' at position 9" in problem.description


@pytest.mark.parametrize(
    "token", [GOOD, "a" * MIN_LENGTH, "A-b_c.d~e/f=g:h@i!j*k", "x" * 500], ids=str
)
def test_letters_digits_and_other_printable_ascii_are_accepted(token: str) -> None:
    assert token_problem(token) is None
    check_token(token)


def test_a_refused_token_is_also_a_configuration_error_for_exit_codes() -> None:
    with pytest.raises(ConfigurationError):
        check_token("a b" * 10)


def test_generated_tokens_are_24_letters_and_digits_that_pass_the_rules() -> None:
    tokens = [generate_token() for _ in range(200)]

    for token in tokens:
        assert len(token) == GENERATED_LENGTH == 24
        assert set(token) <= set(string.ascii_letters + string.digits)
        check_token(token)


def test_generated_tokens_differ() -> None:
    assert len({generate_token() for _ in range(200)}) == 200
