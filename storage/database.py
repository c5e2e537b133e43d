"""The entry to storage for the rest of the bot: open the database, and the names it catches.

Today the database is always an SQLite file (`storage/sqlite/`); repositories only see the
`Database` interface of `storage/backend.py`.
"""

from __future__ import annotations

from pathlib import Path

from storage.backend import Database
from storage.errors import DatabaseBusy, DatabaseOpenError, MigrationFailed, UniqueViolation
from storage.sqlite import SqliteDatabase

__all__ = [
    "Database",
    "DatabaseBusy",
    "DatabaseOpenError",
    "MigrationFailed",
    "UniqueViolation",
    "open_database",
]


async def open_database(path: Path | str) -> Database:
    """Open the database file at `path` (not yet migrated), or raise `DatabaseOpenError`."""
    return await SqliteDatabase.open(path)
