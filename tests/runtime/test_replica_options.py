"""``serve --leader-election``: the replica's identity, and the setups that cannot work."""

from __future__ import annotations

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.options import KubernetesOptions, ServeOptions, replica_identity

POSTGRES = "postgresql://licensing@db:5432/licensing"


def test_the_identity_is_the_pod_name_else_the_hostname() -> None:
    assert replica_identity({"POD_NAME": "svc-7f9-abc", "HOSTNAME": "other"}) == "svc-7f9-abc"
    assert replica_identity({"HOSTNAME": "svc-7f9-xyz"}) == "svc-7f9-xyz"
    assert replica_identity({"POD_NAME": "  "}) is None


def test_replicas_on_one_postgresql_in_a_cluster_are_accepted() -> None:
    ServeOptions(
        database_url=POSTGRES,
        kubernetes=KubernetesOptions(),
        leader_election=True,
        replica_id="svc-1",
    ).check()


@pytest.mark.parametrize(
    ("database_url", "message"),
    [
        (None, "on SQLite in --data-dir is refused: replicas cannot share a SQLite file"),
        ("sqlite:////data/license-service.db", "on a SQLite database is refused"),
    ],
    ids=["default-sqlite", "sqlite-url"],
)
def test_replicas_on_sqlite_are_refused_saying_what_to_do(
    database_url: str | None, message: str
) -> None:
    options = ServeOptions(
        database_url=database_url,
        kubernetes=KubernetesOptions(),
        leader_election=True,
        replica_id="svc-1",
    )

    with pytest.raises(ConfigurationError, match=message) as raised:
        options.check()

    assert "same --database-url postgresql://" in str(raised.value)


def test_leader_election_needs_a_live_cluster_and_an_identity() -> None:
    options = ServeOptions(database_url=POSTGRES, leader_election=True, replica_id=None)

    with pytest.raises(ConfigurationError) as raised:
        options.check()

    assert "--leader-election needs a live cluster" in str(raised.value)
    assert "set POD_NAME (or HOSTNAME)" in str(raised.value)


def test_one_replica_on_sqlite_is_unchanged() -> None:
    ServeOptions(kubernetes=KubernetesOptions()).check()
