"""A range of whole days typed in the guild's time zone (`from`, `to`, both included), as the
half-open UTC range `[start, end)` that storage queries take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from utils.text import echo
from utils.when import DAY_EXAMPLES, TimeRefused, day_start, parse_day

# Longer than any school or club looks back over; a wider range is a typo in a year.
MAX_RANGE_DAYS = 5 * 365 + 1


class RangeRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class DayRange:
    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return (
            self.first.isoformat() if self.first == self.last else f"{self.first.isoformat()} – {self.last.isoformat()}"
        )


def parse_range(
    from_text: str | None, to_text: str | None, *, zone_name: str, now: datetime, default_days: int = 30
) -> DayRange:
    """`from` and `to` as typed; a missing `to` is today, a missing `from` is `default_days` before `to`."""
    try:
        last = parse_day(to_text, zone_name=zone_name, now=now, what="`to` day") if to_text else None
        first = parse_day(from_text, zone_name=zone_name, now=now, what="`from` day") if from_text else None
    except TimeRefused as refusal:
        raise RangeRefused(refusal.message) from None
    last = last or now.astimezone(ZoneInfo(zone_name)).date()
    first = first or last - timedelta(days=default_days - 1)
    if first > last:
        raise RangeRefused(
            f"`from` ({echo(from_text or '')}, {first.isoformat()}) is after `to` ({echo(to_text or 'today')}, "
            f"{last.isoformat()}). Swap them, for example `from: 2027-01-01 to: 2027-03-31`."
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise RangeRefused(
            f"{first.isoformat()} to {last.isoformat()} is more than 5 years. Pick a shorter range, for example "
            f"`from: {(last - timedelta(days=364)).isoformat()} to: {last.isoformat()}`. Days read like {DAY_EXAMPLES}."
        )
    return DayRange(first, last, day_start(first, zone_name), day_start(last + timedelta(days=1), zone_name))
