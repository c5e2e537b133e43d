"""Every bound a setting, option or typed field may take, and the statuses a row may have.

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
# How long a roster token works after `/verify import` or `/verify refresh`.
TOKEN_EXPIRY_DAYS = Limit(1, 365, "days")
REMINDER_MINUTES = Limit(1, 4 * 7 * 24 * 60, "minutes")
MAX_REMINDER_OFFSETS = 5
# The share of a roll call a member must spend in its tracked voice channel not to have "left early".
MIN_PRESENCE_PERCENT = Limit(0, 100, "percent")
DEFAULT_MIN_PRESENCE_PERCENT = 50
# Wrong or expired codes after which a member is locked out of a roll call.
MAX_FAILURES = 5

EVENT_TITLE = Limit(1, 100, "characters")
EVENT_DESCRIPTION = Limit(0, 2000, "characters")
EVENT_LOCATION = Limit(0, 100, "characters")
EVENT_CAPACITY = Limit(1, 10_000, "seats")
# Minutes before the start at which a role-restricted event nudges members who have not answered.
NUDGE_MINUTES = Limit(1, 4 * 7 * 24 * 60, "minutes")
# Minutes before the start at which RSVPs close, when typed as a number.
SIGNUP_CUTOFF = Limit(0, 4 * 7 * 24 * 60, "minutes")

RECORD_STATUSES = ("present", "late", "absent", "excused")
SESSION_STATUSES = ("open", "closed")
# "waitlist" is where "going" lands when the event is full; members choose among the other three.
RSVP_STATUSES = ("going", "waitlist", "interested", "not_going")
EVENT_ATTENDANCE_SOURCES = ("command", "roll_call", "organizer")
# An event's scheduled moments (storage/event_reminders.py).
EVENT_TIMER_KINDS = ("reminder", "nudge", "start", "end", "missed")

# Recurring events: days between occurrences for "every N days", and occurrences in all.
SERIES_EVERY_DAYS = Limit(1, 365, "days")
SERIES_COUNT = Limit(1, 500, "occurrences")
# Reviews after an event: stars, and the comment's length.
REVIEW_RATING = Limit(1, 5, "stars")
REVIEW_COMMENT = Limit(0, 500, "characters")
SERIES_FINISH_REASONS = ("count", "until", "cancelled")

PRESET_NAME = Limit(1, 50, "characters")
PRESET_DESCRIPTION = Limit(0, 1000, "characters")
SLOT_NAME = Limit(1, 40, "characters")
SLOT_SEATS = Limit(1, 100, "seats")
# A select menu offers at most 25 options, one per slot.
MAX_SLOTS = 25
SLOT_SIGNUP_STATUSES = ("seated", "waitlist")

# An export of at least this many rows shows its progress while it is written, in this many
# equal steps: the deferred reply is edited after each step but the last (every 20 %).
EXPORT_PROGRESS_ROWS = 5_000
EXPORT_PROGRESS_STEPS = 5
