"""The store fixtures (a fresh SQLite file, a fresh PostgreSQL schema) for the sender's tests."""

import pytest

from license_service.signing.keys import SigningKey
from tests.audit.conftest import TEST_KEY_FILE
from tests.store.conftest import database_url, db, postgres_url

__all__ = ["database_url", "db", "postgres_url", "signing_key"]


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """The fixed test key (RSA 3072; only ever used by tests)."""
    return SigningKey.from_pem(TEST_KEY_FILE.read_bytes())
