"""Proof of presence arithmetic (issue 15): time in the tracked voice channel over a roll call,
and the verdict from the code and the presence together. Pure: no Discord, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# A member's verdict at close. "not in voice": answered the code but never sat in the channel.
VERDICTS = ("present", "late", "left early", "not in voice", "absent", "excused")

Span = tuple[datetime, datetime | None]


def _clip(spans: Iterable[Span], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Spans cut to [start, end], an open one running to `end`, merged where they overlap."""
    cut = sorted(
        (max(begin, start), min(finish or end, end))
        for begin, finish in spans
        if max(begin, start) < min(finish or end, end)
    )
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in cut:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def seconds_within(spans: Iterable[Span], start: datetime, end: datetime) -> float:
    return sum((finish - begin).total_seconds() for begin, finish in _clip(spans, start, end))


@dataclass(frozen=True, slots=True)
class Presence:
    """One member's time in the channel. `known_seconds` is the session's length less the gaps
    the bot did not watch: a gap is neither presence nor absence."""

    seconds: float
    known_seconds: float

    @property
    def minutes(self) -> float:
        return round(self.seconds / 60, 1)

    @property
    def percent(self) -> float:
        if self.known_seconds <= 0:
            return 0.0
        return round(min(100.0, 100 * self.seconds / self.known_seconds), 1)


def presence_of(spans: Iterable[Span], gaps: Iterable[Span], start: datetime, end: datetime) -> Presence:
    """Intervals never overlap a gap: a restart closes them where the gap starts and reopens
    them where it ends (storage/voice_presence.py), so the two are counted apart."""
    known = (end - start).total_seconds() - seconds_within(gaps, start, end)
    return Presence(seconds=seconds_within(spans, start, end), known_seconds=max(0.0, known))


def verdict(status: str | None, *, corrected: bool, presence: Presence, min_percent: int) -> str:
    """The verdict from the member's record (None: no code and no record) and their presence. An
    organizer's correction wins: it is the verdict as set."""
    if status is None or status == "absent":
        return "absent"
    if corrected or status == "excused":
        return status
    if presence.seconds <= 0:
        return "not in voice"
    if presence.percent < min_percent:
        return "left early"
    return status
