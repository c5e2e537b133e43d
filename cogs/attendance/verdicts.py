"""The verdicts of a voice-tracked roll call (issue 15): each member's minutes and percent in the
tracked channel, and one verdict from code and presence together, for the close report,
`/attendance status` and the CSV. Computed from the rows each time, never stored: a correction
made after the close shows at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.attendance import AttendanceRecord, AttendanceSession
from storage.voice_presence import PresenceGap, PresenceInterval
from utils.presence import VERDICTS, Presence, Span, presence_of, verdict
from utils.text import join_some

# Mentions of members "in voice, no code" listed before the rest are left to the CSV.
NO_CODE_SHOWN = 20
PRESENCE_CSV_COLUMNS = ("minutes_in_voice", "presence_percent", "verdict")


@dataclass(frozen=True, slots=True)
class MemberVerdict:
    user_id: int
    presence: Presence
    verdict: str


@dataclass(frozen=True, slots=True)
class PresenceSummary:
    by_member: dict[int, MemberVerdict]
    # Sat in the channel but never sent a code, in order of time present (most first).
    no_code: list[int]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICTS, 0)
        for member in self.by_member.values():
            counts[member.verdict] += 1
        return counts


def summarize(
    session: AttendanceSession,
    records: list[AttendanceRecord],
    intervals: list[PresenceInterval],
    gaps: list[PresenceGap],
    end: datetime,
) -> PresenceSummary:
    spans: dict[int, list[Span]] = {}
    for interval in intervals:
        spans.setdefault(interval.user_id, []).append((interval.joined_at, interval.left_at))
    gap_spans: list[Span] = [(gap.started_at, gap.ended_at) for gap in gaps]
    start = session.opened_at

    def presence(user_id: int) -> Presence:
        return presence_of(spans.get(user_id, []), gap_spans, start, end)

    by_member: dict[int, MemberVerdict] = {}
    answered: set[int] = set()
    for record in records:
        sat = presence(record.user_id)
        corrected = record.corrected_by is not None
        if record.submitted_at is not None or corrected:
            answered.add(record.user_id)
        by_member[record.user_id] = MemberVerdict(
            record.user_id,
            sat,
            verdict(record.status, corrected=corrected, presence=sat, min_percent=session.min_presence_percent),
        )
    for user_id in spans.keys() - by_member.keys():
        sat = presence(user_id)
        by_member[user_id] = MemberVerdict(user_id, sat, "absent")
    no_code = sorted(
        (user_id for user_id, member in by_member.items() if user_id not in answered and member.presence.seconds > 0),
        key=lambda user_id: (-by_member[user_id].presence.seconds, user_id),
    )
    return PresenceSummary(by_member, no_code)


def verdicts_line(summary: PresenceSummary) -> str:
    counts = summary.counts()
    return " · ".join(f"{counts[name]} {name}" for name in VERDICTS)


def no_code_line(summary: PresenceSummary) -> str | None:
    if not summary.no_code:
        return None
    mentions = [f"<@{user_id}>" for user_id in summary.no_code]
    shown, more = join_some(mentions, shown=NO_CODE_SHOWN)
    rest = f" +{more} more (in the CSV)" if more else ""
    return f"In voice, no code ({len(summary.no_code)}): {shown}{rest}"


def marked_note(summary: PresenceSummary, user_id: int, voice_channel_id: int) -> str:
    """What `/attendance mark` adds in a voice-tracked roll call: the member's presence, and the
    verdict it now gives (the status set by hand)."""
    member = summary.by_member.get(user_id)
    assert member is not None, "the mark has just written the member's record"
    return (
        f"In <#{voice_channel_id}>: {member.presence.minutes:g} min ({member.presence.percent:g}% of the roll call); "
        f"verdict **{member.verdict}**, since a status set by hand wins over presence."
    )


def presence_cells(summary: PresenceSummary, user_id: int) -> tuple[float, float, str]:
    member = summary.by_member.get(user_id)
    if member is None:
        return 0.0, 0.0, "absent"
    return member.presence.minutes, member.presence.percent, member.verdict


def unrecorded(summary: PresenceSummary, recorded: set[int]) -> list[int]:
    """Members who sat in voice and have no record at all: the CSV gives them a row of their own."""
    return [user_id for user_id in summary.no_code if user_id not in recorded]
