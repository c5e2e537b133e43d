"""What the bot owes someone: one row per message until Discord has taken it.

A row is claimed for one attempt at a time (`claimed_until`), so the inline attempt right after
a commit and a scheduled retry never post the same message twice; a claim left behind by a crash
expires by itself. Rows are never deleted: a delivered or undeliverable row says where it went.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.backend import Database, Row, Transaction
from storage.rows import from_row

PENDING = "pending"
DELIVERED = "delivered"
UNDELIVERABLE = "undeliverable"


@dataclass(frozen=True, slots=True)
class NewOwed:
    """A message to owe: `kind` names the renderer that builds it at delivery time from rows."""

    kind: str
    guild_id: int | None
    subject_id: int | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OwedMessage:
    id: int
    guild_id: int | None
    kind: str
    subject_id: int | None
    payload: dict[str, Any]
    status: str
    attempts: int
    due_at: datetime
    claimed_until: datetime | None
    created_at: datetime
    finished_at: datetime | None
    delivered_to: str | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: Row) -> OwedMessage:
        return from_row(cls, row, payload=json.loads(row["payload"]))


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, transaction: Transaction, owed: NewOwed, *, now: datetime) -> int:
        """Owe a message inside the caller's open transaction, so it commits with the change that owes it."""
        owed_id = await transaction.fetch_value(
            "INSERT INTO outbox (guild_id, kind, subject_id, payload, due_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                owed.guild_id,
                owed.kind,
                owed.subject_id,
                json.dumps(owed.payload or {}, sort_keys=True),
                now,
                now,
            ),
        )
        return int(owed_id)

    async def create(self, owed: NewOwed, *, now: datetime) -> int:
        async with self._db.transaction() as transaction:
            return await self.add(transaction, owed, now=now)

    async def get(self, owed_id: int) -> OwedMessage | None:
        row = await self._db.fetch_one("SELECT * FROM outbox WHERE id = ?", (owed_id,))
        return OwedMessage.from_row(row) if row else None

    async def list_for_subject(self, kind: str, subject_id: int) -> list[OwedMessage]:
        rows = await self._db.fetch_all(
            "SELECT * FROM outbox WHERE kind = ? AND subject_id = ? ORDER BY id", (kind, subject_id)
        )
        return [OwedMessage.from_row(row) for row in rows]

    async def list_pending(self) -> list[OwedMessage]:
        rows = await self._db.fetch_all("SELECT * FROM outbox WHERE status = 'pending' ORDER BY due_at, id")
        return [OwedMessage.from_row(row) for row in rows]

    async def list_due(self, now: datetime, *, limit: int) -> list[OwedMessage]:
        rows = await self._db.fetch_all(
            "SELECT * FROM outbox WHERE status = 'pending' AND due_at <= ? "
            "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY due_at, id LIMIT ?",
            (now, now, limit),
        )
        return [OwedMessage.from_row(row) for row in rows]

    async def claim(self, owed_id: int, *, now: datetime, until: datetime) -> OwedMessage | None:
        """Take the row for one attempt; None when it is finished or another attempt holds it."""
        async with self._db.transaction() as transaction:
            row = await transaction.fetch_one(
                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?) RETURNING *",
                (until, owed_id, now),
            )
        return OwedMessage.from_row(row) if row else None

    async def mark_delivered(self, owed_id: int, *, now: datetime, delivered_to: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET status = 'delivered', finished_at = ?, delivered_to = ?, claimed_until = NULL, "
            "last_error = NULL WHERE id = ?",
            (now, delivered_to, owed_id),
        )

    async def retry_at(self, owed_id: int, *, due_at: datetime, error: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET due_at = ?, claimed_until = NULL, last_error = ? WHERE id = ? AND status = 'pending'",
            (due_at, error, owed_id),
        )

    async def give_up(self, owed_id: int, *, now: datetime, error: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET status = 'undeliverable', finished_at = ?, claimed_until = NULL, last_error = ? "
            "WHERE id = ?",
            (now, error, owed_id),
        )
