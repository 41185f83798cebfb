"""The rules an API token must follow (SPEC 4.3), and the generator of new tokens; pure.

A token travels in URLs (``?token=``), so it may not hold what a URL or a query
string gives a meaning to: whitespace, ``?``, ``%``, ``&``, ``#``, and ``+``
(which decodes to a space). Control and non-ASCII characters are refused too:
they are invisible or change with the encoding. Tokens under 16 characters are
refused unless forced; an empty token always. One trailing newline (``echo``,
editors and ``kubectl create secret --from-file`` add one) is not part of a token,
wherever it is kept (``strip_final_newline``).

A refusal names the first offending character (its ``repr``, and its Unicode
code point and name when it is invisible or non-ASCII) and its 1-based position,
and never the token itself: messages end up in terminals, logs and ``/health``.
"""

from __future__ import annotations

import secrets
import string
import unicodedata
from dataclasses import dataclass
from typing import Final

from license_service.errors import InvalidTokenError

MIN_LENGTH: Final = 16
GENERATED_LENGTH: Final = 24
GENERATED_ALPHABET: Final = string.ascii_letters + string.digits
_URL_CHARACTERS: Final = frozenset("?%&#")
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
}


@dataclass(frozen=True, slots=True)
class TokenProblem:
    """Why a token is refused; ``description`` never contains the token."""

    description: str
    too_short: bool = False


def token_problem(value: str, *, force: bool = False) -> TokenProblem | None:
    """Why ``value`` cannot be a token, or ``None`` when it can; ``force`` allows short tokens."""
    if not value:
        return TokenProblem("the token is empty")
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
    if len(value) < MIN_LENGTH and not force:
        return TokenProblem(
            f"the token has {len(value)} characters; at least {MIN_LENGTH} are required",
            too_short=True,
        )
    return None


def kept_token_problem(value: str) -> TokenProblem | None:
    """Why a token found where it is kept (a file, a Secret) cannot be used, or ``None``.

    Short tokens pass: ``token set --force`` may have written one on purpose.
    """
    return token_problem(value, force=True)


def check_token(value: str, *, force: bool = False) -> None:
    """Raise ``InvalidTokenError`` naming the offending character and position, if any."""
    problem = token_problem(value, force=force)
    if problem is None:
        return
    generate = f"`license-service token generate` makes a {GENERATED_LENGTH}-character token"
    if not value:
        fix = f"give a token of {MIN_LENGTH} characters or more ({generate})"
    elif problem.too_short:
        fix = "use a longer token, or force this one (--force)"
    else:
        fix = f"remove that character, or use letters and digits only ({generate})"
    raise InvalidTokenError(f"{problem.description}; {fix}")


def generate_token() -> str:
    """A new token: 24 characters of ``[A-Za-z0-9]`` from the ``secrets`` generator."""
    return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(GENERATED_LENGTH))


def strip_final_newline(text: str) -> str:
    """``text`` without one trailing ``\\n`` (or ``\\r\\n``), which is not part of a token."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def describe_character(character: str) -> str:
    """``character`` as a message shows it: ``'?'``, or ``'\\t' (U+0009 CHARACTER TABULATION)``."""
    shown = repr(character)
    if character.isprintable() and character != " " and character.isascii():
        return shown
    code_point = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "") or _CONTROL_NAMES.get(character, "")
    if name:
        return f"{shown} ({code_point} {name})"
    if unicodedata.category(character) == "Cc":
        return f"{shown} ({code_point}, a control character)"
    return f"{shown} ({code_point})"


def _refusal(character: str) -> str | None:
    """Why ``character`` may not appear in a token, or ``None`` when it may."""
    if not character.isascii():
        return "tokens must be ASCII"
    if character in string.whitespace:
        return "tokens may not contain spaces or other whitespace"
    if not character.isprintable():
        return "tokens may not contain control characters"
    if character in _URL_CHARACTERS:
        return "'?', '%', '&' and '#' have a meaning in URLs"
    if character == "+":
        return "a '+' in a query string decodes to a space"
    return None
