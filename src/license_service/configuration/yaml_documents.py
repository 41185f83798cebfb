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

Callers wrap ``yaml.YAMLError`` into their own error, using ``describe_yaml_error``.
"""

from __future__ import annotations

import re

import yaml


class StrictYamlLoader(yaml.SafeLoader):
    """A safe loader with the YAML 1.2 core schema's implicit types (see module docstring)."""

    # Start from no implicit types at all; the ones kept are added below.
    yaml_implicit_resolvers = {}  # noqa: RUF012 (PyYAML's class-level table)


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
