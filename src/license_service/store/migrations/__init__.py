"""Alembic migrations of the store; run by ``Database.open``, no ``alembic.ini`` needed."""
