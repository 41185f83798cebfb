"""YAML alias bombs and huge values: refused in milliseconds, with a short message.

A few lines of nested aliases stand for billions of values ("billion laughs"): before
the budget, ``measure --config`` of such a file grew to 5.5 GB of memory while building
its error message. Every place that reads YAML (``--config`` of ``serve``/``measure``,
dump files) goes through ``load_yaml_documents``, whose alias budget refuses the file;
the refusal and every other message quote a value cut to a bounded length.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import pytest

from license_service.cluster.dumps import parse_dump
from license_service.configuration.config_file import parse_licensing_yaml
from license_service.configuration.yaml_documents import MAX_ALIASED_VALUES
from license_service.errors import ConfigurationError, InputError
from license_service.message_values import MAX_QUOTED

FIXTURES: Final = Path(__file__).parents[1] / "fixtures"
MEMORY_LIMIT: Final = 1024 * 1024 * 1024
"""Address space given to the CLI under attack: the bomb needed over 5 GiB."""
MESSAGE_LIMIT: Final = 2_000


def laughs(levels: int, *, under: str) -> str:
    """An IBMLicensing document whose ``under`` value is 9**levels values through aliases."""
    lines = [
        "apiVersion: operator.ibm.com/v1alpha1",
        "kind: IBMLicensing",
        "metadata: {name: instance}",
        'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines += ["spec:", f"  {under}: *a{levels - 1}"]
    return "\n".join(lines) + "\n"


def run_measure_limited(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``license-service measure`` under a 1 GiB address-space limit."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "license_service", "measure", *arguments],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,  # only sets a limit: safe before exec
    )


@pytest.mark.parametrize("under", ["instanceNamespace", "logLevel", "features"])
def test_a_billion_laughs_in_the_configuration_is_refused_at_once(under: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigurationError) as raised:
        parse_licensing_yaml(laughs(10, under=under), source="bomb.yaml")

    assert time.monotonic() - started < 1
    message = str(raised.value)
    assert message.startswith("bomb.yaml: not valid YAML: line ")
    assert f"more than {MAX_ALIASED_VALUES:,} values" in message
    assert "write the values out" in message
    assert len(message) < MESSAGE_LIMIT


def test_measure_with_an_alias_bomb_config_exits_2_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(laughs(12, under="instanceNamespace"))

    started = time.monotonic()
    finished = run_measure_limited("--config", str(bomb), str(FIXTURES / "dumps/cluster.json"))

    assert finished.returncode == 2, finished.stderr
    assert time.monotonic() - started < 30
    assert "alias" in finished.stderr
    assert len(finished.stderr) < MESSAGE_LIMIT
    assert "Traceback" not in finished.stderr


def test_a_bomb_just_under_the_budget_still_gives_a_short_message() -> None:
    # 1,729 values through aliases: within the budget, so the document is read and
    # refused for its type, quoting only the start of the 729 strings.
    with pytest.raises(ConfigurationError) as raised:
        parse_licensing_yaml(laughs(3, under="instanceNamespace"), source="config.yaml")

    message = str(raised.value)
    assert "spec.instanceNamespace: a list [[['lol', 'lol', 'lol', 'lol', ...], " in message
    assert len(message) < MESSAGE_LIMIT


def test_an_alias_bomb_in_a_yaml_dump_is_refused() -> None:
    levels = ["kind: PodList", "apiVersion: v1", "x0: &x0 [{a: 1}, {a: 1}, {a: 1}, {a: 1}]"]
    for level in range(1, 12):
        levels.append(f"x{level}: &x{level} [{', '.join([f'*x{level - 1}'] * 4)}]")
    levels.append("items: *x11")

    with pytest.raises(
        InputError, match=r"dump\.yaml: not valid YAML: line 8, column 15: the alias \*x4 "
    ):
        parse_dump("\n".join(levels) + "\n", source="dump.yaml")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("spec: {logLevel: VALUE}", "spec.logLevel: "),
        ("spec: {instanceNamespace: [VALUE]}", "spec.instanceNamespace: a list ["),
        ("metadata: {name: VALUE}\nspec: {logLevel: 7}", "IBMLicensing 'xxx"),
        # An explicit key (?): a plain one is limited to 1,024 characters.
        ("spec:\n  ? VALUE\n  : 1", "ignored 1 unknown field: spec.xxx"),
    ],
)
def test_a_one_megabyte_value_is_quoted_cut_to_its_start_and_length(
    document: str, expected: str
) -> None:
    huge = "x" * 1_000_000
    text = "apiVersion: operator.ibm.com/v1alpha1\nkind: IBMLicensing\n" + document.replace(
        "VALUE", huge
    )
    if "unknown" in expected:
        [message] = parse_licensing_yaml(text, source="config.yaml").warnings
    else:
        with pytest.raises(ConfigurationError) as raised:
            parse_licensing_yaml(text, source="config.yaml")
        message = str(raised.value)

    assert expected in message
    assert len(message) < 2 * MAX_QUOTED + 300


def test_a_one_megabyte_name_in_a_dump_is_quoted_cut() -> None:
    huge = "p" * 1_000_000
    text = '{"kind": "PodList", "items": [{"kind": "Pod", "metadata": {"name": "' + huge + '"}}]}'

    with pytest.raises(InputError) as raised:
        parse_dump(text, source="dump.json")

    assert "(1,000,000 characters)" in str(raised.value)
    assert len(str(raised.value)) < 2 * MAX_QUOTED + 300
