"""The organizer's forms for one event: the prefilled edit modal (and its "edit again" button
after a refusal, so nothing typed is lost) and the confirm step of `/event cancel`.

Both are short-lived and belong to the organizer who opened them: they are plain views and
modals, not persistent items, and every submit or click re-checks permission and re-reads the
event before acting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import discord

from bot.tree import RollcallModal, RollcallView
from utils.limits import EVENT_DESCRIPTION, EVENT_LOCATION, EVENT_TITLE
from utils.text import shorten
from utils.when import MAX_TEXT

if TYPE_CHECKING:
    from bot.types import Interaction

# A confirm left open this long is stale: the organizer runs /event cancel again.
CONFIRM_TIMEOUT_SECONDS = 300
MODAL_TITLE_LIMIT = 45
# How much of a long description a refusal shows in the message; the edit-again button keeps all of it.
ECHO_DESCRIPTION = 1_000


@dataclass(frozen=True, slots=True)
class EditForm:
    """What the edit modal holds: the event's values as prefilled, then as typed."""

    title: str
    description: str
    start: str
    end: str
    location: str

    def typed_back(self) -> str:
        return "Nothing was changed. What you typed (**Edit again** reopens the form with it):\n" + typed_block(self)


def typed_block(form: EditForm) -> str:
    """An event form's fields as typed, in a code block to copy back (a modal's text is lost once it closes)."""

    def clean(text: str, limit: int) -> str:
        return shorten(text.replace("`", "'"), limit)

    lines = [
        f"Title: {clean(form.title, EVENT_TITLE.high)}",
        f"Start: {clean(form.start, MAX_TEXT)}",
        f"End: {clean(form.end, MAX_TEXT)}",
        f"Location: {clean(form.location, EVENT_LOCATION.high)}",
        f"Description: {clean(form.description, ECHO_DESCRIPTION)}",
    ]
    return "```\n" + "\n".join(lines) + "\n```"


class EditHandler(Protocol):
    async def apply_edit(
        self, interaction: Interaction, event_id: int, prefilled: EditForm, typed: EditForm
    ) -> None: ...

    async def confirm_cancel(self, interaction: Interaction, event_id: int) -> None: ...


class EditEventModal(RollcallModal, title="Edit event"):
    event_title: discord.ui.TextInput = discord.ui.TextInput(
        label="Title", min_length=max(EVENT_TITLE.low, 1), max_length=EVENT_TITLE.high
    )
    description: discord.ui.TextInput = discord.ui.TextInput(
        label="Description", style=discord.TextStyle.paragraph, required=False, max_length=EVENT_DESCRIPTION.high
    )
    start: discord.ui.TextInput = discord.ui.TextInput(label="Start (server time zone)", max_length=MAX_TEXT)
    end: discord.ui.TextInput = discord.ui.TextInput(label="End (server time zone)", max_length=MAX_TEXT)
    location: discord.ui.TextInput = discord.ui.TextInput(
        label="Location", required=False, max_length=EVENT_LOCATION.high
    )

    def __init__(self, handler: EditHandler, event_id: int, prefilled: EditForm, shown: EditForm) -> None:
        super().__init__(title=shorten(f"Edit event #{event_id}", MODAL_TITLE_LIMIT))
        self.handler = handler
        self.event_id = event_id
        self.prefilled = prefilled
        self.event_title.default = shown.title[: EVENT_TITLE.high]
        self.description.default = shown.description[: EVENT_DESCRIPTION.high] or None
        self.start.default = shown.start[:MAX_TEXT]
        self.end.default = shown.end[:MAX_TEXT]
        self.location.default = shown.location[: EVENT_LOCATION.high] or None

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        typed = EditForm(
            title=self.event_title.value,
            description=self.description.value,
            start=self.start.value,
            end=self.end.value,
            location=self.location.value,
        )
        await self.handler.apply_edit(interaction, self.event_id, self.prefilled, typed)


class EditAgainView(RollcallView):
    """Under a refused edit: reopens the form with what was typed, compared against the same
    prefilled values (so an unchanged start is still recognised as unchanged)."""

    def __init__(self, handler: EditHandler, event_id: int, prefilled: EditForm, typed: EditForm) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_SECONDS)
        self.handler = handler
        self.event_id = event_id
        self.prefilled = prefilled
        self.typed = typed

    @discord.ui.button(label="Edit again", style=discord.ButtonStyle.primary)
    async def edit_again(self, interaction: Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(EditEventModal(self.handler, self.event_id, self.prefilled, self.typed))


class CancelConfirmView(RollcallView):
    """Sent ephemerally, so only the organizer who asked can click it."""

    def __init__(self, handler: EditHandler, event_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_SECONDS)
        self.handler = handler
        self.event_id = event_id

    @discord.ui.button(label="Cancel the event", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await self.handler.confirm_cancel(interaction, self.event_id)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Kept: nothing was changed.", view=None)
