"""Party presets: a guild's reusable slot templates (`Tank 2, Healer 2, DPS 6`).

Names are unique per guild whatever their case. The unique index on `lower(name)` settles two
creates racing for one name on both backends; SQLite's `lower` folds only ASCII, so the
repository also compares Unicode case-folded names inside the write transaction (on SQLite that
transaction holds the write lock, so the comparison and the insert are one step)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.audit import AuditRepository
from storage.backend import Database, Row, Transaction
from storage.errors import UniqueViolation
from storage.rows import from_row
from utils.slots import name_key


@dataclass(frozen=True, slots=True)
class Slot:
    """One slot of a preset or of an event: `position` is its 0-based place in the list."""

    position: int
    name: str
    seats: int
    role_id: int | None

    @classmethod
    def from_row(cls, row: Row) -> Slot:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class Preset:
    id: int
    guild_id: int
    name: str
    description: str
    created_by: int
    created_at: datetime
    updated_at: datetime
    slots: tuple[Slot, ...]

    @property
    def total(self) -> int:
        return sum(slot.seats for slot in self.slots)


class PresetNameTaken(Exception):
    """Another preset of the guild already has this name (in any case)."""

    def __init__(self, existing: str) -> None:
        super().__init__(existing)
        self.existing = existing


def _describe(name: str, slots: Sequence[Slot]) -> str:
    return f"{name}: " + ", ".join(f"{slot.name} {slot.seats}" for slot in slots)


class PresetRepository:
    def __init__(self, db: Database, audit: AuditRepository) -> None:
        self._db = db
        self._audit = audit

    async def _with_slots(self, row: Row) -> Preset:
        slots = await self._db.fetch_all(
            "SELECT position, name, seats, role_id FROM preset_slot WHERE preset_id = ? ORDER BY position",
            (row["id"],),
        )
        return from_row(Preset, row, slots=tuple(Slot.from_row(slot) for slot in slots))

    async def _ensure_free_name(
        self, transaction: Transaction, guild_id: int, name: str, *, except_id: int | None = None
    ) -> None:
        rows = await transaction.fetch_all("SELECT id, name FROM preset WHERE guild_id = ?", (guild_id,))
        wanted = name_key(name)
        for row in rows:
            if int(row["id"]) != except_id and name_key(row["name"]) == wanted:
                raise PresetNameTaken(row["name"])

    @staticmethod
    async def _write_slots(transaction: Transaction, preset_id: int, slots: Sequence[Slot]) -> None:
        await transaction.execute("DELETE FROM preset_slot WHERE preset_id = ?", (preset_id,))
        await transaction.execute_many(
            "INSERT INTO preset_slot (preset_id, position, name, seats, role_id) VALUES (?, ?, ?, ?, ?)",
            [(preset_id, index, slot.name, slot.seats, slot.role_id) for index, slot in enumerate(slots)],
        )

    async def create(
        self, *, guild_id: int, name: str, description: str, slots: Sequence[Slot], actor_id: int, now: datetime
    ) -> Preset:
        """Raises `PresetNameTaken` (nothing written) when the guild has the name already."""
        try:
            async with self._db.transaction() as transaction:
                await self._ensure_free_name(transaction, guild_id, name)
                preset_id = await transaction.fetch_value(
                    "INSERT INTO preset (guild_id, name, description, created_by, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (guild_id, name, description, actor_id, now, now),
                )
                await self._write_slots(transaction, int(preset_id), slots)
                await self._audit.record(
                    transaction,
                    guild_id=guild_id,
                    actor_id=actor_id,
                    action="preset.create",
                    subject=f"preset:{preset_id}",
                    before=None,
                    after=_describe(name, slots),
                    now=now,
                )
        except UniqueViolation:
            raise PresetNameTaken(name) from None
        preset = await self.get_in_guild(guild_id, int(preset_id))
        assert preset is not None
        return preset

    async def get_in_guild(self, guild_id: int, preset_id: int) -> Preset | None:
        """The preset, only if it belongs to `guild_id`."""
        row = await self._db.fetch_one("SELECT * FROM preset WHERE id = ? AND guild_id = ?", (preset_id, guild_id))
        return await self._with_slots(row) if row else None

    async def find_by_name(self, guild_id: int, name: str) -> Preset | None:
        """This guild's preset called `name`, whatever its case."""
        wanted = name_key(name)
        rows = await self._db.fetch_all("SELECT * FROM preset WHERE guild_id = ? ORDER BY id", (guild_id,))
        for row in rows:
            if name_key(row["name"]) == wanted:
                return await self._with_slots(row)
        return None

    async def count(self, guild_id: int) -> int:
        return int(await self._db.fetch_value("SELECT count(*) FROM preset WHERE guild_id = ?", (guild_id,)))

    async def list(self, guild_id: int, *, limit: int, offset: int = 0) -> list[Preset]:
        """By name, any case."""
        rows = await self._db.fetch_all(
            "SELECT * FROM preset WHERE guild_id = ? ORDER BY lower(name), id LIMIT ? OFFSET ?",
            (guild_id, limit, offset),
        )
        return [await self._with_slots(row) for row in rows]

    async def list_names(self, guild_id: int) -> list[tuple[int, str]]:
        """Every preset's id and name, for the `preset` option's autocomplete (matched in Python,
        where case folding covers every script)."""
        rows = await self._db.fetch_all(
            "SELECT id, name FROM preset WHERE guild_id = ? ORDER BY lower(name), id", (guild_id,)
        )
        return [(int(row["id"]), row["name"]) for row in rows]

    async def update(
        self, preset: Preset, *, name: str, description: str, slots: Sequence[Slot], actor_id: int, now: datetime
    ) -> Preset | None:
        """Replace name, description and slots; audited. None when the preset was deleted meanwhile.
        Events made from it keep their own copy of the slots."""
        try:
            async with self._db.transaction() as transaction:
                # Before the UPDATE, so a taken name is reported with the other preset's spelling.
                await self._ensure_free_name(transaction, preset.guild_id, name, except_id=preset.id)
                changed = await transaction.execute(
                    "UPDATE preset SET name = ?, description = ?, updated_at = ? WHERE id = ? AND guild_id = ?",
                    (name, description, now, preset.id, preset.guild_id),
                )
                if not changed:
                    return None
                await self._write_slots(transaction, preset.id, slots)
                await self._audit.record(
                    transaction,
                    guild_id=preset.guild_id,
                    actor_id=actor_id,
                    action="preset.edit",
                    subject=f"preset:{preset.id}",
                    before=_describe(preset.name, preset.slots),
                    after=_describe(name, slots),
                    now=now,
                )
        except UniqueViolation:
            raise PresetNameTaken(name) from None
        return await self.get_in_guild(preset.guild_id, preset.id)

    async def set_slot_role(
        self, preset: Preset, position: int, role_id: int | None, *, actor_id: int, now: datetime
    ) -> bool:
        """False when the preset or the slot is gone."""
        async with self._db.transaction() as transaction:
            before = await transaction.fetch_one(
                "SELECT s.name, s.role_id FROM preset_slot s JOIN preset p ON p.id = s.preset_id "
                "WHERE s.preset_id = ? AND s.position = ? AND p.guild_id = ?",
                (preset.id, position, preset.guild_id),
            )
            if before is None:
                return False
            await transaction.execute(
                "UPDATE preset_slot SET role_id = ? WHERE preset_id = ? AND position = ?",
                (role_id, preset.id, position),
            )
            await transaction.execute("UPDATE preset SET updated_at = ? WHERE id = ?", (now, preset.id))
            await self._audit.record(
                transaction,
                guild_id=preset.guild_id,
                actor_id=actor_id,
                action="preset.slot_role",
                subject=f"preset:{preset.id}:slot:{position}",
                before=str(before["role_id"]) if before["role_id"] is not None else None,
                after=str(role_id) if role_id is not None else None,
                now=now,
            )
        return True

    async def delete(self, preset: Preset, *, actor_id: int, now: datetime) -> bool:
        """False when it was already gone. Events made from it keep their slots."""
        async with self._db.transaction() as transaction:
            removed = await transaction.execute(
                "DELETE FROM preset WHERE id = ? AND guild_id = ?", (preset.id, preset.guild_id)
            )
            if not removed:
                return False
            await self._audit.record(
                transaction,
                guild_id=preset.guild_id,
                actor_id=actor_id,
                action="preset.delete",
                subject=f"preset:{preset.id}",
                before=_describe(preset.name, preset.slots),
                after=None,
                now=now,
            )
        return True
