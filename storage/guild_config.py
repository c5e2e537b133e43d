"""Per-guild settings, read through a cache that every write clears."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

from storage.audit import AuditRepository
from storage.backend import Database, Row
from storage.rows import from_row

DEFAULT_REMINDER_OFFSETS = (60, 10)


@dataclass(frozen=True, slots=True)
class GuildConfig:
    guild_id: int
    admin_channel_id: int | None = None
    attendance_channel_id: int | None = None
    verification_channel_id: int | None = None
    log_channel_id: int | None = None
    organizer_role_id: int | None = None
    member_role_id: int | None = None
    timezone: str = "UTC"
    code_interval_seconds: int = 15
    code_length: int = 4
    grace_seconds: int = 3
    late_after_minutes: int = 10
    verification_timeout_minutes: int = 5
    reminder_offsets: tuple[int, ...] = DEFAULT_REMINDER_OFFSETS
    # After an event ends, Going members who did not attend get one DM (off unless turned on).
    missed_attendance_notice: bool = False

    @classmethod
    def from_row(cls, row: Row) -> GuildConfig:
        return from_row(
            cls,
            row,
            reminder_offsets=parse_offsets_column(row["reminder_offsets"]),
            missed_attendance_notice=bool(row["missed_attendance_notice"]),
        )


SETTING_COLUMNS = tuple(field.name for field in fields(GuildConfig) if field.name != "guild_id")


def parse_offsets_column(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(",") if part)


def _column_value(name: str, value: object) -> object:
    if name == "reminder_offsets":
        return ",".join(str(minutes) for minutes in value)  # type: ignore[union-attr]
    if name == "missed_attendance_notice":
        # A number on every backend: the column is an INTEGER 0/1, not a dialect's own boolean.
        return int(bool(value))
    return value


class GuildConfigRepository:
    def __init__(self, db: Database, audit: AuditRepository) -> None:
        self._db = db
        self._audit = audit
        self._cache: dict[int, GuildConfig] = {}

    async def get(self, guild_id: int) -> GuildConfig:
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        row = await self._db.fetch_one("SELECT * FROM guild_config WHERE guild_id = ?", (guild_id,))
        config = GuildConfig.from_row(row) if row else GuildConfig(guild_id=guild_id)
        self._cache[guild_id] = config
        return config

    def invalidate(self, guild_id: int) -> None:
        self._cache.pop(guild_id, None)

    async def update(self, guild_id: int, changes: dict[str, object], *, actor_id: int, now: datetime) -> GuildConfig:
        """Save `changes` (setting name -> new value) and audit each one, in one transaction."""
        unknown = set(changes) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        before = await self.get(guild_id)
        after = replace(before, **changes)
        params = [guild_id, *(_column_value(name, getattr(after, name)) for name in SETTING_COLUMNS)]
        async with self._db.transaction() as transaction:
            await transaction.execute(_UPSERT_SQL, [*params, now, actor_id])
            for name in SETTING_COLUMNS:
                if name not in changes:
                    continue
                await self._audit.record(
                    transaction,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="config.set",
                    subject=name,
                    before=str(_column_value(name, getattr(before, name))),
                    after=str(_column_value(name, getattr(after, name))),
                    now=now,
                )
        self.invalidate(guild_id)
        return await self.get(guild_id)


_UPSERT_SQL = """
INSERT INTO guild_config (
    guild_id, admin_channel_id, attendance_channel_id, verification_channel_id, log_channel_id,
    organizer_role_id, member_role_id, timezone, code_interval_seconds, code_length, grace_seconds,
    late_after_minutes, verification_timeout_minutes, reminder_offsets, missed_attendance_notice,
    updated_at, updated_by
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (guild_id) DO UPDATE SET
    admin_channel_id = excluded.admin_channel_id,
    attendance_channel_id = excluded.attendance_channel_id,
    verification_channel_id = excluded.verification_channel_id,
    log_channel_id = excluded.log_channel_id,
    organizer_role_id = excluded.organizer_role_id,
    member_role_id = excluded.member_role_id,
    timezone = excluded.timezone,
    code_interval_seconds = excluded.code_interval_seconds,
    code_length = excluded.code_length,
    grace_seconds = excluded.grace_seconds,
    late_after_minutes = excluded.late_after_minutes,
    verification_timeout_minutes = excluded.verification_timeout_minutes,
    reminder_offsets = excluded.reminder_offsets,
    missed_attendance_notice = excluded.missed_attendance_notice,
    updated_at = excluded.updated_at,
    updated_by = excluded.updated_by
"""
