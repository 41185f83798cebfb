"""Kept explanations (SPEC 9): a day keeps the breakdown of the first sample reaching its peak."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

import pytest
from sqlalchemy import Connection, func, select, update

from license_service.errors import StorageError
from license_service.metering.cluster_view import Container, Controller, Node, Pod
from license_service.metering.explanation_cells import (
    CellIndex,
    ExplainedRow,
    ReplayedLog,
    replay_log,
)
from license_service.metering.periods import DatePeriod
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    Contribution,
    UsageExplanation,
)
from license_service.store import explanation_cells as explanation_cells_store
from license_service.store.contribution_blobs import decode_contributions
from license_service.store.database import Database
from license_service.store.explanation_cells import forget_unreferenced, keep_cells
from license_service.store.explanation_write_out import write_out_explanations
from license_service.store.open_explanations import read_open
from license_service.store.retention import prune
from license_service.store.samples import record_sample
from license_service.store.tables import (
    explanation_cells,
    explanation_contexts,
    explanation_names,
    open_explanations,
    usage_explanations,
)
from license_service.store.usage_explanations import (
    KeptDay,
    KeptRow,
    keep_explanations,
    keep_written_out,
    kept_day,
    kept_explanations,
    peak_days,
)
from tests.store.sample_builders import (
    CLUSTER,
    INTERVAL,
    OTHER_CLUSTER,
    VPC,
    at,
    bundled,
    day,
    product,
)

ROW = ExplainedRow("", "", "db2", VPC, "")
BUNDLED = ExplainedRow("cp4d", VPC, "db2", VPC, "2:1")


def explanation(quantity: int, *, row: ExplainedRow = ROW, node: str = "n1") -> UsageExplanation:
    contributions = (
        Contribution("apps", "Deployment", "web", node, 2, 2, quantity * 1000, quantity * 1000, 70),
    )
    return UsageExplanation(row, "Db2", quantity, 1, quantity * 1000, contributions)


def pods_of(explained: UsageExplanation) -> list[Pod]:
    """Pods a sample would count into ``explained``'s contributions (one container each)."""
    row = explained.row
    annotations = {"productID": row.product_id, "productName": "Db2", "productMetric": row.metric}
    if row.cloudpak_id:
        annotations |= {
            "cloudpakId": row.cloudpak_id,
            "cloudpakName": "Cloud Pak",
            "cloudpakMetric": row.cloudpak_metric,
            "productCloudpakRatio": row.conversion,
        }
    return [
        Pod(
            namespace=c.namespace,
            name=f"{c.workload_name}-abc-{row.product_id}-{c.node}-{number}",
            node_name=c.node,
            containers=(Container("c", f"{c.charged_millicores // c.pods}m"),),
            annotations=annotations,
            controller=Controller("ReplicaSet", f"{c.workload_name}-abc", "abc"),
        )
        for c in explained.contributions
        for number in range(c.pods)
    ]


def keep(
    db: Database, when: str, *explained: UsageExplanation, cluster=CLUSTER, group=WHOLE_CLUSTER
) -> None:
    """What a sample at ``when`` raising ``explained`` keeps: their pods' cells and the rows."""
    with db.begin() as connection:
        keep_in(connection, when, *explained, cluster=cluster, group=group)


def keep_in(
    connection: Connection,
    when: str,
    *explained: UsageExplanation,
    cluster=CLUSTER,
    group=WHOLE_CLUSTER,
    kept: KeptDay | None = None,
) -> None:
    """``keep`` in ``connection``'s transaction (``kept``: the day as read in it already)."""
    nodes = {c.node: Node(c.node, "64") for e in explained for c in e.contributions}
    cells = CellIndex.of((p for e in explained for p in pods_of(e)), nodes.values()).cells()
    sample_at = at(when[:10], when[11:])
    keep_cells(
        connection,
        cluster_id=cluster,
        sample_at=sample_at,
        cells=cells,
        rows={e.row for e in explained},
        settings=MeteringSettings(),
        group_of={} if group == WHOLE_CLUSTER else {"apps": group},
    )
    keep_explanations(
        connection,
        kept=kept or kept_day(connection, cluster_id=cluster, day=day(when[:10])),
        sample_at=sample_at,
        threads_per_core=1,
        rows={group: [KeptRow(e.row, e.product_name, e.metric_quantity) for e in explained]},
    )


def read(
    db: Database,
    when: str = "2026-11-02",
    product_id: str = "db2",
    cluster=CLUSTER,
    group=WHOLE_CLUSTER,
):
    with db.read() as connection:
        return kept_explanations(
            connection,
            cluster_id=cluster,
            day=day(when),
            group_name=group,
            product_id=product_id,
            metric=VPC,
        )


