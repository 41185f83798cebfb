"""Label values that every reader of the Prometheus text format reads back as they were written.

prometheus_client escapes only ``\\``, ``"`` and line feeds in label values. A
carriage return, a NUL, a Unicode line separator or a lone surrogate went out raw:
a reader with universal newlines saw a sample cut in two, and a lone surrogate
cannot even be encoded, so one pod annotation could break the whole scrape. Label
values come from annotations anyone who can create a pod writes, so they are made
printable at this edge, whatever collector produced them: ``printable_label``
writes each control character, line or paragraph separator and surrogate as a
``\\xNN`` or ``\\uNNNN`` escape, and ``PrintableLabels`` applies it to every sample
of a collector. Printable text (any script, ``<``, quotes) is kept as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

# Cc (C0, DEL, C1 controls), Zl, Zp and Cs (surrogates) code points.
_UNPRINTABLE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable_label(value: str) -> str:
    """``value`` with every control character, line separator and surrogate escaped; pure."""
    return _UNPRINTABLE.sub(_escape, value)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class PrintableLabels:
    """A collector yielding another's families with every label value made printable."""

    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    def describe(self) -> list[Metric]:
        """The families the wrapped collector describes (none if it does not describe them)."""
        describe = getattr(self._collector, "describe", None)
        return list(describe()) if describe is not None else []

    def collect(self) -> Iterator[Metric]:
        """The wrapped collector's families, label values made printable."""
        for family in self._collector.collect():
            family.samples = [
                sample
                if not any(_UNPRINTABLE.search(value) for value in sample.labels.values())
                else sample._replace(
                    labels={name: printable_label(value) for name, value in sample.labels.items()}
                )
                for sample in family.samples
            ]
            yield family
