"""Recurring events on the wall clock: which day comes next, and where a wall-clock start falls.

Occurrences repeat in the series' zone, not in UTC: a weekly 19:00 event stays at 19:00 when the
clocks change, so the instant moves by the change. The wall time is placed with zoneinfo; a time
the clocks skip that day (02:30 on a spring-forward night) moves forward by the gap, and a time
that happens twice is taken the first time. Pure functions: no Discord, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

SeriesRule = Literal["daily", "weekly", "weekdays", "every_n_days"]
SERIES_RULES: tuple[SeriesRule, ...] = ("daily", "weekly", "weekdays", "every_n_days")
RULE_WORDS: dict[SeriesRule, str] = {
    "daily": "every day",
    "weekly": "every week",
    "weekdays": "every weekday (Monday to Friday)",
    "every_n_days": "every {n} days",
}
SATURDAY = 5


def rule_text(rule: SeriesRule, every_days: int | None) -> str:
    return RULE_WORDS[rule].format(n=every_days)


def next_day(rule: SeriesRule, every_days: int | None, day: date) -> date:
    """The rule's day after `day`."""
    if rule == "daily":
        return day + timedelta(days=1)
    if rule == "weekly":
        return day + timedelta(days=7)
    if rule == "every_n_days":
        return day + timedelta(days=every_days or 1)
    following = day + timedelta(days=1)
    while following.weekday() >= SATURDAY:
        following += timedelta(days=1)
    return following


@dataclass(frozen=True, slots=True)
class Placed:
    starts_at: datetime  # aware UTC
    # Set when the wall time does not exist that day and was moved forward.
    note: str | None = None


def place(day: date, local_start: time, zone_name: str) -> Placed:
    """`local_start` on `day` in the zone, as UTC."""
    zone = ZoneInfo(zone_name)
    wall = datetime.combine(day, local_start)
    # fold=0 in a gap reads the wall time with the offset before the change, which lands after
    # the gap: 02:30 on a spring-forward night becomes 03:30.
    moment = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    shown = moment.astimezone(zone).replace(tzinfo=None)
    note = None
    if shown != wall:
        note = (
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone_name} (the clocks go forward); "
            f"the occurrence starts at {shown:%H:%M} instead"
        )
    return Placed(moment, note)


@dataclass(frozen=True, slots=True)
class NextOccurrence:
    index: int
    day: date
    starts_at: datetime
    ends_at: datetime
    # Occurrences whose whole time passed while the bot could not create them (it was down).
    skipped: int = 0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SeriesOver:
    reason: Literal["count", "until"]


# A bot down for years still finds its way forward, without looping for ever.
MAX_SKIPPED = 5_000


def plan_next(
    *,
    rule: SeriesRule,
    every_days: int | None,
    last_index: int,
    last_day: date,
    local_start: time,
    duration: timedelta,
    zone_name: str,
    until_day: date | None,
    max_count: int | None,
    now: datetime,
) -> NextOccurrence | SeriesOver:
    """The occurrence after the latest one, or why there is none. Occurrences that would have
    ended already (the bot was down through them) are skipped but counted, as iCalendar counts
    every instance of a COUNT rule."""
    index, day = last_index, last_day
    for skipped in range(MAX_SKIPPED):
        index += 1
        day = next_day(rule, every_days, day)
        if max_count is not None and index > max_count:
            return SeriesOver("count")
        if until_day is not None and day > until_day:
            return SeriesOver("until")
        placed = place(day, local_start, zone_name)
        ends_at = placed.starts_at + duration
        if ends_at > now:
            return NextOccurrence(index, day, placed.starts_at, ends_at, skipped, placed.note)
    raise RuntimeError(f"no occurrence ends after {now.isoformat()} within {MAX_SKIPPED} steps")


def remaining_count(max_count: int | None, index: int) -> int | None:
    """Occurrences left counting the one at `index` (the COUNT of an RRULE starting there)."""
    return None if max_count is None else max(max_count - index + 1, 0)
