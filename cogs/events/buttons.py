"""The RSVP buttons of an event post: DynamicItems whose custom id carries the event id, so a
click after a restart needs nothing in memory. One class per answer because a custom id's
template may only capture numbers (tests/test_core.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

import discord

from bot.tree import GuardedItem
from storage.events import RsvpStatus

if TYPE_CHECKING:
    from bot.types import Interaction
    from cogs.events import Events


def _events_cog() -> type[Events]:
    # Imported late: the cog's package imports this module.
    from cogs.events import Events

    return Events


class RsvpButton(
    GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:event:going:(?P<event_id>\d+)"
):
    """Going; the other answers subclass it with their own template."""

    status: ClassVar[RsvpStatus] = "going"
    label: ClassVar[str] = "Going"
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.success

    def __init__(self, event_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.label,
                style=self.style,
                custom_id=f"rollcall:event:{self.status}:{event_id}",
            )
        )
        self.event_id = event_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> RsvpButton:
        return cls(int(match["event_id"]))

    async def run(self, interaction: Interaction) -> None:
        # A DynamicItem is built by discord.py, not by the cog, so the cog is looked up on the client.
        cog = interaction.client.get_cog("Events")
        assert isinstance(cog, _events_cog())
        await cog.rsvp_click(interaction, self.event_id, self.status)


class InterestedButton(RsvpButton, template=r"rollcall:event:interested:(?P<event_id>\d+)"):
    status = "interested"
    label = "Interested"
    style = discord.ButtonStyle.primary


class NotGoingButton(RsvpButton, template=r"rollcall:event:not_going:(?P<event_id>\d+)"):
    status = "not_going"
    label = "Not going"
    style = discord.ButtonStyle.secondary


RSVP_BUTTONS: tuple[type[RsvpButton], ...] = (RsvpButton, InterestedButton, NotGoingButton)
