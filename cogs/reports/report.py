"""What `/report` answers: the key figures as an embed (or text on a PDF page) and the chart's data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.members import NameOf
from cogs.reports.exports import rate_text
from storage.events import Event
from storage.reports import EventTally, MemberTally, RangeFigures, SessionRecord
from utils.charts import Bar, Chart, TimePoint
from utils.text import shorten

TOP_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    # (name, value) pairs: embed fields, and lines on the PDF page.
    figures: list[tuple[str, str]]
    chart: Chart

    def embed(self) -> discord.Embed:
        embed = discord.Embed(title=shorten(self.title, 256), colour=discord.Colour.blurple())
        for name, value in self.figures:
            embed.add_field(name=name, value=shorten(value, 1024), inline=len(value) < 40)
        embed.set_image(url="attachment://chart.png")
        return embed


def percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({rate_text(part / whole)}%)" if whole else "—"


def range_report(
    label: str, figures: RangeFigures, name_of: NameOf, timezone: str, *, role_name: str | None = None
) -> Report:
    members = list(figures.members.values())
    attended = sum(member.sessions_attended for member in members)
    counted = sum(member.sessions_counted for member in members)
    going = sum(event.going for event in figures.events if event.going or event.no_shows)
    showed = sum(event.going - event.no_shows for event in figures.events)
    top = sorted(
        (member for member in members if member.sessions_counted),
        key=lambda member: (-member.sessions_attended, -(member.rate or 0), member.user_id),
    )[:TOP_SHOWN]
    no_shows = sorted((member for member in members if member.no_shows), key=lambda m: (-m.no_shows, m.user_id))
    busiest = sorted(figures.events, key=lambda event: (-event.attended, event.starts_at))[:3]
    title = f"Attendance {label}" + (f" · {role_name}" if role_name else "")
    rows = [
        ("Attendance rate", percent(attended, counted)),
        ("Roll calls", str(len(figures.sessions))),
        ("Members", str(len(members))),
        ("Events", str(len(figures.events))),
        ("Events attended ÷ Going", percent(showed, going)),
        (
            "Top attendees",
            "\n".join(
                f"{_who(member, name_of)} · {member.sessions_attended}/{member.sessions_counted}" for member in top
            )
            or "—",
        ),
        (
            "Most no-shows",
            "\n".join(f"{_who(member, name_of)} · {member.no_shows}" for member in no_shows[:TOP_SHOWN]) or "—",
        ),
        ("Busiest events", "\n".join(f"{event.title} · {event.attended} attended" for event in busiest) or "—"),
    ]
    points = [TimePoint(at, there, out_of) for _, at, there, out_of in figures.sessions]
    chart = Chart(title=title, timezone=timezone, points=points, lines=[f"{name}: {value}" for name, value in rows])
    if not points:
        chart = Chart(title=title, timezone=timezone, bars=_event_bars_total(figures.events), lines=chart.lines)
    return Report(title, rows, chart)


def member_report(
    label: str, member: MemberTally, records: Sequence[SessionRecord], name: str, timezone: str
) -> Report:
    title = f"{name} · {label}"
    rows = [
        ("Attendance rate", percent(member.sessions_attended, member.sessions_counted)),
        ("Present", str(member.present)),
        ("Late", str(member.late)),
        ("Absent", str(member.absent)),
        ("Excused", str(member.excused)),
        ("Sessions attended / missed", f"{member.sessions_attended} / {member.absent}"),
        ("Events attended ÷ Going", percent(member.events_going - member.no_shows, member.events_going)),
        ("Events attended", str(member.events_attended)),
        ("No-shows", str(member.no_shows)),
        ("Walk-ins", str(member.walk_ins)),
    ]
    points = [
        TimePoint(
            item.session.opened_at,
            int(item.record.status in ("present", "late")),
            int(item.record.status != "excused"),
        )
        for item in records
    ]
    lines = [f"{key}: {value}" for key, value in rows]
    if points:
        chart = Chart(title=title, timezone=timezone, points=points, lines=lines)
    else:
        chart = Chart(title=title, timezone=timezone, bars=_member_bars(member), lines=lines)
    return Report(title, rows, chart)


def event_report(event: Event, tally: EventTally, going: Sequence[int], came: Sequence[int], timezone: str) -> Report:
    missing = [user for user in going if user not in set(came)]
    walk_ins = [user for user in came if user not in set(going)]
    rows = [
        ("Going", str(tally.going)),
        ("Attended", str(tally.attended)),
        ("Attended ÷ Going", percent(tally.going - tally.no_shows, tally.going)),
        ("No-shows", _mentions(missing) if tally.no_shows else "—"),
        ("Walk-ins", _mentions(walk_ins) if walk_ins else "—"),
    ]
    title = f"Event #{event.id} · {event.title}"
    bars = [
        Bar("Going", tally.going),
        Bar("Attended", tally.attended),
        Bar("No-shows", tally.no_shows),
        Bar("Walk-ins", tally.walk_ins),
    ]
    lines = [f"{key}: {value}" for key, value in rows[:3]] + [
        f"No-shows: {tally.no_shows}",
        f"Walk-ins: {tally.walk_ins}",
    ]
    return Report(title, rows, Chart(title=title, timezone=timezone, bars=bars, lines=lines))


def _who(member: MemberTally, name_of: NameOf) -> str:
    return name_of(member.user_id) or member.display_name or str(member.user_id)


def _mentions(user_ids: Sequence[int]) -> str:
    shown = ", ".join(f"<@{user}>" for user in user_ids[:20])
    return shown + (f" +{len(user_ids) - 20} more" if len(user_ids) > 20 else "")


def _event_bars_total(events: Sequence[EventTally]) -> list[Bar]:
    return [
        Bar("Going", sum(event.going for event in events)),
        Bar("Attended", sum(event.attended for event in events)),
        Bar("No-shows", sum(event.no_shows for event in events)),
        Bar("Walk-ins", sum(event.walk_ins for event in events)),
    ]


def _member_bars(member: MemberTally) -> list[Bar]:
    return [
        Bar("Going", member.events_going),
        Bar("Attended", member.events_attended),
        Bar("No-shows", member.no_shows),
        Bar("Walk-ins", member.walk_ins),
    ]
