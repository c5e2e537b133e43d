"""Verification on join: the roster, verified members, kick deadlines, failed attempts and each
guild's panel and permission notice.

Tokens are never stored: only `utils.tokens.token_digest` of them, under the install's key, which
lives in `bot_meta` (created once, by whichever process gets there first). E-mails are stored
trimmed and lower-cased. A verification attempt is one row of a group commit
(`GroupCommitter`): a burst of members verifying at once shares a few transactions, and each
attempt's rules (attempt limit, token check, one use) run inside the transaction that records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.audit import AuditRepository
from storage.backend import Database, Row, Transaction
from storage.group_commit import BatchWriter, GroupCommitter
from storage.rows import from_row, instant
from storage.verification.models import (
    FAILURE_WINDOW,
    FAILURES,
    KEY_META,
    MAX_FAILURES,
    Attempt,
    AttemptResult,
    Deadline,
    GuildVerification,
    NewEntry,
    Outcome,
    RosterEntry,
    VerifiedMember,
)
from utils.tokens import matches, new_key


class VerificationRepository:
    def __init__(self, db: Database, audit: AuditRepository, writer: BatchWriter | None = None) -> None:
        self._db = db
        self._audit = audit
        self._key: bytes | None = None
        self._attempts: GroupCommitter[Attempt, AttemptResult] = (writer or BatchWriter(db)).committer(
            self._write_attempts, key=lambda attempt: attempt.attempt_id
        )

    # ---- the install's key ------------------------------------------------------------

    async def token_key(self) -> bytes:
        """Created once per database; every process and restart reads the same one."""
        if self._key is None:
            await self._db.execute(
                "INSERT INTO bot_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (KEY_META, new_key().hex()),
            )
            value = await self._db.fetch_value("SELECT value FROM bot_meta WHERE key = ?", (KEY_META,))
            self._key = bytes.fromhex(value)
        return self._key

    # ---- roster -----------------------------------------------------------------------

    async def existing(self, guild_id: int) -> dict[str, bool]:
        """Every e-mail of the guild's roster, and whether its entry is verified."""
        rows = await self._db.fetch_all(
            "SELECT email, verified_at FROM roster_entry WHERE guild_id = ?",
            (guild_id,),
        )
        return {row["email"]: row["verified_at"] is not None for row in rows}

    async def import_chunk(
        self,
        guild_id: int,
        entries: Sequence[NewEntry],
        *,
        mode: str,
        expires_at: datetime,
        now: datetime,
    ) -> int:
        """Write one chunk of an import in one transaction; returns the rows written. In `add`
        mode an e-mail already in the roster is left alone; in `update` mode its name and
        username are replaced and, unless it is verified, it gets the new token."""
        if mode == "add":
            sql = _INSERT_ENTRY + " ON CONFLICT (guild_id, email) DO NOTHING"
        else:
            sql = _INSERT_ENTRY + _UPDATE_ON_CONFLICT
        params = [
            (guild_id, entry.email, entry.name, entry.discord_username, entry.token_hash, expires_at, now, now)
            for entry in entries
        ]
        async with self._db.transaction() as transaction:
            return await transaction.execute_many(sql, params)

    async def get_entry(self, guild_id: int, email: str) -> RosterEntry | None:
        row = await self._db.fetch_one(
            "SELECT * FROM roster_entry WHERE guild_id = ? AND email = ?",
            (guild_id, email),
        )
        return RosterEntry.from_row(row) if row else None

    async def list_entries(
        self, guild_id: int, *, status: str | None, now: datetime, limit: int | None = None, offset: int = 0
    ) -> list[RosterEntry]:
        select, params = _STATUS_SELECT[status], _status_params(status, guild_id, now)
        if limit is None:
            rows = await self._db.fetch_all(select + _ENTRY_ORDER, params)
        else:
            rows = await self._db.fetch_all(select + _ENTRY_ORDER + " LIMIT ? OFFSET ?", [*params, limit, offset])
        return [RosterEntry.from_row(row) for row in rows]

    async def count_entries(self, guild_id: int, *, status: str | None, now: datetime) -> int:
        return int(await self._db.fetch_value(_STATUS_COUNT[status], _status_params(status, guild_id, now)) or 0)

    async def refresh_token(
        self, guild_id: int, email: str, *, token_hash: str, expires_at: datetime, actor_id: int, now: datetime
    ) -> RosterEntry | None:
        """A new token for an entry not yet used; the old one stops working in the same commit."""
        async with self._db.transaction() as transaction:
            row = await transaction.fetch_one(
                "UPDATE roster_entry SET token_hash = ?, token_expires_at = ?, updated_at = ? "
                "WHERE guild_id = ? AND email = ? AND token_used_at IS NULL RETURNING *",
                (token_hash, expires_at, now, guild_id, email),
            )
            if row is None:
                return None
            entry = RosterEntry.from_row(row)
            await self._audit.record(
                transaction,
                guild_id=guild_id,
                actor_id=actor_id,
                action="verify.refresh",
                subject=f"roster entry #{entry.id}",
                before=None,
                after=None,
                now=now,
            )
        return entry

    async def remove_entry(self, guild_id: int, email: str, *, actor_id: int, now: datetime) -> RosterEntry | None:
        async with self._db.transaction() as transaction:
            row = await transaction.fetch_one(
                "DELETE FROM roster_entry WHERE guild_id = ? AND email = ? RETURNING *", (guild_id, email)
            )
            if row is None:
                return None
            entry = RosterEntry.from_row(row)
            await self._audit.record(
                transaction,
                guild_id=guild_id,
                actor_id=actor_id,
                action="verify.remove",
                subject=f"roster entry #{entry.id}",
                before=entry.status_at(now),
                after=None,
                now=now,
            )
        return entry

    # ---- verification attempts ----------------------------------------------------------

    async def attempt(self, attempt: Attempt) -> AttemptResult:
        """Durable when this returns: a success is committed with its entry linked, the token
        marked used and the deadline gone; a failure is counted."""
        return await self._attempts.submit(attempt)

    async def lockout_until(self, guild_id: int, user_id: int, now: datetime) -> datetime | None:
        """When a locked-out member may try again, or None when they may try now."""
        row = await self._db.fetch_one(_FAILURES_SQL, (guild_id, user_id, now - FAILURE_WINDOW))
        return _lock_end(row)

    async def _write_attempts(self, transaction: Transaction, attempts: Sequence[Attempt]) -> list[AttemptResult]:
        return [await self._write_attempt(transaction, attempt) for attempt in attempts]

    async def _write_attempt(self, transaction: Transaction, attempt: Attempt) -> AttemptResult:
        now = attempt.now
        failures = await transaction.fetch_one(_FAILURES_SQL, (attempt.guild_id, attempt.user_id, now - FAILURE_WINDOW))
        locked_until = _lock_end(failures)
        if locked_until is not None:
            return AttemptResult(Outcome.LOCKED, when=locked_until)
        row = await transaction.fetch_one(
            "SELECT * FROM roster_entry WHERE guild_id = ? AND email = ?", (attempt.guild_id, attempt.email)
        )
        entry = RosterEntry.from_row(row) if row else None
        # An unknown e-mail and a wrong token read the same, so nobody learns who is on the roster.
        result = self._judge(entry, attempt)
        if result.outcome in FAILURES:
            await transaction.execute(
                "INSERT INTO verify_attempt (guild_id, user_id, outcome, attempted_at) VALUES (?, ?, ?, ?)",
                (attempt.guild_id, attempt.user_id, result.outcome.value, now),
            )
            return result
        assert entry is not None
        if result.outcome is Outcome.VERIFIED:
            await transaction.execute(
                "UPDATE roster_entry SET user_id = ?, token_used_at = ?, verified_at = ?, updated_at = ? WHERE id = ?",
                (attempt.user_id, now, now, now, entry.id),
            )
        await _mark_verified(transaction, attempt.guild_id, attempt.user_id, entry.id, "token", None, now)
        return result

    @staticmethod
    def _judge(entry: RosterEntry | None, attempt: Attempt) -> AttemptResult:
        if entry is None or not matches(entry.token_hash, attempt.digest):
            return AttemptResult(Outcome.WRONG)
        if entry.user_id is not None and entry.user_id != attempt.user_id:
            return AttemptResult(Outcome.OTHER_MEMBER, entry.id)
        if entry.discord_username and entry.discord_username != attempt.user_name.lower():
            return AttemptResult(Outcome.OTHER_MEMBER, entry.id)
        if entry.token_used_at is not None:
            return AttemptResult(Outcome.USED, entry.id, entry.token_used_at)
        if entry.token_expires_at <= attempt.now:
            return AttemptResult(Outcome.EXPIRED, entry.id, entry.token_expires_at)
        return AttemptResult(Outcome.VERIFIED, entry.id)

    async def flush(self) -> None:
        await self._attempts.wait_idle()

    # ---- verified members ---------------------------------------------------------------

    async def get_verified(self, guild_id: int, user_id: int) -> VerifiedMember | None:
        row = await self._db.fetch_one(
            "SELECT * FROM verified_member WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return VerifiedMember.from_row(row) if row else None

    async def force(self, guild_id: int, user_id: int, *, actor_id: int, now: datetime) -> None:
        async with self._db.transaction() as transaction:
            await _mark_verified(transaction, guild_id, user_id, None, "forced", actor_id, now)
            await self._audit.record(
                transaction,
                guild_id=guild_id,
                actor_id=actor_id,
                action="verify.force",
                subject=f"member {user_id}",
                before=None,
                after="verified",
                now=now,
            )

    # ---- deadlines ----------------------------------------------------------------------

    async def add_deadline(self, guild_id: int, user_id: int, *, due_at: datetime, now: datetime) -> Deadline:
        """The member's deadline; one already pending is kept as it was."""
        async with self._db.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO verify_deadline (guild_id, user_id, due_at, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO NOTHING",
                (guild_id, user_id, due_at, now),
            )
            row = await transaction.fetch_one(
                "SELECT * FROM verify_deadline WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
        assert row is not None
        return Deadline.from_row(row)

    async def add_deadlines(self, guild_id: int, user_ids: Sequence[int], *, due_at: datetime, now: datetime) -> int:
        async with self._db.transaction() as transaction:
            return await transaction.execute_many(
                "INSERT INTO verify_deadline (guild_id, user_id, due_at, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO NOTHING",
                [(guild_id, user_id, due_at, now) for user_id in user_ids],
            )

    async def get_deadline(self, deadline_id: int) -> Deadline | None:
        row = await self._db.fetch_one("SELECT * FROM verify_deadline WHERE id = ?", (deadline_id,))
        return Deadline.from_row(row) if row else None

    async def member_deadline(self, guild_id: int, user_id: int) -> Deadline | None:
        row = await self._db.fetch_one(
            "SELECT * FROM verify_deadline WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return Deadline.from_row(row) if row else None

    async def remove_deadline(self, guild_id: int, user_id: int) -> int | None:
        """Drop the member's deadline; returns its id (to cancel its job), or None."""
        async with self._db.transaction() as transaction:
            return await transaction.fetch_value(
                "DELETE FROM verify_deadline WHERE guild_id = ? AND user_id = ? RETURNING id", (guild_id, user_id)
            )

    async def finish_deadline(self, deadline_id: int) -> None:
        await self._db.execute("DELETE FROM verify_deadline WHERE id = ?", (deadline_id,))

    async def claim_deadline(self, deadline_id: int, *, now: datetime, until: datetime) -> Deadline | None:
        """Take a due deadline for one kick; None when it is not due, gone, or held by another run."""
        async with self._db.transaction() as transaction:
            row = await transaction.fetch_one(
                "UPDATE verify_deadline SET claimed_until = ? WHERE id = ? AND due_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until <= ?) RETURNING *",
                (until, deadline_id, now, now),
            )
        return Deadline.from_row(row) if row else None

    async def postpone_deadline(self, deadline_id: int, *, due_at: datetime) -> None:
        await self._db.execute(
            "UPDATE verify_deadline SET due_at = ?, claimed_until = NULL WHERE id = ?", (due_at, deadline_id)
        )

    async def list_deadlines(
        self, guild_id: int | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[Deadline]:
        if guild_id is None:
            rows = await self._db.fetch_all("SELECT * FROM verify_deadline ORDER BY due_at, id")
        elif limit is None:
            rows = await self._db.fetch_all(
                "SELECT * FROM verify_deadline WHERE guild_id = ? ORDER BY due_at, id", (guild_id,)
            )
        else:
            rows = await self._db.fetch_all(
                "SELECT * FROM verify_deadline WHERE guild_id = ? ORDER BY due_at, id LIMIT ? OFFSET ?",
                (guild_id, limit, offset),
            )
        return [Deadline.from_row(row) for row in rows]

    async def count_deadlines(self, guild_id: int) -> int:
        return int(await self._db.fetch_value("SELECT count(*) FROM verify_deadline WHERE guild_id = ?", (guild_id,)))

    # ---- per-guild state ----------------------------------------------------------------

    async def guild_state(self, guild_id: int) -> GuildVerification:
        row = await self._db.fetch_one("SELECT * FROM verify_guild WHERE guild_id = ?", (guild_id,))
        return from_row(GuildVerification, row) if row else GuildVerification(guild_id)

    async def panels(self) -> list[GuildVerification]:
        rows = await self._db.fetch_all("SELECT * FROM verify_guild WHERE panel_channel_id IS NOT NULL")
        return [from_row(GuildVerification, row) for row in rows]

    async def set_panel(self, guild_id: int, channel_id: int, message_id: int | None) -> None:
        await self._db.execute(
            "INSERT INTO verify_guild (guild_id, panel_channel_id, panel_message_id) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET panel_channel_id = excluded.panel_channel_id, "
            "panel_message_id = excluded.panel_message_id",
            (guild_id, channel_id, message_id),
        )

    async def swap_permission_notice(self, guild_id: int, notice: str) -> str:
        """Store the permission problems now seen; returns the ones stored before."""
        async with self._db.transaction() as transaction:
            before = await transaction.fetch_value(
                "SELECT permission_notice FROM verify_guild WHERE guild_id = ?", (guild_id,)
            )
            await transaction.execute(
                "INSERT INTO verify_guild (guild_id, permission_notice) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET permission_notice = excluded.permission_notice",
                (guild_id, notice),
            )
        return before or ""


async def _mark_verified(
    transaction: Transaction,
    guild_id: int,
    user_id: int,
    entry_id: int | None,
    method: str,
    actor_id: int | None,
    now: datetime,
) -> None:
    await transaction.execute(
        "INSERT INTO verified_member (guild_id, user_id, roster_entry_id, method, verified_at, verified_by) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET "
        "roster_entry_id = COALESCE(excluded.roster_entry_id, verified_member.roster_entry_id), "
        "method = excluded.method, verified_at = excluded.verified_at, verified_by = excluded.verified_by",
        (guild_id, user_id, entry_id, method, now, actor_id),
    )
    await transaction.execute("DELETE FROM verify_deadline WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))


def _lock_end(row: Row | None) -> datetime | None:
    if row is None or int(row[0] or 0) < MAX_FAILURES:
        return None
    oldest = instant(row[1])
    return oldest + FAILURE_WINDOW if oldest else None


_STATUS_SELECT = {
    None: "SELECT * FROM roster_entry WHERE guild_id = ?",
    "verified": "SELECT * FROM roster_entry WHERE guild_id = ? AND verified_at IS NOT NULL",
    "pending": "SELECT * FROM roster_entry WHERE guild_id = ? AND verified_at IS NULL AND token_expires_at > ?",
    "expired": "SELECT * FROM roster_entry WHERE guild_id = ? AND verified_at IS NULL AND token_expires_at <= ?",
}
_STATUS_COUNT = {
    None: "SELECT count(*) FROM roster_entry WHERE guild_id = ?",
    "verified": "SELECT count(*) FROM roster_entry WHERE guild_id = ? AND verified_at IS NOT NULL",
    "pending": "SELECT count(*) FROM roster_entry WHERE guild_id = ? AND verified_at IS NULL AND token_expires_at > ?",
    "expired": "SELECT count(*) FROM roster_entry WHERE guild_id = ? AND verified_at IS NULL AND token_expires_at <= ?",
}
_ENTRY_ORDER = " ORDER BY lower(name), email"


def _status_params(status: str | None, guild_id: int, now: datetime) -> list[object]:
    return [guild_id, now] if status in ("pending", "expired") else [guild_id]


_FAILURES_SQL = (
    "SELECT count(*), min(attempted_at) FROM verify_attempt WHERE guild_id = ? AND user_id = ? AND attempted_at > ?"
)
_INSERT_ENTRY = (
    "INSERT INTO roster_entry "
    "(guild_id, email, name, discord_username, token_hash, token_expires_at, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_ON_CONFLICT = (
    " ON CONFLICT (guild_id, email) DO UPDATE SET name = excluded.name, "
    "discord_username = excluded.discord_username, updated_at = excluded.updated_at, "
    "token_hash = CASE WHEN roster_entry.verified_at IS NULL THEN excluded.token_hash "
    "ELSE roster_entry.token_hash END, "
    "token_expires_at = CASE WHEN roster_entry.verified_at IS NULL THEN excluded.token_expires_at "
    "ELSE roster_entry.token_expires_at END"
)
