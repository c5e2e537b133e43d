"""The preset forms and buttons: the create/edit modal (and "Try again" after a refusal, so
nothing typed is lost), the confirm step of `/preset delete`, and the persistent page buttons of
`/preset list`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import discord

from bot.checks import ensure_staff
from bot.pages import PageButton
from bot.tree import GuardedItem, RollcallModal, RollcallView
from storage.presets import Preset, PresetRepository
from utils.limits import PRESET_DESCRIPTION, PRESET_NAME
from utils.text import shorten

if TYPE_CHECKING:
    from bot.types import Interaction

# What the slots box holds: 25 slots of a 40-character name, a number and a role name fit.
SLOTS_TEXT_LIMIT = 2_000
SLOTS_PLACEHOLDER = "Tank 2, Healer 2 @Healers, DPS 6 (or one per line)"
CONFIRM_TIMEOUT_SECONDS = 300
MODAL_TITLE_LIMIT = 45
LIST_PAGE_SIZE = 10
# Per preset in the list: 10 of these stay inside an embed's 6,000 characters.
LIST_SLOTS_LIMIT = 450


@dataclass(frozen=True, slots=True)
class PresetForm:
    """What the preset modal holds: as prefilled, then as typed."""

    name: str
    description: str
    slots: str

    def typed_back(self) -> str:
        def clean(text: str, limit: int) -> str:
            return shorten(text.replace("`", "'"), limit)

        lines = [
            f"Name: {clean(self.name, PRESET_NAME.high + 10)}",
            f"Slots: {clean(self.slots, 600)}",
            f"Description: {clean(self.description, 400)}",
        ]
        return (
            "Nothing was saved. What you typed (**Try again** reopens the form with it):\n```\n"
            + "\n".join(lines)
            + "\n```"
        )


class PresetHandler(Protocol):
    async def save_form(self, interaction: Interaction, preset_id: int | None, typed: PresetForm) -> None: ...

    async def confirm_delete(self, interaction: Interaction, preset_id: int) -> None: ...


class PresetModal(RollcallModal, title="New preset"):
    preset_name: discord.ui.TextInput = discord.ui.TextInput(
        label="Name", custom_id="preset_name", min_length=PRESET_NAME.low, max_length=PRESET_NAME.high
    )
    slots: discord.ui.TextInput = discord.ui.TextInput(
        label="Slots (name and seats, comma or line apart)",
        custom_id="preset_slots",
        style=discord.TextStyle.paragraph,
        placeholder=SLOTS_PLACEHOLDER,
        max_length=SLOTS_TEXT_LIMIT,
    )
    description: discord.ui.TextInput = discord.ui.TextInput(
        label="Description",
        custom_id="preset_description",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=PRESET_DESCRIPTION.high,
    )

    def __init__(self, handler: PresetHandler, preset_id: int | None, shown: PresetForm | None = None) -> None:
        title = "New preset" if preset_id is None else f"Edit preset #{preset_id}"
        super().__init__(title=shorten(title, MODAL_TITLE_LIMIT))
        self.handler = handler
        self.preset_id = preset_id
        if shown is not None:
            self.preset_name.default = shown.name[: PRESET_NAME.high] or None
            self.slots.default = shown.slots[:SLOTS_TEXT_LIMIT] or None
            self.description.default = shown.description[: PRESET_DESCRIPTION.high] or None

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        typed = PresetForm(name=self.preset_name.value, description=self.description.value, slots=self.slots.value)
        await self.handler.save_form(interaction, self.preset_id, typed)


class TryAgainView(RollcallView):
    """Under a refused form: reopens it with what was typed."""

    def __init__(self, handler: PresetHandler, preset_id: int | None, typed: PresetForm) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_SECONDS)
        self.handler = handler
        self.preset_id = preset_id
        self.typed = typed

    @discord.ui.button(label="Try again", style=discord.ButtonStyle.primary)
    async def try_again(self, interaction: Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(PresetModal(self.handler, self.preset_id, self.typed))


class DeleteConfirmView(RollcallView):
    """Sent ephemerally, so only the organizer who asked can click it."""

    def __init__(self, handler: PresetHandler, preset_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_SECONDS)
        self.handler = handler
        self.preset_id = preset_id

    @discord.ui.button(label="Delete the preset", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await self.handler.confirm_delete(interaction, self.preset_id)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Kept: nothing was changed.", view=None)


def slot_lines(preset: Preset) -> str:
    return "\n".join(
        f"**{discord.utils.escape_markdown(slot.name)}** — {slot.seats} seat{'s' if slot.seats != 1 else ''}"
        + (f" · only <@&{slot.role_id}>" if slot.role_id else "")
        for slot in preset.slots
    )


def preset_embed(preset: Preset) -> discord.Embed:
    embed = discord.Embed(title=shorten(f"Preset · {preset.name}", 256), colour=discord.Colour.blurple())
    parts = [preset.description] if preset.description else []
    parts.append(f"**Slots** ({len(preset.slots)}, {preset.total} seats in all)\n{slot_lines(preset)}")
    embed.description = "\n\n".join(parts)
    embed.set_footer(text=f"Preset #{preset.id} · use it with /event create preset:{shorten(preset.name, 60)}")
    return embed


async def render_list_page(
    presets: PresetRepository, guild_id: int, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    total = await presets.count(guild_id)
    pages = max(1, -(-total // LIST_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    found = await presets.list(guild_id, limit=LIST_PAGE_SIZE, offset=page * LIST_PAGE_SIZE)
    embed = discord.Embed(title="Presets", colour=discord.Colour.blurple())
    if not found:
        embed.description = "No presets in this server yet. Create one with `/preset create`."
        return embed, None
    for preset in found:
        summary = ", ".join(f"{slot.name} {slot.seats}" for slot in preset.slots)
        embed.add_field(
            name=shorten(f"{preset.name} · {preset.total} seats", 256),
            value=shorten(discord.utils.escape_markdown(summary), LIST_SLOTS_LIMIT),
            inline=False,
        )
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} presets")
    if pages == 1:
        return embed, None
    view = RollcallView(timeout=None)
    view.add_item(PresetsPageButton(max(page - 1, 0), label="◀ Previous", disabled=page == 0))
    view.add_item(PresetsPageButton(page + 1, label="Next ▶", disabled=page >= pages - 1))
    return embed, view


class PresetsPageButton(
    PageButton, GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:preset:list:(?P<page>\d+)"
):
    """Previous/next page of `/preset list`; the page is in the custom id, so it survives restarts."""

    custom_id_prefix = "rollcall:preset:list"

    async def run(self, interaction: Interaction) -> None:
        await ensure_staff(interaction, organizers_allowed=True)
        # A DynamicItem is built by discord.py, not by the cog, so its repository comes from the client.
        embed, view = await render_list_page(interaction.client.presets, interaction.guild_id or 0, self.page)
        await interaction.response.edit_message(embed=embed, view=view)
