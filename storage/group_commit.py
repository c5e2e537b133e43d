"""Group commit: the rows many concurrent callers write at once go into one transaction.

A storage component of its own, built on the backend's batch write (`Database.write_batch`)
and nothing else, so every backend gets it. Each backend writes the batch its fastest way. The
SQLite backend runs it on the event-loop thread through a second, plain sqlite3 connection, the
one exception to "one connection" (`storage/sqlite/backend.py`): measured under a burst, moving
it to aiosqlite's thread or to a writer thread of our own made p99 250-500 ms worse, because
that thread starves for the GIL while the loop is saturated; on the loop a batch takes a few
milliseconds. PostgreSQL will send it as one `executemany` in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from storage.backend import Database, Transaction
from storage.errors import DatabaseBusy

log = logging.getLogger(__name__)

# How long rows gather before they are written: a few milliseconds turn a lecture hall's
# thousands of commits (and fsyncs) into dozens.
GROUP_COMMIT_WINDOW_SECONDS = 0.003
# SQLite writes a batch on the event-loop thread, so its size bounds how long one write keeps
# the loop from everything else (a few milliseconds at this size).
MAX_BATCH_ROWS = 500

RowT = TypeVar("RowT")
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True, slots=True)
class _RowFailure:
    error: Exception


class GroupCommitter(Generic[RowT, OutcomeT]):
    """Commits the rows waiting at each moment together in one transaction.

    A lecture hall answering at once would otherwise queue thousands of single-row commits;
    each caller still returns only after its own row is committed, with that row's outcome
    as `write` (run inside the transaction, one outcome per row) decided it. Rows with the
    same key in one batch keep only the last, as a database would if they came one by one;
    their callers share its outcome. A batch holds at most `max_batch` rows; the rest wait
    for the next. When a batch fails it is written again row by row, each in a savepoint, so
    a row the database cannot store fails only its own caller."""

    def __init__(
        self,
        db: Database,
        write: Callable[[Transaction, Sequence[RowT]], Awaitable[Sequence[OutcomeT]]],
        *,
        key: Callable[[RowT], Hashable],
        window_seconds: float = GROUP_COMMIT_WINDOW_SECONDS,
        max_batch: int = MAX_BATCH_ROWS,
    ) -> None:
        self._db = db
        self._write = write
        self._key = key
        self._window_seconds = window_seconds
        self._max_batch = max_batch
        self._pending: list[tuple[RowT, asyncio.Future[OutcomeT]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._released = asyncio.Event()
        self._released.set()

    async def submit(self, row: RowT) -> OutcomeT:
        future: asyncio.Future[OutcomeT] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="rollcall-group-commit")
        return await future

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Rows submitted meanwhile wait, unwritten, until this exits. Tests use it to let
        another writer commit while a row is known to be pending."""
        self._released.clear()
        try:
            yield
        finally:
            self._released.set()

    async def _drain(self) -> None:
        while self._pending:
            if len(self._pending) < self._max_batch:
                await asyncio.sleep(self._window_seconds)
            await self._released.wait()
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[RowT, asyncio.Future[OutcomeT]]]) -> None:
        latest = {self._key(row): row for row, _ in batch}
        rows = list(latest.values())
        try:
            outcomes: Sequence[OutcomeT | _RowFailure] = await self._db.write_batch(
                lambda transaction: self._write(transaction, rows)
            )
        except DatabaseBusy as error:
            log.warning("Group commit of %d rows gave up: the database stayed locked (%s)", len(rows), error)
            self._fail(batch, error)
            return
        except Exception as error:
            log.warning("Group commit of %d rows failed (%r); writing them one by one", len(rows), error)
            try:
                outcomes = await self._db.write_batch(lambda transaction: self._write_each(transaction, rows))
            except Exception as retry_error:
                log.warning("Group commit of %d rows failed row by row too (%r)", len(rows), retry_error)
                self._fail(batch, retry_error)
                return
        by_key = dict(zip(latest, outcomes, strict=True))
        for row, future in batch:
            if future.done():
                continue
            outcome = by_key[self._key(row)]
            if isinstance(outcome, _RowFailure):
                future.set_exception(outcome.error)
            else:
                future.set_result(outcome)

    async def _write_each(self, transaction: Transaction, rows: list[RowT]) -> list[OutcomeT | _RowFailure]:
        results: list[OutcomeT | _RowFailure] = []
        for row in rows:
            try:
                async with transaction.savepoint():
                    results.append((await self._write(transaction, [row]))[0])
            except DatabaseBusy:
                raise
            except Exception as error:
                results.append(_RowFailure(error))
        return results

    @staticmethod
    def _fail(batch: list[tuple[RowT, asyncio.Future[OutcomeT]]], error: Exception) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(error)

    async def wait_idle(self) -> None:
        if self._drainer is not None:
            await self._drainer
