"""The slot sign-up on a slotted event's post: a persistent select menu whose custom id carries
the event id (`rollcall:event:slot:<id>`), and the "join the waitlist" button offered when a
member picks a full slot (`rollcall:event:slotwait:<id>:<slot>`). Both re-read everything from
the database when used, so they work after a restart; the decisions are in
cogs/events/slot_signup.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.tree import GuardedItem
from storage.event_slots import SlotView
from utils.limits import MAX_SLOTS
from utils.text import shorten

if TYPE_CHECKING:
    from bot.types import Interaction
    from cogs.events import Events

LEAVE_VALUE = "leave"
OPTION_TEXT_LIMIT = 100
# Names listed per slot on the post before "+N more"; fewer when the slots would not fit an embed.
NAMES_PER_SLOT = (10, 5, 2, 0)
FIELD_LIMIT = 1024
# What the slot fields may take of the embed's 6,000 characters (the rest: title, times, description).
SLOT_FIELDS_BUDGET = 3_000


def _events_cog(interaction: Interaction) -> Events:
    # Imported late: the cog's package imports this module.
    from cogs.events import Events

    cog = interaction.client.get_cog("Events")
    assert isinstance(cog, Events)
    return cog


def slot_label(view: SlotView) -> str:
    return f"{view.slot.name} {len(view.seated)}/{view.slot.seats}"


def slot_line(view: SlotView, names: int) -> str:
    """`**Tank 1/2** — <@1>` with the waitlist counted: what the post shows per slot."""
    line = f"**{discord.utils.escape_markdown(slot_label(view))}**"
    if view.slot.role_id is not None:
        line += f" (<@&{view.slot.role_id}>)"
    mentions = [f"<@{user_id}>" for user_id in view.seated]
    if mentions and names:
        shown = ", ".join(mentions[:names])
        if len(mentions) > names:
            shown += f" +{len(mentions) - names} more"
        line += f" — {shown}"
    if view.waiting:
        line += f" · {len(view.waiting)} waiting"
    return line


def _chunks(lines: Sequence[str]) -> list[str]:
    chunks: list[str] = []
    for line in lines:
        line = shorten(line, FIELD_LIMIT)
        if chunks and len(chunks[-1]) + 1 + len(line) <= FIELD_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def slot_fields(board: Sequence[SlotView]) -> list[str]:
    """The slot lines in as few fields as hold them, naming fewer members per slot when all of
    them would not fit the post."""
    for names in NAMES_PER_SLOT:
        chunks = _chunks([slot_line(view, names) for view in board])
        if sum(len(chunk) for chunk in chunks) <= SLOT_FIELDS_BUDGET:
            return chunks
    return chunks


def _option_description(view: SlotView) -> str:
    free = view.slot.seats - len(view.seated)
    text = f"{free} of {view.slot.seats} free" if free > 0 else "Full: pick it to join its waitlist"
    if view.waiting and free <= 0:
        text += f" ({len(view.waiting)} waiting)"
    if view.slot.role_id is not None:
        text += " · role needed"
    return text


class SlotSelect(
    GuardedItem, discord.ui.DynamicItem[discord.ui.Select], template=r"rollcall:event:slot:(?P<event_id>\d+)"
):
    """Pick a slot to sign up, another one to switch, or "Leave my slot"."""

    def __init__(self, event_id: int, board: Sequence[SlotView] = ()) -> None:
        options = [
            discord.SelectOption(
                label=shorten(slot_label(view), OPTION_TEXT_LIMIT),
                value=str(view.slot.position),
                description=shorten(_option_description(view), OPTION_TEXT_LIMIT),
            )
            for view in board
        ]
        # A select offers at most 25 options; with 25 slots, Not going is how to leave.
        if len(options) < MAX_SLOTS:
            options.append(discord.SelectOption(label="Leave my slot", value=LEAVE_VALUE, emoji="🚪"))
        super().__init__(
            discord.ui.Select(
                custom_id=f"rollcall:event:slot:{event_id}",
                placeholder="Pick your slot (pick another to switch)",
                min_values=1,
                max_values=1,
                options=options,
            )
        )
        self.event_id = event_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Select, match: re.Match[str], /
    ) -> SlotSelect:
        built = cls(int(match["event_id"]))
        # Keep the options the member saw, so the chosen value is read against them.
        built.item.options = list(item.options)
        return built

    async def run(self, interaction: Interaction) -> None:
        chosen = self.item.values[0] if self.item.values else LEAVE_VALUE
        position = None if chosen == LEAVE_VALUE or not chosen.isdigit() else int(chosen)
        await _events_cog(interaction).slot_pick(interaction, self.event_id, position)


class SlotWaitButton(
    GuardedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"rollcall:event:slotwait:(?P<event_id>\d+):(?P<position>\d+)",
):
    """Offered under "this slot is full": join that slot's waitlist."""

    def __init__(self, event_id: int, position: int, *, label: str = "Join the waitlist") -> None:
        super().__init__(
            discord.ui.Button(
                label=shorten(label, 80),
                style=discord.ButtonStyle.primary,
                custom_id=f"rollcall:event:slotwait:{event_id}:{position}",
            )
        )
        self.event_id = event_id
        self.position = position

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> SlotWaitButton:
        return cls(int(match["event_id"]), int(match["position"]), label=item.label or "Join the waitlist")

    async def run(self, interaction: Interaction) -> None:
        await _events_cog(interaction).slot_wait(interaction, self.event_id, self.position)


SLOT_ITEMS = (SlotSelect, SlotWaitButton)
