"""Comparing a presented token with an accepted one in time that tells nothing about either.

``hmac.compare_digest`` takes the same time for any two inputs of equal length, but
returns at once when the lengths differ, so compared raw it would tell an attacker
the token's length. Both values are hashed first (SHA-256): the comparison always
runs over two 32-byte digests, whatever was presented (nothing, or 100,000
characters) and however much of it matches the token. Pure.
"""

from __future__ import annotations

import hashlib
import hmac


def token_digest(value: str) -> bytes:
    """The SHA-256 digest of ``value`` as UTF-8 (lone surrogates kept, never an error)."""
    return hashlib.sha256(value.encode("utf-8", errors="surrogatepass")).digest()


def same_token(presented: str, accepted: str) -> bool:
    """Whether ``presented`` equals ``accepted``, compared in constant time on their digests."""
    return hmac.compare_digest(token_digest(presented), token_digest(accepted))


def any_same_token(presented: list[str], accepted: tuple[str, ...]) -> bool:
    """Whether any presented value equals any accepted token, compared in constant time.

    Every pair is compared even after a match (``same_token``: fixed-length digests).
    """
    matched = False
    for candidate in presented:
        for token in accepted:
            matched |= same_token(candidate, token)
    return matched
