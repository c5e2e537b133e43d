"""The entry to storage for the rest of the bot: open the database, and the names it catches.

A PostgreSQL URL (`postgresql://...` or `postgres://...`) opens PostgreSQL (`storage/postgres/`);
anything else is the path of an SQLite file (`storage/sqlite/`). Repositories only see the
`Database` interface of `storage/backend.py`.
"""

from __future__ import annotations

from pathlib import Path

from storage.backend import Database
from storage.errors import DatabaseBusy, DatabaseOpenError, MigrationFailed, UniqueViolation
from storage.postgres import PostgresDatabase, is_postgres_url
from storage.sqlite import SqliteDatabase

__all__ = [
    "Database",
    "DatabaseBusy",
    "DatabaseOpenError",
    "MigrationFailed",
    "UniqueViolation",
    "open_database",
]


async def open_database(location: Path | str) -> Database:
    """Open the database at `location` (not yet migrated), or raise `DatabaseOpenError`:
    a PostgreSQL URL, or the path of an SQLite file."""
    if is_postgres_url(location):
        return await PostgresDatabase.open(str(location))
    return await SqliteDatabase.open(location)
