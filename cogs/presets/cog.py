"""/preset create, list, show, edit, delete and slot_role (SPEC section 5).

Every preset command is for organizers (admins and the organizer role, in the admin channel when
one is set), checked in code on the command and again on every modal submit and confirm click,
which come later. A preset is always looked up in the guild the interaction came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import AUDIENCE_ORGANIZER, ensure_staff, staff_autocomplete, staff_only
from bot.errors import InvalidInput, NotFound
from bot.replies import send_reply
from cogs.presets.lookup import find_preset, preset_choices, resolve_role, resolve_slots, slot_summary, slots_as_text
from cogs.presets.views import (
    DeleteConfirmView,
    PresetForm,
    PresetModal,
    PresetsPageButton,
    TryAgainView,
    preset_embed,
    render_list_page,
)
from storage.presets import Preset, PresetNameTaken
from utils.limits import PRESET_DESCRIPTION, PRESET_NAME
from utils.slots import SlotsRefused, clean_name, name_key, parse_slots
from utils.text import echo, shorten

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.types import Interaction
    from storage.presets import PresetRepository

NAME_EXAMPLE = "`Raid night` or `Dungeon 🗡️`"
PRESET_OPTION = "The preset (start typing its name)"


class Presets(commands.Cog):
    preset_group = app_commands.Group(
        name="preset",
        description="Party presets: reusable slot templates for events",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
        extras={"audience": AUDIENCE_ORGANIZER},
    )
    dynamic_items = (PresetsPageButton,)

    def __init__(self, bot: Rollcall, *, presets: PresetRepository, clock: Clock) -> None:
        self.bot = bot
        self.presets = presets
        self.clock = clock

    @staff_autocomplete
    async def preset_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await preset_choices(self.presets, interaction.guild_id, current)

    @staff_autocomplete
    async def slot_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The slots of the preset already chosen in the `preset` option."""
        typed = getattr(interaction.namespace, "preset", None)
        if not isinstance(typed, str) or interaction.guild_id is None:
            return []
        preset = await self.presets.find_by_name(interaction.guild_id, typed)
        if preset is None:
            return []
        wanted = name_key(current)
        return [
            app_commands.Choice(name=shorten(f"{slot.name} ({slot.seats})", 100), value=slot.name)
            for slot in preset.slots
            if wanted in name_key(slot.name)
        ][:25]

    # ---- create and edit -----------------------------------------------------------------

    @preset_group.command(name="create", description="Create a preset: a name and slots like Tank 2, Healer 2, DPS 6")
    @staff_only()
    async def preset_create(self, interaction: Interaction) -> None:
        await interaction.response.send_modal(PresetModal(self, None))

    @preset_group.command(name="edit", description="Change a preset's name, description or slots (events keep theirs)")
    @app_commands.describe(preset=PRESET_OPTION)
    @app_commands.autocomplete(preset=preset_autocomplete)
    @staff_only()
    async def preset_edit(self, interaction: Interaction, preset: app_commands.Range[str, 1, 100]) -> None:
        found = await find_preset(self.presets, interaction.guild_id, preset)
        shown = PresetForm(
            name=found.name, description=found.description, slots=slots_as_text(interaction.guild, found.slots)
        )
        await interaction.response.send_modal(PresetModal(self, found.id, shown))

    async def save_form(self, interaction: Interaction, preset_id: int | None, typed: PresetForm) -> None:
        """A submitted create or edit form: every refusal repeats what was typed and saves nothing."""
        await ensure_staff(interaction, organizers_allowed=True)
        guild = interaction.guild
        assert guild is not None  # ensure_staff refuses outside a server

        async def refuse(reason: str) -> None:
            await send_reply(interaction, f"{reason}\n{typed.typed_back()}", view=TryAgainView(self, preset_id, typed))

        existing: Preset | None = None
        if preset_id is not None:
            existing = await self.presets.get_in_guild(guild.id, preset_id)
            if existing is None:
                raise NotFound(f"That preset was deleted meanwhile, so nothing was saved.\n{typed.typed_back()}")
        name = clean_name(typed.name)
        description = typed.description.strip()
        if not name:
            await refuse(f"The name can't be only spaces. Name it like {NAME_EXAMPLE}.")
            return
        if len(name) > PRESET_NAME.high or len(description) > PRESET_DESCRIPTION.high:
            await refuse(
                f"The name holds at most {PRESET_NAME.high} characters and the description {PRESET_DESCRIPTION.high}."
            )
            return
        try:
            slots = resolve_slots(guild, parse_slots(typed.slots))
        except SlotsRefused as refused:
            await refuse(refused.message)
            return
        except InvalidInput as refused:
            await refuse(refused.message)
            return
        now = self.clock.now()
        try:
            if existing is None:
                saved = await self.presets.create(
                    guild_id=guild.id,
                    name=name,
                    description=description,
                    slots=slots,
                    actor_id=interaction.user.id,
                    now=now,
                )
            else:
                updated = await self.presets.update(
                    existing, name=name, description=description, slots=slots, actor_id=interaction.user.id, now=now
                )
                if updated is None:
                    raise NotFound(f"That preset was deleted meanwhile, so nothing was saved.\n{typed.typed_back()}")
                saved = updated
        except PresetNameTaken as taken:
            await refuse(
                f"This server already has a preset called **{discord.utils.escape_markdown(taken.existing)}** "
                f"(names ignore case). Pick another name, like `{echo(shorten(name, 40))} 2`, or change that one "
                "with `/preset edit`."
            )
            return
        verb = "Created" if existing is None else "Saved"
        tail = "" if existing is None else " Events already made from it keep their own slots."
        await send_reply(
            interaction,
            f"{verb} preset **{discord.utils.escape_markdown(saved.name)}**: {slot_summary(saved.slots)} "
            f"({saved.total} seats in all). Use it with `/event create preset:`.{tail}",
        )

    # ---- list and show -------------------------------------------------------------------

    @preset_group.command(name="list", description="This server's presets with their slots, ten per page")
    @staff_only()
    async def preset_list(self, interaction: Interaction) -> None:
        embed, view = await render_list_page(self.presets, interaction.guild_id or 0, 0)
        await send_reply(interaction, embed=embed, view=view)

    @preset_group.command(name="show", description="A preset's description and slots")
    @app_commands.describe(preset=PRESET_OPTION)
    @app_commands.autocomplete(preset=preset_autocomplete)
    @staff_only()
    async def preset_show(self, interaction: Interaction, preset: app_commands.Range[str, 1, 100]) -> None:
        found = await find_preset(self.presets, interaction.guild_id, preset)
        await send_reply(interaction, embed=preset_embed(found))

    # ---- delete --------------------------------------------------------------------------

    @preset_group.command(name="delete", description="Delete a preset (events made from it keep their slots)")
    @app_commands.describe(preset=PRESET_OPTION)
    @app_commands.autocomplete(preset=preset_autocomplete)
    @staff_only()
    async def preset_delete(self, interaction: Interaction, preset: app_commands.Range[str, 1, 100]) -> None:
        found = await find_preset(self.presets, interaction.guild_id, preset)
        await send_reply(
            interaction,
            f"Delete the preset **{discord.utils.escape_markdown(found.name)}** ({slot_summary(found.slots)})? "
            "Events already made from it keep their slots. This can't be undone.",
            view=DeleteConfirmView(self, found.id),
        )

    async def confirm_delete(self, interaction: Interaction, preset_id: int) -> None:
        await ensure_staff(interaction, organizers_allowed=True)
        found = await self.presets.get_in_guild(interaction.guild_id or 0, preset_id)
        if found is None or not await self.presets.delete(found, actor_id=interaction.user.id, now=self.clock.now()):
            await interaction.response.edit_message(content="That preset was already deleted.", view=None)
            return
        await interaction.response.edit_message(
            content=f"Deleted the preset **{discord.utils.escape_markdown(found.name)}**.", view=None
        )

    # ---- slot_role -----------------------------------------------------------------------

    @preset_group.command(name="slot_role", description="Let only members with a role take one slot of a preset")
    @app_commands.describe(
        preset=PRESET_OPTION,
        slot="The slot (start typing its name)",
        role="Members need this role for the slot; leave it out to open the slot to everyone",
    )
    @app_commands.autocomplete(preset=preset_autocomplete, slot=slot_autocomplete)
    @staff_only()
    async def preset_slot_role(
        self,
        interaction: Interaction,
        preset: app_commands.Range[str, 1, 100],
        slot: app_commands.Range[str, 1, 100],
        role: discord.Role | None = None,
    ) -> None:
        found = await find_preset(self.presets, interaction.guild_id, preset)
        wanted = name_key(slot)
        chosen = next((s for s in found.slots if name_key(s.name) == wanted), None)
        if chosen is None:
            names = ", ".join(f"`{s.name}`" for s in found.slots)
            raise InvalidInput(
                f"**{discord.utils.escape_markdown(found.name)}** has no slot called `{echo(slot)}`; "
                f"its slots are {shorten(names, 1500)}. Nothing was changed."
            )
        if role is not None and interaction.guild is not None:
            resolve_role(interaction.guild, f"<@&{role.id}>", chosen.name)
        if (role.id if role else None) == chosen.role_id:
            raise InvalidInput("That slot already reads like that; nothing was changed.")
        if not await self.presets.set_slot_role(
            found, chosen.position, role.id if role else None, actor_id=interaction.user.id, now=self.clock.now()
        ):
            raise NotFound("That preset or slot was deleted meanwhile; nothing was changed.")
        who = f"members with {role.mention}" if role else "everyone"
        await send_reply(
            interaction,
            f"**{discord.utils.escape_markdown(chosen.name)}** of **{discord.utils.escape_markdown(found.name)}** "
            f"is now open to {who}. Events already made from the preset keep their own slots.",
        )
