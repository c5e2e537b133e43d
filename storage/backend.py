"""The interface every storage backend implements, and the only one repositories see.

Repositories hold portable SQL (`?` placeholders, `INSERT ... ON CONFLICT`, `RETURNING`,
`lower(...)` for case-insensitive order) and pass and receive Python values: ints, text, bytes
and aware `datetime`s. A backend translates the placeholders if its driver needs it, encodes
instants in its own column format, and raises `storage.errors.UniqueViolation` for a duplicate
key, so no repository knows which driver runs underneath. SQLite (`storage/sqlite/`) is the one
backend today; PostgreSQL (asyncpg) will be the second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Row(Protocol):
    """A result row read by column name (`row["status"]`) or position (`row[0]`)."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class Transaction(Protocol):
    """The statements allowed inside one open write transaction. Everything run through it
    commits together when the transaction ends without an exception, or not at all."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement; returns the number of rows it inserted, updated or deleted."""
        ...

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """One statement over many parameter rows; returns the total affected row count."""
        ...

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """Statements inside are undone together if it raises; the transaction goes on."""
        ...


class Database(Protocol):
    """One open database: reads, write transactions, the hot path's batch write, migrations."""

    async def close(self) -> None: ...

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        ...

    async def migrate(self) -> int:
        """Apply every migration of this backend's dialect newer than `schema_version`, in one
        transaction; returns the version reached. Raises `MigrationFailed` if one cannot apply."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction; rules that span statements run inside one of these."""
        ...

    async def write_batch(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run `work` in its own write transaction and commit; returns its result.

        The hot path's batch write (see `storage/group_commit.py`): each backend writes it the
        fastest way it has. `work` may run more than once (a retry after a lock conflict), so
        it awaits only the transaction it is given. Raises `DatabaseBusy` when the write lock
        stayed taken elsewhere for longer than the backend waits."""
        ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns the affected row count."""
        ...

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        ...
