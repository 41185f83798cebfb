"""Fixtures of the audit tests: a fresh SQLite store per test, fixed and shared signing keys.

RSA 3072 key generation takes up to a second, so tests that do not test key handling
sign with the fixed test key of ``tests/fixtures/audit/test-signing-key.pem`` (which
also makes the golden signature reproducible) and share ``other_signing_key``,
generated once per session.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from license_service.audit.snapshots import write_snapshot
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from tests.audit.snapshot_data import CONTEXT, PERIOD, store_golden_dataset

FIXTURES = Path(__file__).parent.parent / "fixtures" / "audit"
TEST_KEY_FILE = FIXTURES / "test-signing-key.pem"
GOLDEN_DIR = FIXTURES / "snapshot"


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """The fixed test key (RSA 3072; only ever used by tests)."""
    return SigningKey.from_pem(TEST_KEY_FILE.read_bytes())


@pytest.fixture(scope="session")
def other_signing_key() -> SigningKey:
    """A second key, for "signed by someone else" cases."""
    return SigningKey.generate()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated SQLite store in a file of its own."""
    database = Database.open(sqlite_url(tmp_path / "license-service.db"))
    yield database
    database.dispose()


@pytest.fixture
def golden_db(db: Database) -> Database:
    """The store holding the golden dataset of ``snapshot_data``."""
    store_golden_dataset(db)
    return db


@pytest.fixture(scope="session")
def golden_snapshot(tmp_path_factory: pytest.TempPathFactory, signing_key: SigningKey) -> bytes:
    """The snapshot of the golden dataset, built once from a store of its own."""
    directory = tmp_path_factory.mktemp("golden")
    database = Database.open(sqlite_url(directory / "license-service.db"))
    try:
        store_golden_dataset(database)
        return snapshot_bytes(database, signing_key)
    finally:
        database.dispose()


@pytest.fixture
def golden_zip(golden_snapshot: bytes, tmp_path: Path) -> Path:
    """A file of this test's own holding the golden snapshot."""
    path = tmp_path / "snapshot.zip"
    path.write_bytes(golden_snapshot)
    return path


def snapshot_bytes(db: Database, signing_key: SigningKey) -> bytes:
    """The golden-context snapshot of ``db``, in memory."""
    out = io.BytesIO()
    write_snapshot(db, context=CONTEXT, period=PERIOD, signing_key=signing_key, out=out)
    return out.getvalue()


def entries(data: bytes) -> dict[str, bytes]:
    """Every file of a zip, by name, in the zip's order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