def test_an_explanation_is_read_back_as_it_was_kept(db: Database) -> None:
    keep(db, "2026-11-02T10:05", explanation(3))

    (kept,) = read(db)

    assert kept.explanation == explanation(3)
    assert kept.sample_at == at("2026-11-02", "10:05")
    assert kept.day == day("2026-11-02")


def test_a_higher_quantity_replaces_the_kept_breakdown_and_a_lower_one_does_not(
    db: Database,
) -> None:
    keep(db, "2026-11-02T10:00", explanation(3, node="first"))
    keep(db, "2026-11-02T11:00", explanation(5, node="higher"))
    keep(db, "2026-11-02T12:00", explanation(4, node="lower"))

    (kept,) = read(db)

    assert kept.explanation.contributions[0].node == "higher"
    assert kept.sample_at == at("2026-11-02", "11:00")


def test_the_earliest_sample_reaching_the_peak_wins_in_any_order(db: Database) -> None:
    keep(db, "2026-11-02T14:00", explanation(5, node="later"))
    keep(db, "2026-11-02T09:00", explanation(5, node="earlier"))
    keep(db, "2026-11-02T15:00", explanation(5, node="latest"))

    (kept,) = read(db)

    assert kept.explanation.contributions[0].node == "earlier"
    with db.read() as connection:
        kept_values = kept_day(connection, cluster_id=CLUSTER, day=day("2026-11-02"))
    assert kept_values.values(WHOLE_CLUSTER) == {ROW: (5, at("2026-11-02", "09:00"))}


def test_days_clusters_and_bundled_rows_are_kept_apart(db: Database) -> None:
    keep(db, "2026-11-02T10:00", explanation(3), explanation(7, row=BUNDLED))
    keep(db, "2026-11-03T10:00", explanation(9))
    keep(db, "2026-11-02T10:00", explanation(1), cluster=OTHER_CLUSTER)

    assert [k.explanation.metric_quantity for k in read(db)] == [3, 7]
    assert [k.explanation.metric_quantity for k in read(db, "2026-11-03")] == [9]
    assert [k.explanation.metric_quantity for k in read(db, cluster=OTHER_CLUSTER)] == [1]
    assert read(db, product_id="mq") == []


def test_explanations_are_pruned_with_the_daily_peaks(db: Database) -> None:
    keep(db, "2025-01-09T23:55", explanation(1))
    keep(db, "2025-01-10T00:00", explanation(2))

    with db.begin() as connection:
        removed = prune(connection, now=at("2027-01-10", "12:00"))

    assert removed.explanations == 1
    assert read(db, "2025-01-09") == []
    assert [k.explanation.metric_quantity for k in read(db, "2025-01-10")] == [2]


def test_each_group_keeps_its_own_peak_apart_from_the_cluster_s(db: Database) -> None:
    keep(db, "2026-11-02T10:00", explanation(9))
    keep(db, "2026-11-02T10:05", explanation(4), group="finance")
    keep(db, "2026-11-02T11:00", explanation(6), group="finance")  # finance's peak rises
    keep(db, "2026-11-02T11:05", explanation(3), group="research")

    assert [k.explanation.metric_quantity for k in read(db)] == [9]
    assert [(k.explanation.metric_quantity, k.sample_at) for k in read(db, group="finance")] == [
        (6, at("2026-11-02", "11:00"))
    ]
    assert [k.explanation.metric_quantity for k in read(db, group="research")] == [3]
    with db.read() as connection:
        kept = kept_day(connection, cluster_id=CLUSTER, day=day("2026-11-02"))
    assert {name: kept.values(name) for name in (WHOLE_CLUSTER, "finance", "research")} == {
        WHOLE_CLUSTER: {ROW: (9, at("2026-11-02", "10:00"))},
        "finance": {ROW: (6, at("2026-11-02", "11:00"))},
        "research": {ROW: (3, at("2026-11-02", "11:05"))},
    }


def test_group_explanations_are_pruned_at_the_chargeback_retention(db: Database) -> None:
    # Now 2027-01-10: the last 62 days start on 2026-11-10, the last 731 on 2025-01-10.
    keep(db, "2026-11-09T23:50", explanation(1))
    keep(db, "2026-11-09T23:55", explanation(1), group="finance")
    keep(db, "2026-11-10T00:00", explanation(2), group="finance")

    with db.begin() as connection:
        removed = prune(connection, now=at("2027-01-10", "12:00"))

    assert removed.explanations == 1
    assert read(db, "2026-11-09", group="finance") == []
    assert [k.explanation.metric_quantity for k in read(db, "2026-11-10", group="finance")] == [2]
    assert [k.explanation.metric_quantity for k in read(db, "2026-11-09")] == [1]  # 731 days

    with db.begin() as connection:
        longer = prune(connection, now=at("2027-01-10", "12:00"), chargeback_days=90)
    assert longer.explanations == 0


