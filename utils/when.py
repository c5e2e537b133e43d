"""Times typed by organizers, in their guild's time zone.

dateparser reads the words (`tomorrow 19:00`, `next friday 18:30`, `in 2h`, ISO dates);
this module decides what they mean on a real clock. A wall-clock time is placed in the
guild's zone with zoneinfo, so a time that does not exist (skipped when clocks go forward)
is refused and a time that happens twice (when clocks go back) is taken the first time
with a note. A duration (`in 2h`) is counted in real elapsed time from now, never on the
wall clock, so it stays right across a change of clocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser
from dateparser.timezone_parser import pop_tz_offset_from_string

from utils.text import echo

EXAMPLES = "`2027-03-14 19:00`, `tomorrow 19:00`, `next friday 18:30` or `in 2h`"
END_EXAMPLES = "`21:00` (the start's day), `2h` (after the start), or a full date like `2027-03-14 21:00`"
# Further ahead than this is a typo (a wrong year), not a plan.
MAX_AHEAD = timedelta(days=2 * 365 + 1)
MAX_TEXT = 100

# A time of day written out: 19:00, 7.30, 19h00, 7pm, 7 am, noon, midnight.
_CLOCK_TIME = re.compile(r"\d{1,2}\s*[:h.]\s*\d{2}|\d{1,2}\s*[ap]\.?m\b|\bnoon\b|\bmidnight\b", re.IGNORECASE)
# A duration, with or without a leading "in": `in 2h`, `90 minutes`, `1h30`, `2 hours and 15 min`.
# Counted here rather than by dateparser, which reads `in 1h30` as the clock time 01:30.
_DURATION = re.compile(
    r"(?:in\s+)?(?:(?P<days>\d{1,6})\s*(?:d|days?)\s*(?:and\s+)?)?"
    r"(?:(?P<hours>\d{1,7})\s*(?:h|hrs?|hours?)\s*(?:and\s+)?)?"
    r"(?:(?P<minutes>\d{1,9})\s*(?P<minute_unit>m|mins?|minutes?)?)?(?:\s+from\s+now)?",
    re.IGNORECASE,
)
# 03/04/2027 could be March 4 or April 3: the order differs between countries, so it is not guessed.
_SLASHED_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")


class TimeRefused(ValueError):
    """A typed time that cannot be used; the message says why and shows a form that works."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TypedTime:
    moment: datetime  # aware, UTC
    note: str | None = None  # said to the organizer when the time needed a decision (clocks going back)


def _parser(base: datetime) -> DateDataParser:
    # RELATIVE_BASE is naive wall-clock time in the zone being parsed for; words like
    # "tomorrow" and "friday" are read against it.
    return DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "YMD",
            "RETURN_AS_TIMEZONE_AWARE": False,
            "STRICT_PARSING": False,
        },
    )


def _refuse(what: str, typed: str, reason: str, examples: str) -> TimeRefused:
    quoted = echo(typed).replace("`", "'")  # a backtick would end the code span early
    return TimeRefused(f"I couldn't use `{quoted}` as the {what}: {reason}. Try {examples}.")


def _duration(typed: str) -> timedelta | None:
    """`in 2h`, `1h30`, `90 min`, `2 days` as a timedelta; None when `typed` is not a duration.
    Minutes need their unit unless hours come first: a bare `19` is more likely an hour."""
    match = _DURATION.fullmatch(typed)
    if match is None or not any(match.group("days", "hours", "minutes")):
        return None
    if match["minutes"] and not match["minute_unit"] and not match["hours"]:
        return None
    return timedelta(days=int(match["days"] or 0), hours=int(match["hours"] or 0), minutes=int(match["minutes"] or 0))


def _place_wall_time(wall: datetime, zone_name: str, *, what: str, typed: str) -> TypedTime:
    zone = ZoneInfo(zone_name)
    first = wall.replace(tzinfo=zone, fold=0)
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != wall:
        shown = wall.strftime("%Y-%m-%d %H:%M")
        raise TimeRefused(
            f"`{shown}` does not exist in {zone_name}: the clocks go forward then and skip it. "
            f"Type the {what} as `{round_trip.strftime('%Y-%m-%d %H:%M')}` or another time."
        )
    second = wall.replace(tzinfo=zone, fold=1)
    note = None
    if first.utcoffset() != second.utcoffset():
        note = (
            f"{wall.strftime('%Y-%m-%d %H:%M')} happens twice in {zone_name} as the clocks go back; "
            f"I used the first one ({first.strftime('%H:%M %Z')})."
        )
    return TypedTime(first.astimezone(UTC), note)


