"""Alembic revisions, oldest first; a package so that they are installed with the wheel."""