def test_a_chargeback_retention_longer_than_the_peaks_keeps_group_explanations_longer(
    db: Database,
) -> None:
    keep(db, "2025-01-09T10:00", explanation(1))
    keep(db, "2025-01-09T10:05", explanation(2), group="finance")

    with db.begin() as connection:
        removed = prune(connection, now=at("2027-01-10", "12:00"), chargeback_days=1000)

    assert removed.explanations == 1
    assert read(db, "2025-01-09") == []
    assert [k.explanation.metric_quantity for k in read(db, "2025-01-09", group="finance")] == [2]


def test_a_damaged_blob_is_refused_in_words(db: Database) -> None:
    keep(db, "2026-11-02T10:00", explanation(3))
    with db.begin() as connection:
        write_out_explanations(connection, before=day("2026-11-03"))
        connection.execute(update(usage_explanations).values(contributions=b"not zlib"))

    with pytest.raises(StorageError, match="cannot be read"):
        read(db)
    with pytest.raises(StorageError, match="cannot be read"):
        decode_contributions(b"x\x9c\x03\x00\x00\x00\x00\x01")


def test_a_group_s_peak_day_is_read_from_the_group_s_own_daily_peaks(db: Database) -> None:
    for when, cluster_value, finance_value in (("2026-11-02", 9, 6), ("2026-11-03", 12, 2)):
        with db.begin() as connection:
            record_sample(
                connection,
                cluster_id=CLUSTER,
                taken_at=at(when, "10:00"),
                measurement=Measurement(products=(product("db2", cluster_value),)),
                interval_seconds=INTERVAL,
                groups={
                    "finance": Measurement(
                        products=(product("db2", finance_value),),
                        bundled_products=(bundled("mq", finance_value),),
                    )
                },
            )
    period = DatePeriod(day("2026-11-01"), day("2026-11-30"))

    with db.read() as connection:
        cluster = peak_days(
            connection, cluster_id=CLUSTER, period=period, product_id="db2", metric=VPC
        )
        finance = peak_days(
            connection,
            cluster_id=CLUSTER,
            period=period,
            product_id="db2",
            metric=VPC,
            group_name="finance",
        )
        nobody = peak_days(
            connection,
            cluster_id=CLUSTER,
            period=period,
            product_id="db2",
            metric=VPC,
            group_name="nobody",
        )

    assert [(p.day, p.quantity) for p in cluster[0]] == [(day("2026-11-03"), 12)]
    assert [(p.day, p.quantity) for p in finance[0]] == [(day("2026-11-02"), 6)]
    assert nobody == ([], [])


def cells_and_contexts(db: Database) -> tuple[list[object], int]:
    with db.read() as connection:
        cells = connection.execute(
            select(explanation_cells.c.sample_at).order_by(explanation_cells.c.sample_at)
        ).scalars()
        kept = list(cells)
        contexts = connection.execute(select(func.count()).select_from(explanation_contexts))
        return kept, contexts.scalar_one()


def test_the_cells_of_a_sample_whose_peak_was_raised_again_are_dropped_at_once(
    db: Database,
) -> None:
    keep(db, "2026-11-02T10:00", explanation(3, node="first"))
    keep(db, "2026-11-02T11:00", explanation(5, node="higher"))
    with db.begin() as connection:
        forget_unreferenced(connection, cluster_id=CLUSTER, day=day("2026-11-02"))

    assert cells_and_contexts(db) == ([at("2026-11-02", "11:00")], 1)
    (kept,) = read(db)
    assert kept.explanation.contributions[0].node == "higher"


