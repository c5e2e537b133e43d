"""SQLite behind the `storage.backend.Database` interface: pragmas, transactions, migrations,
the time encoding, the error mapping and the hot path's on-loop batch write.

One process, one database file, and two connections to it, which is the one exception to "one
connection": an aiosqlite connection (its own thread) for every ordinary read and write, and a
plain sqlite3 connection used on the event-loop thread for the hot path's batch write alone
(`write_batch`, see `storage/group_commit.py` for why). Both take the same asyncio write lock
around `BEGIN IMMEDIATE`, so they never compete for SQLite's own lock.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.backend import Row
from storage.errors import DatabaseBusy, DatabaseOpenError, MigrationFailed, UniqueViolation
from storage.migrations import load_migrations

log = logging.getLogger(__name__)

DIALECT = "sqlite"
BUSY_TIMEOUT_MS = 5000
# The on-loop connection must never wait inside SQLite for another writer's lock: the
# wait would freeze every interaction and the gateway heartbeat. It retries from the
# event loop instead, sleeping between tries, for at most this long in total.
LOOP_WRITE_PATIENCE_SECONDS = 2.0
LOOP_RETRY_FIRST_DELAY_SECONDS = 0.002
LOOP_RETRY_MAX_DELAY_SECONDS = 0.05

T = TypeVar("T")

_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    # FULL: a committed write (an acknowledged /here) survives a power loss, not only a
    # crash of the bot. Hot paths batch their commits so the fsync is paid once per batch.
    "PRAGMA synchronous = FULL",
)
_UNIQUE_FAILURES = (sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)


def encode_instant(moment: datetime) -> str:
    """SQLite has no time type: instants are fixed-width UTC ISO-8601 text, so `<=` in SQL
    orders them correctly (`storage.rows.instant` reads them back)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# sqlite3 adapters are process-wide: every connection in the process (aiosqlite's included)
# binds a datetime parameter through this, in the format every existing database holds.
sqlite3.register_adapter(datetime, encode_instant)


def _is_busy(error: BaseException) -> bool:
    # Extended result codes (SQLITE_BUSY_SNAPSHOT, ...) carry the primary code in the low byte.
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _unique_violation(error: sqlite3.IntegrityError) -> Exception:
    if error.sqlite_errorcode in _UNIQUE_FAILURES:
        return UniqueViolation(str(error))
    return error


def _on_loop_error(error: sqlite3.Error) -> Exception:
    if isinstance(error, sqlite3.IntegrityError):
        return _unique_violation(error)
    if _is_busy(error):
        return DatabaseBusy(str(error))
    return error


class _OnLoopTransaction:
    """The batch write's transaction on the plain connection. Its methods are coroutines only to
    match `Transaction`: each statement runs right away on the loop thread. A lock conflict
    raises `DatabaseBusy` (the whole batch is retried), never a per-row failure."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._connection.execute(sql, params).rowcount
        except sqlite3.Error as error:
            raise _on_loop_error(error) from error

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        try:
            return self._connection.executemany(sql, rows).rowcount
        except sqlite3.Error as error:
            raise _on_loop_error(error) from error

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            return self._connection.execute(sql, params).fetchone()
        except sqlite3.Error as error:
            raise _on_loop_error(error) from error

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._connection.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise _on_loop_error(error) from error

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        self._connection.execute("SAVEPOINT batch_row")
        try:
            yield
        except BaseException:
            self._connection.execute("ROLLBACK TO batch_row")
            self._connection.execute("RELEASE batch_row")
            raise
        self._connection.execute("RELEASE batch_row")


class _ThreadTransaction:
    """A transaction on the aiosqlite connection, whose statements run on its worker thread."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            cursor = await self._connection.execute(sql, params)
        except sqlite3.IntegrityError as error:
            raise _unique_violation(error) from error
        return cursor.rowcount

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        try:
            cursor = await self._connection.executemany(sql, rows)
        except sqlite3.IntegrityError as error:
            raise _unique_violation(error) from error
        return cursor.rowcount

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            async with self._connection.execute(sql, params) as cursor:
                return await cursor.fetchone()
        except sqlite3.IntegrityError as error:
            raise _unique_violation(error) from error

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            async with self._connection.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.IntegrityError as error:
            raise _unique_violation(error) from error

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        await self._connection.execute("SAVEPOINT transaction_step")
        try:
            yield
        except BaseException:
            await self._connection.execute("ROLLBACK TO transaction_step")
            await self._connection.execute("RELEASE transaction_step")
            raise
        await self._connection.execute("RELEASE transaction_step")


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


class SqliteDatabase:
    """One database file in WAL mode. Writers serialise on an asyncio lock around `BEGIN IMMEDIATE`."""

    def __init__(self, connection: aiosqlite.Connection, direct: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self._direct = direct
        self._write_lock = asyncio.Lock()
        self.path = path
        self.loop_write_patience_seconds = LOOP_WRITE_PATIENCE_SECONDS

    @classmethod
    async def open(cls, path: Path | str) -> SqliteDatabase:
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
        return int(await self.fetch_value("PRAGMA user_version") or 0)

    async def migrate(self) -> int:
        """Apply every migration of `storage/migrations/sqlite/` newer than `PRAGMA user_version`,
        all in one transaction, recording the version reached in `user_version`."""
        try:
            current = await self.schema_version()
            pending = [migration for migration in load_migrations(DIALECT) if migration[0] > current]
            if not pending:
                return current
            async with self.transaction() as transaction:
                for version, name, script in pending:
                    log.info("Applying migration %s", name)
                    for statement in _split_statements(script):
                        await transaction.execute(statement)
                    # PRAGMA takes no placeholders; the version is an int read from a file name.
                    await transaction.execute(f"PRAGMA user_version = {int(version)}")
        except (sqlite3.Error, UniqueViolation) as error:
            raise MigrationFailed(str(error)) from error
        return pending[-1][0]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_ThreadTransaction]:
        async with self._write_lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield _ThreadTransaction(self._connection)
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            else:
                await self._connection.execute("COMMIT")

    async def write_batch(self, work: Callable[[_OnLoopTransaction], Awaitable[T]]) -> T:
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
        left inside a transaction."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.loop_write_patience_seconds
        delay = LOOP_RETRY_FIRST_DELAY_SECONDS
        while True:
            async with self._write_lock:
                try:
                    return await self._write_on_loop(work)
                except DatabaseBusy:
                    if loop.time() + delay > give_up_at:
                        raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, LOOP_RETRY_MAX_DELAY_SECONDS)

    async def _write_on_loop(self, work: Callable[[_OnLoopTransaction], Awaitable[T]]) -> T:
        try:
            self._direct.execute("BEGIN IMMEDIATE")
            result = await work(_OnLoopTransaction(self._direct))
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
        async with self.transaction() as transaction:
            return await transaction.execute(sql, params)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None
