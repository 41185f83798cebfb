"""Exact parsing of Kubernetes CPU quantities into integer millicores (SPEC 2.4).

No binary floating point is involved: the number is parsed as a ``Fraction`` and
a fraction of a millicore is rounded up, so ``0.0001`` counts as ``1m``. The two
spellings nearly every pod uses, whole cores (``"2"``) and whole millicores
(``"500m"``), take a shortcut through ``int`` with the same result.

A cluster repeats a few dozen limit strings over thousands of containers:
``MillicoreCache`` parses each distinct string once (for one measurement).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Final

from license_service.errors import InvalidQuantityError

_NUMBER = r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
# The Kubernetes grammar allows either an exponent or an SI suffix; the SPEC's own
# example ``1e3m`` uses both, so an exponent may be followed by a decimal SI suffix.
_QUANTITY: Final = re.compile(
    _NUMBER + r"(?:[eE](?P<exponent>[+-]?\d+))?(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)",
    re.ASCII,  # Kubernetes digits are 0-9; Python's \d would take any script's digits
)
_MAX_EXPONENT: Final = 30
# Far beyond any real quantity; bounds the work (and Python's int() refuses > 4300 digits).
MAX_QUANTITY_LENGTH: Final = 64

# Kubernetes' suffixes: decimal ones step by 1000 (n, u, m, none, k ... E), binary ones
# by 1024 (Ki ... Ei).
_SUFFIX_FACTORS: Final[dict[str, Fraction]] = {
    **{suffix: Fraction(1000) ** power for power, suffix in enumerate("num", start=-3)},
    "": Fraction(1),
    **{suffix: Fraction(1000) ** power for power, suffix in enumerate("kMGTPE", start=1)},
    **{f"{suffix}i": Fraction(1024) ** power for power, suffix in enumerate("KMGTPE", start=1)},
}


def parse_cpu_millicores(raw: str) -> int:
    """Return the quantity ``raw`` (``"2"``, ``"500m"``, ``"1.5"``) in millicores, rounded up.

    Raises ``InvalidQuantityError`` naming the value when it is not a non-negative
    Kubernetes quantity.
    """
    text = raw.strip()
    if len(text) > MAX_QUANTITY_LENGTH:
        raise InvalidQuantityError(
            f"CPU quantity {text[:MAX_QUANTITY_LENGTH]!r}... has {len(text)} characters, more than "
            f"the {MAX_QUANTITY_LENGTH} a Kubernetes quantity can need: write e.g. '2' or '500m'"
        )
    if text.isascii():
        # The common spellings, without regex or Fraction: same result, exactly.
        if text.isdigit():
            return int(text) * 1000
        if text[-1:] == "m" and text[:-1].isdigit():
            return int(text[:-1])
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise InvalidQuantityError(
            f"CPU quantity {raw!r} is not a Kubernetes quantity: write a number with an "
            "optional suffix, for example '2', '500m' or '1.5'"
        )
    cores = Fraction(match["number"]) * _SUFFIX_FACTORS[match["suffix"]]
    if match["exponent"] is not None:
        exponent = int(match["exponent"])
        if abs(exponent) > _MAX_EXPONENT:
            raise InvalidQuantityError(
                f"CPU quantity {raw!r} has exponent {exponent}, outside the range "
                f"-{_MAX_EXPONENT}..{_MAX_EXPONENT} that a CPU amount can need"
            )
        cores *= Fraction(10) ** exponent
    if cores < 0:
        raise InvalidQuantityError(
            f"CPU quantity {raw!r} is negative: a CPU limit must be zero or more"
        )
    millicores = cores * 1000
    # Fraction has no ceil of its own; -(-a // b) is the exact integer ceiling.
    return -(-millicores.numerator // millicores.denominator)


class MillicoreCache:
    """``parse_cpu_millicores`` remembering every string it saw, and the error of a bad one.

    Meant to live for one measurement (or be passed in explicitly): it is an ordinary
    object, not a global, so a pure function stays pure.
    """

    __slots__ = ("_errors", "_values")

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._errors: dict[str, str] = {}

    def parse(self, raw: str) -> int:
        """Like ``parse_cpu_millicores(raw)``; raises the same ``InvalidQuantityError``."""
        value = self._values.get(raw)
        if value is not None:
            return value
        message = self._errors.get(raw)
        if message is not None:
            raise InvalidQuantityError(message)
        try:
            value = parse_cpu_millicores(raw)
        except InvalidQuantityError as exc:
            self._errors[raw] = str(exc)
            raise
        self._values[raw] = value
        return value