def test_a_day_that_is_over_is_written_out_as_contributions_and_its_cells_dropped(
    db: Database,
) -> None:
    keep(db, "2026-11-02T10:00", explanation(3), explanation(7, row=BUNDLED))
    keep(db, "2026-11-02T10:05", explanation(4), group="finance")
    keep(db, "2026-11-03T10:00", explanation(9))
    before = [read(db), read(db, group="finance"), read(db, "2026-11-03")]

    with db.begin() as connection:
        written = write_out_explanations(connection, before=day("2026-11-03"))

    assert written == 3
    assert [read(db), read(db, group="finance"), read(db, "2026-11-03")] == before
    assert cells_and_contexts(db) == ([at("2026-11-03", "10:00")], 1)
    with db.read() as connection:
        stored = connection.execute(
            select(usage_explanations.c.day, usage_explanations.c.total_millicores).order_by(
                usage_explanations.c.day, usage_explanations.c.group_name
            )
        ).all()
        still_open = connection.execute(
            select(open_explanations.c.day, open_explanations.c.group_name)
        ).all()
    assert stored == [
        (day("2026-11-02"), 3000),
        (day("2026-11-02"), 7000),
        (day("2026-11-02"), 4000),
    ]
    assert still_open == [(day("2026-11-03"), WHOLE_CLUSTER)]  # today's: the sample's cells


def test_damaged_cells_are_refused_in_words(db: Database) -> None:
    keep(db, "2026-11-02T10:00", explanation(3))
    with db.begin() as connection:
        connection.execute(update(explanation_cells).values(cells=b"\x93\x01"))

    with pytest.raises(StorageError, match="cannot be read"):
        read(db)


def test_kept_instants_are_found_by_the_instant_as_any_statement_binds_it(db: Database) -> None:
    # Bulk inserts once wrote SQLite's instants in the driver's text: equal instants
    # compared unequal with a bound parameter.
    keep(db, "2026-11-02T10:00", explanation(3))
    with db.begin() as connection:
        write_out_explanations(connection, before=day("2026-11-03"))

    with db.read() as connection:
        found = connection.execute(
            select(func.count()).where(usage_explanations.c.sample_at == at("2026-11-02", "10:00"))
        ).scalar_one()
    assert found == 1


def test_one_index_writes_its_log_a_segment_at_a_time_and_each_sample_reads_its_length(
    db: Database,
) -> None:
    first, second = explanation(3), explanation(5, node="n2")
    index = CellIndex.of(pods_of(first), [Node("n1", "64")])
    kept_cells = []
    for when, explained in (("2026-11-02", first), ("2026-11-03", second)):
        if explained is second:  # a new node and workload pods since the first sample
            index.set_node(Node("n2", "64"))
            for one in pods_of(first):
                index.remove(one)
            index.add_all(pods_of(second))
        cells = index.cells()
        kept_cells.append(cells.log_length)
        with db.begin() as connection:
            keep_cells(
                connection,
                cluster_id=CLUSTER,
                sample_at=at(when, "10:00"),
                cells=cells,
                rows={ROW},
                settings=MeteringSettings(),
                group_of={},
            )
            keep_explanations(
                connection,
                kept=kept_day(connection, cluster_id=CLUSTER, day=day(when)),
                sample_at=at(when, "10:00"),
                threads_per_core=1,
                rows={WHOLE_CLUSTER: [KeptRow(ROW, "Db2", explained.metric_quantity)]},
            )

    assert [k.explanation for k in read(db)] == [first]
    assert [k.explanation for k in read(db, "2026-11-03")] == [second]
    with db.read() as connection:
        segments = connection.execute(
            select(explanation_names.c.start, explanation_names.c.end).order_by(
                explanation_names.c.start
            )
        ).all()
    assert segments == [(0, kept_cells[0]), (kept_cells[0], kept_cells[1])]


def test_a_log_missing_a_segment_is_refused_in_words(db: Database) -> None:
    keep(db, "2026-11-02T10:00", explanation(3))
    with db.begin() as connection:
        connection.execute(update(explanation_names).values(start=1))

    with pytest.raises(StorageError, match=r"cannot be read.*lacks entries"):
        read(db)


