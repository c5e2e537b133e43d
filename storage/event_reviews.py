"""Ratings members who attended an event leave after it ends: one per member, edited in place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.backend import Database, Row
from storage.rows import from_row


@dataclass(frozen=True, slots=True)
class Review:
    event_id: int
    user_id: int
    rating: int
    comment: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Review:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    count: int
    average: float | None

    def describe(self) -> str:
        """`★ 4.3 / 5 (12 reviews)`, or that there are none yet."""
        if not self.count or self.average is None:
            return "No reviews yet"
        plural = "review" if self.count == 1 else "reviews"
        return f"★ {self.average:.1f} / 5 ({self.count} {plural})"


class ReviewRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def attended(self, event_id: int, user_id: int) -> bool:
        """Only members on the event's attendance may review it."""
        found = await self._db.fetch_value(
            "SELECT count(*) FROM event_attendance WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return int(found) > 0

    async def save(self, event_id: int, user_id: int, *, rating: int, comment: str, now: datetime) -> bool:
        """Write the member's review, replacing their earlier one; True when it is their first."""
        before = await self._db.fetch_value(
            "SELECT count(*) FROM event_review WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        await self._db.execute(
            "INSERT INTO event_review (event_id, user_id, rating, comment, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET "
            "rating = excluded.rating, comment = excluded.comment, updated_at = excluded.updated_at",
            (event_id, user_id, rating, comment, now, now),
        )
        return int(before) == 0

    async def get(self, event_id: int, user_id: int) -> Review | None:
        row = await self._db.fetch_one(
            "SELECT * FROM event_review WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return Review.from_row(row) if row else None

    async def list_for_event(self, event_id: int) -> list[Review]:
        rows = await self._db.fetch_all(
            "SELECT * FROM event_review WHERE event_id = ? ORDER BY updated_at, user_id", (event_id,)
        )
        return [Review.from_row(row) for row in rows]

    async def summary(self, event_id: int) -> ReviewSummary:
        row = await self._db.fetch_one(
            "SELECT count(*) AS total, avg(rating) AS average FROM event_review WHERE event_id = ?", (event_id,)
        )
        assert row is not None
        total = int(row["total"])
        return ReviewSummary(total, float(row["average"]) if total else None)
