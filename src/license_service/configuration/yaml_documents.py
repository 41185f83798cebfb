"""YAML read the strict way: YAML 1.2 core types, so ``no`` stays the string ``"no"``.

PyYAML follows YAML 1.1, where ``no``, ``off`` and ``y`` are booleans, ``2:1`` is the
integer 121 (base 60) and ``010`` is octal. A setting written ``urlBasedEnabled: no``
or an annotation ``productCloudpakRatio: 2:1`` would then be read as something else
than what the author meant, silently. This loader resolves only what YAML 1.2 (and
Kubernetes' own parser for these fields) treats as typed:

- booleans: ``true`` / ``false`` (also ``True``, ``TRUE``, ...);
- null: ``null``, ``~`` or nothing;
- integers: decimal without leading zeros, or ``0x`` hexadecimal;
- floats: decimal with a point or an exponent, ``.inf``, ``.nan``;
- everything else, timestamps included, is a string.

Anchors and aliases are read, within a budget: an alias shares the node it names, so
a few lines of nested aliases (the "billion laughs") stand for billions of values,
and whatever walks the result (a message quoting it, a translation of a dump) would
exhaust memory. The values reached through aliases, counted as often as they are
reached, may not exceed ``MAX_ALIASED_VALUES`` per stream, and an alias may not name
a node that contains it (a loop). Both are refused as ``yaml.YAMLError`` naming the
line of the alias.

Callers wrap ``yaml.YAMLError`` into their own error, using ``describe_yaml_error``.
"""

from __future__ import annotations

import re
from typing import Final

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_ALIASED_VALUES: Final = 10_000
"""How many values (scalars, lists, mappings) aliases may add to one YAML stream.

Hand-written configuration reuses a few sections at most; kubectl never writes aliases.
"""


class StrictYamlLoader(yaml.SafeLoader):
    """A safe loader with the YAML 1.2 core schema's implicit types and an alias budget.

    See the module docstring for both.
    """

    # Start from no implicit types at all; the ones kept are added below.
    yaml_implicit_resolvers = {}  # noqa: RUF012 (PyYAML's class-level table)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliased_values = 0
        # Values in each finished node, counting what its aliases reach (by id(node)).
        self._sizes: dict[int, int] = {}
        # Anchors of the nodes being composed: an alias to one of them is a loop.
        self._open_anchors: set[str] = set()

    def compose_document(self) -> Node | None:
        """Compose one document; node sizes are kept per document (ids are reused after)."""
        self._sizes.clear()
        node: Node | None = super().compose_document()
        return node

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        """Compose the next node, charging an alias for every value it reaches."""
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if event.anchor in self._open_anchors:
                raise ComposerError(
                    None,
                    None,
                    f"the alias *{event.anchor} is inside the node it names, a loop without end; "
                    "write the values out instead of the alias",
                    event.start_mark,
                )
            node: Node | None = super().compose_node(parent, index)
            if node is not None:
                self._aliased_values += self._size(node)
            if self._aliased_values > MAX_ALIASED_VALUES:
                raise ComposerError(
                    None,
                    None,
                    f"the alias *{event.anchor} makes the aliases of this YAML reach more than "
                    f"{MAX_ALIASED_VALUES:,} values (an alias bomb?); write the values out "
                    "instead of anchors and aliases",
                    event.start_mark,
                )
            return node
        anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
        if anchor is None:
            return super().compose_node(parent, index)
        self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.discard(anchor)

    def _size(self, node: Node) -> int:
        """How many values ``node`` stands for, each alias counted as often as it occurs."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._size(key) + self._size(value) for key, value in node.value)
        self._sizes[id(node)] = size
        return size


StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9]+[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
StrictYamlLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def load_yaml_documents(text: str) -> list[object]:
    """Return every document of the YAML stream ``text``; raises ``yaml.YAMLError``."""
    try:
        return list(yaml.load_all(text, Loader=StrictYamlLoader))
    except RecursionError as exc:
        raise yaml.YAMLError("the YAML is nested too deeply to be read") from exc
    except (ValueError, TypeError, LookupError, AttributeError) as exc:
        # PyYAML's constructors raise these for a bad explicit tag (``!!int abc``,
        # ``!!int ""``, ``!!timestamp x``) or an integer of more than 4300 digits.
        raise yaml.YAMLError(
            f"a value does not fit its type (check explicit tags such as !!int): {exc}"
        ) from exc


def describe_yaml_error(error: yaml.YAMLError) -> str:
    """Say where and what is wrong in the YAML text, on one line (``line 3, column 5: ...``)."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if error.context and error.problem:
            problem = f"{problem} ({error.context})"
        if mark is not None:
            return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
        return problem
    return str(error).replace("\n", " ")
