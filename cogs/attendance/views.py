"""What the roll call looks like in Discord: the code message, summaries, the CSV and the
persistent page buttons of `/attendance sessions`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.checks import ensure_staff
from bot.pages import PageButton
from bot.tree import GuardedItem, RollcallView
from cogs.attendance.verdicts import PRESENCE_CSV_COLUMNS, PresenceSummary, presence_cells, unrecorded
from storage.attendance import AttendanceRecord, AttendanceRepository, AttendanceSession, SessionSummary
from utils.csv_export import Table, time_cells, time_header
from utils.timefmt import discord_timestamp, local_text

if TYPE_CHECKING:
    from bot.types import Interaction

SESSIONS_PAGE_SIZE = 10
CSV_HEADER = (
    "user_id",
    "user_name",
    "display_name",
    "status",
    *time_header("submitted_at"),
    "corrected_by_id",
    "corrected_by",
    # The local twin is last so sheets built on the older columns keep their positions.
    "corrected_at_utc",
    "corrected_at_local",
)


def code_message_embed(session: AttendanceSession, *, code: str, window_ends: datetime, answered: int) -> discord.Embed:
    embed = discord.Embed(
        title="Roll call open",
        description=f"# `{code}`\nType `/here {code}` in this channel to be marked present.",
        colour=discord.Colour.green(),
    )
    embed.add_field(name="Code changes", value=discord_timestamp(window_ends, "R"))
    embed.add_field(name="Answered so far", value=str(answered))
    if session.closes_at is not None:
        embed.add_field(name="Closes", value=discord_timestamp(session.closes_at, "R"))
    embed.set_footer(text=f"Roll call #{session.id}")
    return embed


def counts_line(counts: dict[str, int]) -> str:
    return (
        f"{counts.get('present', 0)} present · {counts.get('late', 0)} late · "
        f"{counts.get('absent', 0)} absent · {counts.get('excused', 0)} excused"
    )


def closed_message_embed(session: AttendanceSession, counts: dict[str, int]) -> discord.Embed:
    closed_at = session.closed_at or session.opened_at
    embed = discord.Embed(
        title="Roll call closed",
        description=f"This roll call closed {discord_timestamp(closed_at, 'f')}.\n{counts_line(counts)}",
        colour=discord.Colour.dark_grey(),
    )
    embed.set_footer(text=f"Roll call #{session.id}")
    return embed


def session_label(session: AttendanceSession, channel_name: str | None, timezone: str) -> str:
    state = "open" if session.is_open else "closed"
    where = f"#{channel_name}" if channel_name else f"channel {session.channel_id}"
    return f"#{session.id} · {where} · {local_text(session.opened_at, timezone)} · {state}"


def session_table(
    records: list[AttendanceRecord],
    timezone: str,
    name_of: Callable[[int], str | None],
    presence: PresenceSummary | None = None,
) -> Table[AttendanceRecord | int]:
    """One row per record; a voice-tracked roll call adds its presence columns, and a row for each
    member who sat in voice without any record (an item that is only their user id)."""

    def record_cells(record: AttendanceRecord) -> tuple[object, ...]:
        return (
            record.user_id,
            record.user_name,
            record.display_name,
            record.status,
            *time_cells(record.submitted_at, timezone),
            record.corrected_by or "",
            (name_of(record.corrected_by) or "") if record.corrected_by else "",
            *time_cells(record.corrected_at, timezone),
        )

    if presence is None:
        return Table(CSV_HEADER, records, record_cells)
    blank = ("",) * (len(CSV_HEADER) - 4)

    def row_of(item: AttendanceRecord | int) -> tuple[object, ...]:
        if isinstance(item, int):
            name = name_of(item) or ""
            return (item, name, name, "", *blank, *presence_cells(presence, item))
        return (*record_cells(item), *presence_cells(presence, item.user_id))

    items: list[AttendanceRecord | int] = [*records, *unrecorded(presence, {record.user_id for record in records})]
    return Table((*CSV_HEADER, *PRESENCE_CSV_COLUMNS), items, row_of)


def session_csv_name(session: AttendanceSession) -> str:
    return f"rollcall-session-{session.id}-{session.opened_at:%Y-%m-%d}.csv"


def sessions_page_embed(summaries: list[SessionSummary], *, page: int, pages: int, total: int) -> discord.Embed:
    embed = discord.Embed(title="Roll calls", colour=discord.Colour.blurple())
    if not summaries:
        embed.description = "No roll calls yet. Open one with `/attendance open`."
        return embed
    lines = []
    for summary in summaries:
        session = summary.session
        state = "🟢 open" if session.is_open else "closed"
        lines.append(
            f"`#{session.id}` <#{session.channel_id}> · {discord_timestamp(session.opened_at, 'f')} · {state}\n"
            f"  {counts_line(summary.counts)}"
        )
    embed.description = "\n".join(lines)
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} roll calls")
    return embed


class SessionsPageButton(
    PageButton,
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"rollcall:attendance:sessions:(?P<page>\d+)",
):
    """Previous/next page of `/attendance sessions`; survives restarts (the page is in the id)."""

    custom_id_prefix = "rollcall:attendance:sessions"

    async def run(self, interaction: Interaction) -> None:
        await ensure_staff(interaction, organizers_allowed=True)
        # A DynamicItem is built by discord.py, not by the cog, so its repository comes from the client.
        embed, view = await render_sessions_page(interaction.client.attendance, interaction.guild_id, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


async def render_sessions_page(
    sessions: AttendanceRepository, guild_id: int, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    total = await sessions.count_sessions(guild_id)
    pages = max(1, -(-total // SESSIONS_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    summaries = await sessions.list_recent(guild_id, limit=SESSIONS_PAGE_SIZE, offset=page * SESSIONS_PAGE_SIZE)
    view = RollcallView(timeout=None)
    view.add_item(SessionsPageButton(max(page - 1, 0), label="◀ Newer", disabled=page == 0))
    # The next button's id must differ from the previous one's even when both are disabled.
    view.add_item(SessionsPageButton(page + 1, label="Older ▶", disabled=page >= pages - 1))
    return sessions_page_embed(summaries, page=page, pages=pages, total=total), view
