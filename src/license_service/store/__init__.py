"""Storage of samples, daily peaks, sampling coverage and settings history (SPEC 2.7, 5).

SQLAlchemy Core over SQLite (the embedded default) or PostgreSQL, with the schema
kept by Alembic migrations shipped in ``migrations/``. Every function takes the
caller's ``sqlalchemy.Connection``: the caller owns the transaction, so a sample,
its daily peaks and its coverage are stored together or not at all.
"""
