"""The records of verification on join: roster entries, verified members, kick deadlines, each
guild's panel, and one verification attempt with its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.backend import Row
from storage.rows import from_row

KEY_META = "verification.token_key"
# Attempt limit: this many failures within the window lock a member out until the oldest leaves it.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
ENTRY_STATUSES = ("pending", "verified", "expired")
IMPORT_MODES = ("add", "update")


class Outcome(StrEnum):
    VERIFIED = "verified"
    USED = "used"  # the token was used before, by this same member
    WRONG = "wrong"
    EXPIRED = "expired"
    OTHER_MEMBER = "other_member"
    LOCKED = "locked"


FAILURES = frozenset({Outcome.WRONG, Outcome.EXPIRED, Outcome.OTHER_MEMBER})


@dataclass(frozen=True, slots=True)
class RosterEntry:
    id: int
    guild_id: int
    email: str
    name: str
    discord_username: str | None
    token_hash: str
    token_expires_at: datetime
    token_used_at: datetime | None
    user_id: int | None
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> RosterEntry:
        return from_row(cls, row)

    def status_at(self, now: datetime) -> str:
        if self.verified_at is not None:
            return "verified"
        return "expired" if self.token_expires_at <= now else "pending"


@dataclass(frozen=True, slots=True)
class Deadline:
    id: int
    guild_id: int
    user_id: int
    due_at: datetime
    claimed_until: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Deadline:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class VerifiedMember:
    guild_id: int
    user_id: int
    roster_entry_id: int | None
    method: str
    verified_at: datetime
    verified_by: int | None

    @classmethod
    def from_row(cls, row: Row) -> VerifiedMember:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class GuildVerification:
    guild_id: int
    panel_channel_id: int | None = None
    panel_message_id: int | None = None
    permission_notice: str = ""


@dataclass(frozen=True, slots=True)
class NewEntry:
    email: str
    name: str
    discord_username: str | None
    token_hash: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One modal submit: `digest` is the typed token's keyed hash; the plain token never gets here."""

    attempt_id: int
    guild_id: int
    user_id: int
    user_name: str
    email: str
    digest: str
    now: datetime


@dataclass(frozen=True, slots=True)
class AttemptResult:
    outcome: Outcome
    entry_id: int | None = None
    # When it matters: the token's expiry, the first use, or the moment a lock-out ends.
    when: datetime | None = None
