"""The rules an API token must follow (SPEC 4.3), and the generator of new tokens; pure.

One set of rules, applied alike by ``token set``/``token check`` before a token is
written and by the server to the token it finds kept in a file or a Secret (a token
written there by hand included): a token the server refuses, ``token set --force``
refuses too, and the server then accepts no API token and says why (fail closed).

A token travels in URLs (``?token=``), so it may not hold what a URL or a query
string gives a meaning to: whitespace, ``?``, ``%``, ``&``, ``#``, ``+`` (which
decodes to a space) and ``;`` (a parameter separator to some readers, the service's
access log included, which would log what follows it). Control and non-ASCII
characters are refused too: they are invisible or change with the encoding. A token
has ``MIN_LENGTH`` (16) to ``MAX_LENGTH`` (1,024) characters: shorter ones are
guessed too easily, longer ones do not fit in every URL. SPEC 4.3 lets a token of
``MIN_FORCED_LENGTH`` (8) to 15 characters through when forced (``--force``,
``forced=True``); nothing goes below 8. The server judges a kept token as forced,
since it may have been written with ``--force``: it uses one of 8 to 15 characters
and refuses a shorter one (a one-character token written by hand, say) (``web.middleware.
request_limits`` takes a query string of ``MAX_QUERY_BYTES``, 8 KiB, which holds the
longest token with every other parameter). One trailing newline (``echo``, editors and
``kubectl create secret --from-file`` add one) is not part of a token, wherever it is
kept (``strip_final_newline``).

A refusal names the first offending character (its ``repr``, and its Unicode
code point and name when it is invisible or non-ASCII) and its 1-based position,
or the length, and never the token itself: messages end up in terminals, logs and
``/health``.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Final

from license_service.errors import InvalidTokenError
from license_service.formats.unsafe_characters import describe_character

MIN_LENGTH: Final = 16
MIN_FORCED_LENGTH: Final = 8
"""The floor even ``--force`` does not go below."""
MAX_LENGTH: Final = 1_024
GENERATED_LENGTH: Final = 24
GENERATED_ALPHABET: Final = string.ascii_letters + string.digits
GENERATE_HINT: Final = (
    f"`license-service token generate` makes a {GENERATED_LENGTH}-character token"
)
TOKEN_FIX: Final = (
    f"use letters and digits only, {MIN_LENGTH} to {MAX_LENGTH} of them ({GENERATE_HINT})"
)
"""How to write a token that follows the rules, for every refusal."""
_URL_CHARACTERS: Final = frozenset("?%&#;")


@dataclass(frozen=True, slots=True)
class TokenProblem:
    """Why a token is refused; ``description`` never contains the token."""

    description: str


def token_problem(value: str, *, forced: bool = False) -> TokenProblem | None:
    """Why ``value`` cannot be a token, or ``None`` when it can.

    ``forced`` (``--force``, or a token already kept) accepts 8 to 15 characters.
    """
    if not value:
        return TokenProblem("the token is empty")
    if len(value) > MAX_LENGTH:
        # Said before any character is read: the value may be megabytes.
        return TokenProblem(
            f"the token has {len(value)} characters; at most {MAX_LENGTH} are allowed (a "
            "token travels in URLs)"
        )
    offending = [
        (position, character, why)
        for position, character in enumerate(value, start=1)
        if (why := _refusal(character)) is not None
    ]
    if offending:
        position, character, why = offending[0]
        more = len(offending) - 1
        others = f" (and {more} more refused character{'s' if more > 1 else ''})" if more else ""
        return TokenProblem(
            f"character {describe_character(character)} at position {position} "
            f"of {len(value)} is not allowed: {why}{others}"
        )
    if len(value) < MIN_FORCED_LENGTH:
        return TokenProblem(
            f"the token has {len(value)} characters; at least {MIN_LENGTH} are required "
            f"(at least {MIN_FORCED_LENGTH} characters, even with --force)"
        )
    if len(value) < MIN_LENGTH and not forced:
        return TokenProblem(
            f"the token has {len(value)} characters; at least {MIN_LENGTH} are required, "
            f"or --force accepts {MIN_FORCED_LENGTH} to {MIN_LENGTH - 1}"
        )
    return None


def check_token(value: str, *, forced: bool = False) -> None:
    """Raise ``InvalidTokenError`` naming the offending character and position, or the length.

    ``forced`` accepts 8 to 15 characters (``--force``).
    """
    problem = token_problem(value, forced=forced)
    if problem is None:
        return
    # An empty value has no character to remove: say what to give instead.
    fix = (
        TOKEN_FIX if value else f"give a token of {MIN_LENGTH} characters or more ({GENERATE_HINT})"
    )
    raise InvalidTokenError(f"{problem.description}; {fix}")


def generate_token() -> str:
    """A new token: 24 characters of ``[A-Za-z0-9]`` from the ``secrets`` generator."""
    return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(GENERATED_LENGTH))


def strip_final_newline(text: str) -> str:
    """``text`` without one trailing ``\\n`` (or ``\\r\\n``), which is not part of a token."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def _refusal(character: str) -> str | None:
    """Why ``character`` may not appear in a token, or ``None`` when it may."""
    if not character.isascii():
        return "tokens must be ASCII"
    if character in string.whitespace:
        return "tokens may not contain spaces or other whitespace"
    if not character.isprintable():
        return "tokens may not contain control characters"
    if character in _URL_CHARACTERS:
        return "'?', '%', '&', '#' and ';' have a meaning in URLs"
    if character == "+":
        return "a '+' in a query string decodes to a space"
    return None
