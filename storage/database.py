"""The single aiosqlite connection, transactions and migrations.

Everything specific to SQLite (pragmas, `BEGIN IMMEDIATE`, `PRAGMA user_version`, the
time encoding) is kept in this module so that a PostgreSQL backend only has to replace
it; repositories use portable SQL (`INSERT ... ON CONFLICT`, `?` placeholders).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
MIGRATIONS_PACKAGE = "storage.migrations"

Row = sqlite3.Row
T = TypeVar("T")

_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    # FULL: a committed write (an acknowledged /here) survives a power loss, not only a
    # crash of the bot. Hot paths batch their commits so the fsync is paid once per batch.
    "PRAGMA synchronous = FULL",
)


def encode_time(moment: datetime) -> str:
    """Store instants as fixed-width UTC ISO-8601 text, so `<=` in SQL orders them correctly."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def decode_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def from_row(cls: type[T], row: Row, *, times: tuple[str, ...] = ()) -> T:
    """Build a frozen dataclass from a row whose column names match its fields; `times`
    names the columns stored as encoded instants."""
    values = {field.name: row[field.name] for field in fields(cls)}  # type: ignore[arg-type]
    for name in times:
        values[name] = decode_time(values[name])
    return cls(**values)


def _split_statements(script: str) -> list[str]:
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")
    return statements


def load_migrations() -> list[tuple[int, str, str]]:
    """Numbered `.sql` files of `storage/migrations`, as (version, name, script) in order."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration numbers must run 1..n without gaps, found {versions}")
    return found


class DatabaseOpenError(Exception):
    """The database file cannot be opened or is not an SQLite database; nothing is left open."""

    def __init__(self, path: Path, reason: str, *, not_a_database: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        # The file opened but holds something else (a text file, an encrypted database).
        self.not_a_database = not_a_database


class Database:
    """One connection per process. Writers serialise on an asyncio lock around `BEGIN IMMEDIATE`."""

    def __init__(self, connection: aiosqlite.Connection, direct: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self._direct = direct
        self._write_lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open both connections on `path`, or raise `DatabaseOpenError` with nothing left open."""
        path = Path(path)
        if str(path) == ":memory:":
            # Each connection would get its own private in-memory database.
            raise DatabaseOpenError(path, "an in-memory database cannot be shared by the bot's two connections")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseOpenError(path, f"cannot create its folder: {error.strerror or error}") from None
        connection: aiosqlite.Connection | None = None
        direct: sqlite3.Connection | None = None
        try:
            # isolation_level=None: transactions are opened explicitly, never implicitly by sqlite3.
            connection = await aiosqlite.connect(path, isolation_level=None)
            connection.row_factory = sqlite3.Row
            for pragma in _PRAGMAS:
                await connection.execute(pragma)
            direct = sqlite3.connect(path, isolation_level=None)
            for pragma in _PRAGMAS:
                direct.execute(pragma)
        except sqlite3.Error as error:
            # A half-open aiosqlite connection keeps its worker thread, and with it the process, alive.
            if direct is not None:
                direct.close()
            if connection is not None:
                await connection.close()
            not_a_database = getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB
            raise DatabaseOpenError(path, str(error), not_a_database=not_a_database) from None
        return cls(connection, direct, path)

    async def close(self) -> None:
        async with self._write_lock:
            try:
                await self._connection.close()
            finally:
                self._direct.close()

    async def schema_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply every migration newer than `user_version`, all in one transaction."""
        current = await self.schema_version()
        pending = [m for m in load_migrations() if m[0] > current]
        if not pending:
            return current
        async with self.transaction() as connection:
            for version, name, script in pending:
                log.info("Applying migration %s", name)
                for statement in _split_statements(script):
                    await connection.execute(statement)
                # PRAGMA takes no placeholders; the version is an int read from a file name.
                await connection.execute(f"PRAGMA user_version = {int(version)}")
        return pending[-1][0]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction; rules that span statements run inside one of these."""
        async with self._write_lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            else:
                await self._connection.execute("COMMIT")

    async def write_many_on_loop(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement over many rows in its own transaction, run on the event-loop thread.

        For the hot path only. While the event loop is saturated (a lecture hall answering at
        once) aiosqlite's worker thread waits up to hundreds of milliseconds for the GIL at
        every sqlite call, because the loop thread keeps taking it back after each poll. A
        batch written here takes a few milliseconds. It holds the same write lock as the
        aiosqlite transactions, so the two connections never compete for SQLite's lock."""
        async with self._write_lock:
            self._direct.execute("BEGIN IMMEDIATE")
            try:
                self._direct.executemany(sql, rows)
            except BaseException:
                self._direct.execute("ROLLBACK")
                raise
            self._direct.execute("COMMIT")

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns the affected row count."""
        async with self.transaction() as connection:
            cursor = await connection.execute(sql, params)
            return cursor.rowcount

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())
