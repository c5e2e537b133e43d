"""What `/attendance status` shows: one field per open roll call, kept inside Discord's embed
limits however many roll calls are open and however many members are locked out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import discord

from bot.replies import EMBED_FIELD_VALUE_LIMIT, EMBED_FIELDS_LIMIT, EMBED_TOTAL_LIMIT
from cogs.attendance.verdicts import PresenceSummary, no_code_line, verdicts_line
from cogs.attendance.views import counts_line
from storage.attendance import AttendanceSession
from utils.csv_export import build_csv
from utils.text import join_some, shorten
from utils.timefmt import discord_timestamp, local_iso, utc_iso

# Ten mentions stay readable at a glance; the rest go into the attached file.
LOCKOUTS_SHOWN = 10
LOCKOUTS_FILE = "rollcall-lockouts.csv"
LOCKOUTS_HEADER = ("session_id", "channel_id", "user_id", "display_name", "locked_at_utc", "locked_at_local")
# Room kept for the closing "+N more open roll calls" field and the description.
RESERVED_CHARACTERS = 300


@dataclass(frozen=True)
class OpenSessionStatus:
    session: AttendanceSession
    channel_name: str
    counts: dict[str, int]
    lockouts: list[tuple[int, datetime]]
    next_code_at: datetime
    # A voice-tracked roll call: its verdicts so far and how many sit in the channel now.
    presence: PresenceSummary | None = None
    in_voice_now: int = 0


def _lockouts_line(lockouts: list[tuple[int, datetime]]) -> str:
    if not lockouts:
        return "Locked out: nobody"
    mentions = [f"<@{user_id}>" for user_id, _ in lockouts]
    shown, more = join_some(mentions, shown=LOCKOUTS_SHOWN)
    if not more:
        return f"Locked out: {shown}"
    return f"Locked out ({len(lockouts)}): {shown} +{more} more, all in the attached file"


def _field(status: OpenSessionStatus) -> tuple[str, str]:
    session = status.session
    lines = [
        f"Opened {discord_timestamp(session.opened_at, 'R')} by <@{session.opened_by}>",
        counts_line(status.counts),
        f"Code changes every {session.interval_seconds} s (next {discord_timestamp(status.next_code_at, 'R')})",
    ]
    if session.closes_at:
        lines.append(f"Closes {discord_timestamp(session.closes_at, 'R')}")
    if status.presence is not None:
        lines.append(f"In <#{session.voice_channel_id}> now: {status.in_voice_now}")
        lines.append(f"So far: {verdicts_line(status.presence)}")
        no_code = no_code_line(status.presence)
        if no_code:
            lines.append(no_code)
    lines.append(_lockouts_line(status.lockouts))
    return f"#{session.id} in #{status.channel_name}", shorten("\n".join(lines), EMBED_FIELD_VALUE_LIMIT)


def status_embed(statuses: list[OpenSessionStatus]) -> tuple[discord.Embed, bool]:
    """The embed of the open roll calls, and whether some lock-outs are only in the file."""
    embed = discord.Embed(title="Roll call status", colour=discord.Colour.green())
    if len(statuses) > 1:
        embed.description = f"{len(statuses)} roll calls are open."
    budget = EMBED_TOTAL_LIMIT - len(embed.title or "") - len(embed.description or "") - RESERVED_CHARACTERS
    shown = 0
    for status in statuses:
        name, value = _field(status)
        if len(embed.fields) == EMBED_FIELDS_LIMIT - 1 or len(name) + len(value) > budget:
            break
        embed.add_field(name=name, value=value, inline=False)
        budget -= len(name) + len(value)
        shown += 1
    lockouts_listed = sum(min(len(s.lockouts), LOCKOUTS_SHOWN) for s in statuses[:shown])
    needs_file = lockouts_listed < sum(len(s.lockouts) for s in statuses)
    hidden = len(statuses) - shown
    if hidden:
        where = "See every roll call with `/attendance sessions`."
        if needs_file:
            where += " Their lock-outs are in the attached file."
        embed.add_field(name=f"+{hidden} more open roll calls", value=where, inline=False)
    return embed, needs_file


def lockouts_csv(statuses: list[OpenSessionStatus], timezone: str, name_of: Callable[[int], str | None]) -> bytes:
    rows = [
        (
            status.session.id,
            status.session.channel_id,
            user_id,
            name_of(user_id) or "",
            utc_iso(locked_at),
            local_iso(locked_at, timezone),
        )
        for status in statuses
        for user_id, locked_at in status.lockouts
    ]
    return build_csv(LOCKOUTS_HEADER, rows)