def parse_time(
    text: str, *, zone_name: str, now: datetime, what: str = "start", relative_to: datetime | None = None
) -> TypedTime:
    """The moment `text` names, as an aware UTC datetime.

    `relative_to` (the start, when reading an end) changes two things: a bare time of day
    falls on that moment's local day, and a duration counts from it instead of from now."""
    typed = " ".join(text.split())
    examples = END_EXAMPLES if relative_to is not None else EXAMPLES
    if not typed:
        raise _refuse(what, text, "it is empty", examples)
    if len(typed) > MAX_TEXT:
        raise _refuse(what, typed, f"it is longer than {MAX_TEXT} characters", examples)
    duration = _duration(typed)
    if duration is not None:
        if duration > MAX_AHEAD * 2:
            raise _refuse(what, typed, "that is more than two years away", examples)
        return TypedTime((relative_to or now) + duration)
    slashed = _SLASHED_DATE.search(typed)
    if slashed and int(slashed[1]) <= 12 and int(slashed[2]) <= 12 and slashed[1] != slashed[2]:
        reason = "day and month could be either way round; write the date as year-month-day"
        raise _refuse(what, typed, reason, examples)
    if not _CLOCK_TIME.search(typed):
        raise _refuse(what, typed, "it has no time of day", examples)
    zone = ZoneInfo(zone_name)
    base = (relative_to or now).astimezone(zone).replace(tzinfo=None)
    if relative_to is not None:
        # "21:00" for an end means 21:00 on the start's day, not the next 21:00 after now.
        base = base.replace(hour=0, minute=0, second=0, microsecond=0)
    # An explicit zone or offset in the text (`19:00 UTC`, `+02:00`) names the moment itself.
    words, explicit_zone = pop_tz_offset_from_string(typed)
    try:
        wall = _parser(base).get_date_data(words).date_obj
    except (OverflowError, ValueError):
        wall = None
    if wall is None:
        raise _refuse(what, typed, "I can't read it as a date and time", examples)
    wall = wall.replace(second=0, microsecond=0)
    if explicit_zone is not None:
        return TypedTime(wall.replace(tzinfo=explicit_zone).astimezone(UTC))
    return _place_wall_time(wall, zone_name, what=what, typed=typed)


@dataclass(frozen=True)
class TimeWindow:
    starts_at: datetime
    ends_at: datetime
    notes: tuple[str, ...] = ()


def parse_window(start_text: str, end_text: str, *, zone_name: str, now: datetime) -> TimeWindow:
    """Start and end of an event typed in a modal; refuses a start in the past, an end not
    after the start and dates further ahead than `MAX_AHEAD`."""
    start = parse_time(start_text, zone_name=zone_name, now=now, what="start")
    if start.moment <= now:
        raise _refuse("start", start_text, "that time has already passed", EXAMPLES)
    if start.moment - now > MAX_AHEAD:
        raise _refuse("start", start_text, "that is more than two years away", EXAMPLES)
    end = parse_time(end_text, zone_name=zone_name, now=now, what="end", relative_to=start.moment)
    if end.moment <= start.moment and _CLOCK_TIME.fullmatch(" ".join(end_text.split())):
        # A bare time earlier than the start (`01:00` after a 23:00 start) means the next day.
        local_start = start.moment.astimezone(ZoneInfo(zone_name))
        # Noon of the next local day: adding 24 hours would land on the wrong day across a clock change.
        next_day = (local_start.replace(hour=12, minute=0) + timedelta(days=1)).astimezone(UTC)
        end = parse_time(end_text, zone_name=zone_name, now=now, what="end", relative_to=next_day)
    if end.moment <= start.moment:
        raise _refuse("end", end_text, "it is not after the start", END_EXAMPLES)
    if end.moment - now > MAX_AHEAD + timedelta(days=31):
        raise _refuse("end", end_text, "that is more than two years away", END_EXAMPLES)
    notes = tuple(note for note in (start.note, end.note) if note)
    return TimeWindow(start.moment, end.moment, notes)


DAY_EXAMPLES = "`2027-03-14`, `14 March 2027`, `today` or `next friday`"
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
# Bounds of a search, not of a plan: past events are listed too, but a date this far off is a typo.
MAX_DAY_DISTANCE = timedelta(days=10 * 366)


def parse_day(text: str, *, zone_name: str, now: datetime, what: str = "day") -> date:
    """A calendar day typed in the guild's zone (`2027-03-14`, `14 March 2027`, `today`,
    `next friday`); a time of day, if typed, is ignored: the filters of a list are whole days."""
    typed = " ".join(text.split())
    if not typed:
        raise _refuse(what, text, "it is empty", DAY_EXAMPLES)
    if len(typed) > MAX_TEXT:
        raise _refuse(what, typed, f"it is longer than {MAX_TEXT} characters", DAY_EXAMPLES)
    slashed = _SLASHED_DATE.search(typed)
    if slashed and int(slashed[1]) <= 12 and int(slashed[2]) <= 12 and slashed[1] != slashed[2]:
        reason = "day and month could be either way round; write the date as year-month-day"
        raise _refuse(what, typed, reason, DAY_EXAMPLES)
    today = now.astimezone(ZoneInfo(zone_name)).date()
    iso = _ISO_DAY.fullmatch(typed)
    if iso is not None:
        try:
            day = date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            raise _refuse(what, typed, "there is no such date", DAY_EXAMPLES) from None
    else:
        base = now.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)
        parser = DateDataParser(
            languages=["en"],
            settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "current_period", "DATE_ORDER": "YMD"},
        )
        try:
            parsed = parser.get_date_data(typed).date_obj
        except (OverflowError, ValueError):
            parsed = None
        if parsed is None:
            raise _refuse(what, typed, "I can't read it as a date", DAY_EXAMPLES)
        day = parsed.date()
    if abs(day - today) > MAX_DAY_DISTANCE:
        raise _refuse(what, typed, "that is more than ten years away", DAY_EXAMPLES)
    return day


def day_start(day: date, zone_name: str) -> datetime:
    """The first moment of `day` in the zone, as UTC. Where midnight is skipped by a clock change
    (some zones move at 00:00), zoneinfo places it after the gap: still the day's first moment."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(zone_name)).astimezone(UTC)
