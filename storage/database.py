"""The single aiosqlite connection, transactions and migrations.

Everything specific to SQLite (pragmas, `BEGIN IMMEDIATE`, `PRAGMA user_version`, the
time encoding) is kept in this module so that a PostgreSQL backend only has to replace
it; repositories use portable SQL (`INSERT ... ON CONFLICT`, `?` placeholders).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# The on-loop connection must never wait inside SQLite for another writer's lock: the
# wait would freeze every interaction and the gateway heartbeat. It retries from the
# event loop instead, sleeping between tries, for at most this long in total.
LOOP_WRITE_PATIENCE_SECONDS = 2.0
LOOP_RETRY_FIRST_DELAY_SECONDS = 0.002
LOOP_RETRY_MAX_DELAY_SECONDS = 0.05
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


class DatabaseBusy(Exception):
    """Another connection (a backup, the sqlite3 shell, a second process) kept the write lock
    for longer than the on-loop writer waits; nothing was written."""


def _is_busy(error: BaseException) -> bool:
    # Extended result codes (SQLITE_BUSY_SNAPSHOT, ...) carry the primary code in the low byte.
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


@contextmanager
def _busy_raises_database_busy() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        if _is_busy(error):
            raise DatabaseBusy(str(error)) from error
        raise


class LoopTransaction:
    """The statements an on-loop write may run inside its open transaction. A lock conflict
    raises `DatabaseBusy` (the whole write is retried), never a per-row failure."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement; returns the affected row count."""
        with _busy_raises_database_busy():
            return self._connection.execute(sql, params).rowcount

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """One statement over many rows; returns the total affected row count."""
        with _busy_raises_database_busy():
            return self._connection.executemany(sql, rows).rowcount

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with _busy_raises_database_busy():
            return self._connection.execute(sql, params).fetchone()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Statements inside are undone together if it raises; the transaction goes on."""
        self._connection.execute("SAVEPOINT loop_row")
        try:
            yield
        except BaseException:
            self._connection.execute("ROLLBACK TO loop_row")
            self._connection.execute("RELEASE loop_row")
            raise
        self._connection.execute("RELEASE loop_row")


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
        self.loop_write_patience_seconds = LOOP_WRITE_PATIENCE_SECONDS

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
            direct.row_factory = sqlite3.Row
            for pragma in _PRAGMAS:
                direct.execute(pragma)
            # Set last: opening may wait for the lock (nothing is served yet), serving never does.
            direct.execute("PRAGMA busy_timeout = 0")
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

    async def write_on_loop(self, work: Callable[[LoopTransaction], T]) -> T:
        """Run `work` in its own transaction on the event-loop thread and commit; returns its result.

        For the hot path only. While the event loop is saturated (a lecture hall answering at
        once) aiosqlite's worker thread waits up to hundreds of milliseconds for the GIL at
        every sqlite call, because the loop thread keeps taking it back after each poll. A
        batch written here takes a few milliseconds. It holds the same write lock as the
        aiosqlite transactions, so the two connections never compete for SQLite's lock.

        Another process may still hold that lock. This connection does not wait for it
        (busy_timeout 0): the attempt is rolled back and retried after an asyncio sleep that
        lets the loop serve everything else, until `loop_write_patience_seconds` have passed;
        then `DatabaseBusy` is raised. Any failure rolls back, so the connection is never
        left inside a transaction. `work` runs again on a retry, so it must only use the
        transaction it is given."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.loop_write_patience_seconds
        delay = LOOP_RETRY_FIRST_DELAY_SECONDS
        while True:
            async with self._write_lock:
                try:
                    return self._run_on_loop(work)
                except DatabaseBusy:
                    if loop.time() + delay > give_up_at:
                        raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, LOOP_RETRY_MAX_DELAY_SECONDS)

    def _run_on_loop(self, work: Callable[[LoopTransaction], T]) -> T:
        try:
            self._direct.execute("BEGIN IMMEDIATE")
            result = work(LoopTransaction(self._direct))
            self._direct.execute("COMMIT")
        except BaseException as error:
            # A failed COMMIT leaves the transaction open; so does a failed statement.
            if self._direct.in_transaction:
                self._direct.execute("ROLLBACK")
            if _is_busy(error):
                raise DatabaseBusy(str(error)) from error
            raise
        return result

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
