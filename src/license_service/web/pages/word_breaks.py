"""Where a long name may break across lines on a page, so it never breaks mid-word; pure.

Metric names are words joined by ``_`` (``VIRTUAL_PROCESSOR_CORE``), which browsers do
not break at: in a narrow table they were cut anywhere (``VIRTUAL_PROCES SOR_CORE``).
``word_parts`` cuts a name after each ``_``; the template joins the parts with
``<wbr>``, the only places the cell may then break. A part longer than ``longest``
characters (a name from an annotation can be anything) is cut every ``longest``
characters, so no cell pushes its table past the page's edge.
"""

from __future__ import annotations

import re
from typing import Final

LONGEST_PART: Final = 24
_AFTER_UNDERSCORE: Final = re.compile(r"(?<=_)")


def word_parts(text: object, longest: int = LONGEST_PART) -> list[str]:
    """``text`` cut after each ``_`` and within runs over ``longest`` characters."""
    parts: list[str] = []
    for piece in _AFTER_UNDERSCORE.split(str(text)):
        parts += [piece[at : at + longest] for at in range(0, len(piece), longest)]
    return parts
