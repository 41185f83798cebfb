"""Dump files as a live source: re-read when replaced, a bad file never replaces a good view."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from license_service.cluster.dump_source import DumpFileSource
from license_service.errors import InputError
from license_service.metering.cluster_view import ClusterId

DUMP = Path(__file__).parent.parent / "fixtures" / "dumps" / "cluster.json"
KUBE_SYSTEM_UID = "c87e24a7-b69a-5dcd-ac8d-571b2faabde7"
START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def dump_document() -> dict[str, Any]:
    return json.loads(DUMP.read_text())  # type: ignore[no-any-return]


def write(path: Path, text: str, *, version: int) -> Path:
    """Write ``text``; the modification time is set by ``version`` because filesystem
    timestamps are coarse and two writes in one test can otherwise share one."""
    path.write_text(text)
    stamp = 1_700_000_000 + version
    os.utime(path, (stamp, stamp))
    return path


def write_dump(path: Path, *, version: int, drop_pods: int = 0, kube_system_uid: str = "") -> Path:
    document = dump_document()
    pods = [item for item in document["items"] if item["kind"] == "Pod"]
    dropped = {pod["metadata"]["name"] for pod in pods[:drop_pods]}
    items = [item for item in document["items"] if item["metadata"]["name"] not in dropped]
    for item in items:
        if (
            kube_system_uid
            and item["kind"] == "Namespace"
            and item["metadata"]["name"] == "kube-system"
        ):
            item["metadata"]["uid"] = kube_system_uid
    document["items"] = items
    return write(path, json.dumps(document), version=version)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    return write_dump(tmp_path / "cluster.json", version=1)


def test_loading_reads_the_dump_and_names_the_cluster_by_kube_system(
    dump: Path, clock: Clock
) -> None:
    source = DumpFileSource.load([dump], clock=clock)

    state = source.current()
    assert (state.synced, state.source, state.cluster_id) == (True, "dump", KUBE_SYSTEM_UID)
    assert len(state.view.pods) == 9
    assert (state.observed_at, state.last_error) == (START, None)


def test_an_unchanged_dump_is_confirmed_as_current_at_each_check(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    clock.advance(hours=3)

    assert source.check() is False
    assert source.current().observed_at == START + timedelta(hours=3)
    assert source.current().synced is True


def test_a_replaced_dump_is_read_again(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    write_dump(dump, version=2, drop_pods=2)
    clock.advance(seconds=1)

    assert source.check() is True
    assert len(source.current().view.pods) == 7
    assert source.current().observed_at == START + timedelta(seconds=1)


def test_a_dump_replaced_by_rename_is_read_again_even_with_the_same_time_and_size(
    tmp_path: Path, dump: Path, clock: Clock
) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    replacement = write_dump(tmp_path / "new.json", version=1, drop_pods=1)
    # Same size as the original: pad the shorter text with blanks.
    text = replacement.read_text()
    write(replacement, text + " " * (dump.stat().st_size - len(text)), version=1)
    os.replace(replacement, dump)

    assert source.check() is True
    assert len(source.current().view.pods) == 8


def test_a_broken_dump_keeps_the_previous_view_and_says_why(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    write(dump, '{"kind": "List", "items": [', version=2)
    clock.advance(minutes=1)

    assert source.check() is False
    state = source.current()
    assert len(state.view.pods) == 9
    assert state.synced is True
    assert state.observed_at == START
    assert state.last_error is not None
    assert state.last_error.startswith(f"{dump}: not valid JSON: line 1")


def test_a_broken_dump_turns_the_view_stale_after_fifteen_minutes(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    write(dump, "", version=2)
    clock.advance(minutes=1)
    source.check()

    clock.advance(minutes=14)
    assert source.current().synced is True
    clock.advance(seconds=1)
    assert source.current().synced is False
    assert source.check() is False
    assert source.current().observed_at == START


def test_a_fixed_dump_is_used_again(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    write(dump, "not a dump", version=2)
    source.check()
    clock.advance(minutes=20)
    write_dump(dump, version=3, drop_pods=3)

    assert source.check() is True
    state = source.current()
    assert (state.synced, state.last_error, len(state.view.pods)) == (True, None, 6)
    assert state.observed_at == START + timedelta(minutes=20)


def test_a_deleted_dump_keeps_the_previous_view(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    dump.unlink()

    assert source.check() is False
    assert len(source.current().view.pods) == 9
    assert "no such file" in (source.current().last_error or "")


def test_a_dump_of_another_cluster_is_refused(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock)
    write_dump(dump, version=2, drop_pods=4, kube_system_uid="0000-other")

    assert source.check() is False
    state = source.current()
    assert (state.cluster_id, len(state.view.pods)) == (KUBE_SYSTEM_UID, 9)
    assert "the dump is of cluster 0000-other" in (state.last_error or "")


def test_a_pinned_cluster_id_accepts_a_dump_of_any_cluster(dump: Path, clock: Clock) -> None:
    source = DumpFileSource.load([dump], clock=clock, cluster_id=ClusterId("prod-eu"))
    write_dump(dump, version=2, drop_pods=4, kube_system_uid="0000-other")

    assert source.check() is True
    assert (source.current().cluster_id, len(source.current().view.pods)) == ("prod-eu", 5)


def test_several_dumps_are_merged_and_each_is_watched(tmp_path: Path, clock: Clock) -> None:
    document = dump_document()
    nodes = {**document, "items": [i for i in document["items"] if i["kind"] != "Pod"]}
    pods = {**document, "items": [i for i in document["items"] if i["kind"] == "Pod"]}
    first = write(tmp_path / "nodes.json", json.dumps(nodes), version=1)
    second = write(tmp_path / "pods.json", json.dumps(pods), version=1)
    source = DumpFileSource.load([first, second], clock=clock)
    assert (len(source.current().view.nodes), len(source.current().view.pods)) == (3, 9)

    write(second, json.dumps({**pods, "items": pods["items"][:2]}), version=2)

    assert source.check() is True
    assert (len(source.current().view.nodes), len(source.current().view.pods)) == (3, 2)


def test_a_missing_dump_at_load_is_an_input_error(tmp_path: Path, clock: Clock) -> None:
    with pytest.raises(InputError, match=r"missing\.json: no such file"):
        DumpFileSource.load([tmp_path / "missing.json"], clock=clock)


def test_standard_input_cannot_be_watched(clock: Clock) -> None:
    with pytest.raises(InputError, match="standard input cannot be watched"):
        DumpFileSource([Path("-")], clock=clock)


def test_a_source_never_read_is_not_synced(dump: Path, clock: Clock) -> None:
    source = DumpFileSource([dump], clock=clock)

    state = source.current()
    assert (state.synced, len(state.view.pods), state.cluster_id) == (False, 0, "unknown")
    assert source.check() is True
    assert source.current().cluster_id == KUBE_SYSTEM_UID