def test_damaged_cells_do_not_stop_the_other_days_being_written_out(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    keep(db, "2026-11-01T10:00", explanation(3))
    keep(db, "2026-11-02T10:00", explanation(4))
    with db.begin() as connection:
        connection.execute(
            update(explanation_cells)
            .where(explanation_cells.c.sample_at == at("2026-11-01", "10:00"))
            .values(cells=b"\x93\x01")
        )

    with db.begin() as connection:
        written = write_out_explanations(connection, before=day("2026-11-03"))

    assert written == 1
    assert [k.explanation for k in read(db, "2026-11-02")] == [explanation(4)]
    with pytest.raises(StorageError, match="cannot be read"):
        read(db, "2026-11-01")
    assert "left as kept" in caplog.text


def test_a_damaged_open_list_is_refused_in_words_and_the_next_sample_writes_it_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    keep(db, "2026-11-02T10:00", explanation(5))
    with db.begin() as connection:
        connection.execute(update(open_explanations).values(entries=b"\x92\x01"))

    with pytest.raises(StorageError, match="cannot be read"):
        read(db)
    keep(db, "2026-11-02T11:00", explanation(3, node="again"))  # lower: nothing to compare

    (kept,) = read(db)
    assert kept.explanation == explanation(3, node="again")
    assert "written again" in caplog.text


def test_an_explanation_written_out_at_once_is_replaced_only_by_a_better_sample(
    db: Database,
) -> None:
    with db.begin() as connection:  # a history: the day written out before any sample
        keep_written_out(
            connection,
            cluster_id=CLUSTER,
            day=day("2026-11-02"),
            group_name=WHOLE_CLUSTER,
            sample_at=at("2026-11-02", "10:00"),
            explanations=[explanation(5, node="history")],
        )
    keep(db, "2026-11-02T11:00", explanation(5, node="later"))
    keep(db, "2026-11-02T12:00", explanation(4, node="lower"))
    assert [k.explanation.contributions[0].node for k in read(db)] == ["history"]
    with db.read() as connection:
        assert read_open(connection, cluster_id=CLUSTER, day=day("2026-11-02")) == {}

    keep(db, "2026-11-02T09:00", explanation(5, node="earlier"))
    assert [(k.explanation.contributions[0].node, k.sample_at) for k in read(db)] == [
        ("earlier", at("2026-11-02", "09:00"))
    ]
    with db.begin() as connection:
        write_out_explanations(connection, before=day("2026-11-03"))
    assert [(k.explanation.contributions[0].node, k.sample_at) for k in read(db)] == [
        ("earlier", at("2026-11-02", "09:00"))
    ]
    assert cells_and_contexts(db) == ([], 0)


@pytest.mark.postgres
def test_two_writers_of_one_day_on_postgresql_keep_both_rows(postgres_url: str) -> None:
    # Each decides from the day's list as it reads it: without the lock the second
    # would write the list it read before the first committed, losing the first's row.
    db = Database.open(postgres_url)
    other = explanation(2, row=BUNDLED)
    second_read = threading.Event()
    try:
        with db.begin() as connection:
            kept = kept_day(connection, cluster_id=CLUSTER, day=day("2026-11-02"))

            def second_writer() -> None:
                second_read.set()
                keep(db, "2026-11-02T10:05", other)

            thread = threading.Thread(target=second_writer)
            thread.start()
            second_read.wait(5)
            time.sleep(0.3)  # the second writer is at the lock (or, without it, past it)
            keep_in(connection, "2026-11-02T10:00", explanation(3), kept=kept)
        thread.join(10)

        assert [k.explanation.metric_quantity for k in read(db)] == [3, 2]
    finally:
        db.dispose()


@pytest.mark.postgres
def test_a_late_sample_of_a_day_being_written_out_on_postgresql_is_not_lost(
    postgres_url: str,
) -> None:
    # Without the lock the write-out would read the day's list before the late sample
    # commits and then delete it, the late sample's row with it.
    db = Database.open(postgres_url)
    late = explanation(2, row=BUNDLED)
    try:
        keep(db, "2026-11-02T10:00", explanation(3))
        written: list[int] = []
        with db.begin() as connection:
            keep_in(connection, "2026-11-02T10:05", late)

            def write_out() -> None:
                with db.begin() as other:
                    written.append(write_out_explanations(other, before=day("2026-11-03")))

            thread = threading.Thread(target=write_out)
            thread.start()
            time.sleep(0.5)  # the write-out is at the lock (or, without it, past its read)
        thread.join(10)

        assert written == [2]
        assert [k.explanation.metric_quantity for k in read(db)] == [3, 2]
        with db.read() as connection:
            assert read_open(connection, cluster_id=CLUSTER, day=day("2026-11-02")) == {}
    finally:
        db.dispose()


def test_the_rows_of_one_sample_read_one_after_the_other_replay_its_log_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep(db, "2026-11-02T10:00", explanation(3), explanation(7, row=BUNDLED))
    replays: list[int] = []

    def counted_replay(entries: Iterable[Sequence[str | None]]) -> ReplayedLog:
        replays.append(len(entries))
        return replay_log(entries)

    monkeypatch.setattr(explanation_cells_store, "replay_log", counted_replay)

    assert [k.explanation for k in read(db)] == [explanation(3), explanation(7, row=BUNDLED)]
    assert [k.explanation for k in read(db)] == [explanation(3), explanation(7, row=BUNDLED)]
    assert len(replays) == 1
