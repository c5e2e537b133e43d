"""Every bound a roll-call setting or option may take, and the statuses a row may have.

The slash options' `app_commands.Range`, the bot's own range checks and their messages, the
choices offered and the `CHECK`s of the migrations all follow these values: tests/test_limits.py
reads the CHECKs of a freshly migrated database and fails when the two disagree. A shipped
migration is never edited, so widening a bound the database checks takes a new migration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """An inclusive range of whole numbers in `unit`."""

    low: int
    high: int
    unit: str

    @property
    def bounds(self) -> tuple[int, int]:
        return self.low, self.high


CODE_INTERVAL = Limit(5, 3600, "seconds")
CODE_LENGTH = Limit(3, 8, "characters")
# How long the previous code is still accepted after it changed.
GRACE = Limit(0, 60, "seconds")
LATE_AFTER = Limit(0, 24 * 60, "minutes")
ROLL_CALL_DURATION = Limit(1, 24 * 60, "minutes")
VERIFICATION_TIMEOUT = Limit(1, 7 * 24 * 60, "minutes")
REMINDER_MINUTES = Limit(1, 4 * 7 * 24 * 60, "minutes")
MAX_REMINDER_OFFSETS = 5
# Wrong or expired codes after which a member is locked out of a roll call.
MAX_FAILURES = 5

RECORD_STATUSES = ("present", "late", "absent", "excused")
SESSION_STATUSES = ("open", "closed")
