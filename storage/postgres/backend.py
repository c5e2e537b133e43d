"""PostgreSQL behind the `storage.backend.Database` interface, on an asyncpg connection pool:
placeholders, row counts, the time check, the error mapping, the batch write and migrations.

Every transaction borrows one connection of the pool for its whole length and gives it back at
the end; reads outside a transaction take any free connection. Writers do not queue on a lock of
ours as on SQLite: PostgreSQL's row locks order them, and a statement waits for a row lock at
most `LOCK_TIMEOUT_MS` before the wait is reported as `DatabaseBusy`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.backend import Row
from storage.errors import DatabaseBusy, DatabaseOpenError, MigrationFailed, UniqueViolation
from storage.migrations import load_migrations
from storage.postgres.placeholders import translate

log = logging.getLogger(__name__)

DIALECT = "postgres"
URL_SCHEMES = ("postgresql", "postgres")
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 10.0
# As long as SQLite's busy_timeout: a row lock held elsewhere longer than this is reported.
LOCK_TIMEOUT_MS = 5000
# A deadlock or serialization failure rolls the batch back; it is written again (the group
# commit's `work` may run more than once) for at most this long before `DatabaseBusy`.
BATCH_RETRY_PATIENCE_SECONDS = 2.0
BATCH_RETRY_FIRST_DELAY_SECONDS = 0.002
BATCH_RETRY_MAX_DELAY_SECONDS = 0.05
# pg_advisory_xact_lock key taken by `migrate`, so two processes starting at once migrate one
# after the other; the second then finds every migration recorded. ASCII "Rollcall".
MIGRATION_LOCK_KEY = 0x526F6C6C63616C6C

T = TypeVar("T")

_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class TransactionConflict(DatabaseBusy):
    """PostgreSQL ended the transaction to break a deadlock or a serialization conflict with
    another writer; nothing of it was kept, and the same work may succeed when run again."""


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and urlsplit(location.strip()).scheme in URL_SCHEMES


def redact_url(url: str) -> str:
    """`url` with its password replaced by `***`, fit for logs and error lines."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:
        return "(an unreadable URL)"


def _checked(params: Sequence[Any]) -> Sequence[Any]:
    # asyncpg would bind a naive datetime as if it were UTC; SQLite's backend refuses it too.
    for value in params:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    return params


def _rows_affected(status: str) -> int:
    """The count in a command tag such as "UPDATE 3" or "INSERT 0 1" (0 for "CREATE TABLE")."""
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        raise UniqueViolation(str(error)) from error
    except asyncpg.LockNotAvailableError as error:
        raise DatabaseBusy(str(error)) from error


class PostgresTransaction:
    """Statements on the one connection a transaction holds. A failed statement ends the
    transaction on PostgreSQL (unlike SQLite), so a caller that wants to go on after one wraps it
    in `savepoint()`."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with _mapped_errors():
            return _rows_affected(await self._connection.execute(translate(sql).sql, *_checked(params)))

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """All rows in one round trip (asyncpg pipelines them). asyncpg's `executemany` returns no
        count, so the statement returns a row per row it wrote and those are counted."""
        rows = [_checked(row) for row in rows]
        if not rows:
            return 0
        statement = translate(sql)
        counted = statement.sql if statement.returns_rows else f"{statement.sql.rstrip().rstrip(';')} RETURNING 1"
        with _mapped_errors():
            return len(await self._connection.fetchmany(counted, rows))

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with _mapped_errors():
            return await self._connection.fetchrow(translate(sql).sql, *_checked(params))

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with _mapped_errors():
            return list(await self._connection.fetch(translate(sql).sql, *_checked(params)))

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with _mapped_errors():
            return await self._connection.fetchval(translate(sql).sql, *_checked(params))

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        # asyncpg turns a transaction opened inside another into a savepoint.
        async with self._connection.transaction():
            yield


class PostgresDatabase:
    """One PostgreSQL database through a pool of connections."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url

    @classmethod
    async def open(cls, url: str, *, min_size: int = POOL_MIN_SIZE, max_size: int = POOL_MAX_SIZE) -> PostgresDatabase:
        """Connect the pool to `url`, or raise `DatabaseOpenError` (naming the URL without its
        password) with nothing left open."""
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=min_size,
                max_size=max_size,
                timeout=CONNECT_TIMEOUT_SECONDS,
                server_settings={"lock_timeout": str(LOCK_TIMEOUT_MS), "application_name": "rollcall"},
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
            reason = str(error) or type(error).__name__
            raise DatabaseOpenError(redact_url(url), reason) from None
        return cls(pool, url)

    @property
    def pool(self) -> asyncpg.Pool:
        """The asyncpg pool, for tools that copy or inspect the database directly."""
        return self._pool

    async def close(self) -> None:
        await self._pool.close()

    async def schema_version(self) -> int:
        async with self._pool.acquire() as connection:
            return await self._recorded_version(connection)

    @staticmethod
    async def _recorded_version(connection: asyncpg.Connection) -> int:
        if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
            return 0
        return int(await connection.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    async def migrate(self) -> int:
        """Apply every migration of `storage/migrations/postgres/` not yet in `schema_migrations`,
        all in one transaction, under an advisory lock: a second process starting meanwhile
        waits, then finds them recorded and applies nothing."""
        migrations = load_migrations(DIALECT)
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
                await connection.execute(_SCHEMA_MIGRATIONS)
                current = await self._recorded_version(connection)
                pending = [migration for migration in migrations if migration[0] > current]
                for version, name, script in pending:
                    log.info("Applying migration %s", name)
                    # Without arguments asyncpg sends the script as one simple query: every
                    # statement in it runs, inside this transaction.
                    await connection.execute(script)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                    )
        except asyncpg.PostgresError as error:
            raise MigrationFailed(str(error)) from error
        return pending[-1][0] if pending else current

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                yield PostgresTransaction(connection)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as error:
            raise TransactionConflict(str(error)) from error

    async def write_batch(self, work: Callable[[PostgresTransaction], Awaitable[T]]) -> T:
        """Run `work` in one transaction and commit; returns once the commit is done, so the
        group commit acknowledges only committed rows. A deadlock or serialization failure
        (another process writing the same rows in another order) is retried with a short
        backoff; a row lock held past `LOCK_TIMEOUT_MS`, or conflicts lasting longer than
        `BATCH_RETRY_PATIENCE_SECONDS`, raise `DatabaseBusy`."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + BATCH_RETRY_PATIENCE_SECONDS
        delay = BATCH_RETRY_FIRST_DELAY_SECONDS
        while True:
            try:
                async with self.transaction() as transaction:
                    return await work(transaction)
            except TransactionConflict:
                if loop.time() + delay > give_up_at:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, BATCH_RETRY_MAX_DELAY_SECONDS)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with _mapped_errors():
            return _rows_affected(await self._pool.execute(translate(sql).sql, *_checked(params)))

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with _mapped_errors():
            return await self._pool.fetchrow(translate(sql).sql, *_checked(params))

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with _mapped_errors():
            return list(await self._pool.fetch(translate(sql).sql, *_checked(params)))

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with _mapped_errors():
            return await self._pool.fetchval(translate(sql).sql, *_checked(params))
