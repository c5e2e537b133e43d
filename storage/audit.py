"""The audit trail: who changed which setting or record, and from what to what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.backend import Database, Row, Transaction
from storage.rows import from_row


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    guild_id: int
    actor_id: int
    action: str
    subject: str
    before_value: str | None
    after_value: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> AuditEntry:
        return from_row(cls, row)


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        transaction: Transaction,
        *,
        guild_id: int,
        actor_id: int,
        action: str,
        subject: str,
        before: str | None,
        after: str | None,
        now: datetime,
    ) -> None:
        """Append an entry inside the caller's open transaction, so it commits with the change."""
        await transaction.execute(
            "INSERT INTO audit_log (guild_id, actor_id, action, subject, before_value, after_value, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (guild_id, actor_id, action, subject, before, after, now),
        )

    async def list(self, guild_id: int, *, action_prefix: str = "", limit: int = 50) -> list[AuditEntry]:
        rows = await self._db.fetch_all(
            "SELECT * FROM audit_log WHERE guild_id = ? AND action LIKE ? || '%' ORDER BY id DESC LIMIT ?",
            (guild_id, action_prefix, limit),
        )
        return [AuditEntry.from_row(row) for row in rows]
