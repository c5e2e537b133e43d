"""Finding presets and reading slots against the server: the `preset` option's autocomplete
(also used by `/event create preset`), a preset looked up by the name typed, and typed slot roles
matched to this server's roles. Every lookup is scoped to the guild the interaction came from."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands

from bot.errors import InvalidInput, NotFound
from storage.presets import Preset, PresetRepository, Slot
from utils.slots import TypedSlot, name_key
from utils.text import echo, shorten

AUTOCOMPLETE_LIMIT = 25
CHOICE_LIMIT = 100


def not_found(typed: str) -> NotFound:
    return NotFound(
        f"No preset called `{echo(typed)}` in this server. Start typing in the `preset` option to pick one from "
        "the list, or see `/preset list`."
    )


async def find_preset(presets: PresetRepository, guild_id: int | None, typed: str) -> Preset:
    """The preset named `typed` (any case) in this guild, or `#id` of one of this guild's."""
    if guild_id is None:
        raise not_found(typed)
    found = await presets.find_by_name(guild_id, typed)
    if found is None:
        digits = typed.strip().lstrip("#")
        if digits.isdigit() and len(digits) < 19:
            found = await presets.get_in_guild(guild_id, int(digits))
    if found is None:
        raise not_found(typed)
    return found


async def preset_choices(
    presets: PresetRepository, guild_id: int | None, current: str
) -> list[app_commands.Choice[str]]:
    """This guild's presets whose name contains `current` (any case), those starting with it first."""
    if guild_id is None:
        return []
    wanted = name_key(current)
    names = [name for _, name in await presets.list_names(guild_id) if wanted in name_key(name)]
    names.sort(key=lambda name: (not name_key(name).startswith(wanted), name_key(name)))
    # A choice's name and value both hold at most 100 characters; preset names hold 50.
    return [app_commands.Choice(name=shorten(name, CHOICE_LIMIT), value=name) for name in names[:AUTOCOMPLETE_LIMIT]]


def resolve_role(guild: discord.Guild, typed: str, slot_name: str) -> discord.Role:
    """A slot's role typed as `@Name` (any case) or a pasted `<@&id>` mention."""
    role: discord.Role | None
    if typed.startswith("<@&"):
        role = guild.get_role(int(typed[3:-1]))
        if role is None:
            raise InvalidInput(
                f"The role given for **{slot_name}** ({echo(typed)}) is not a role of this server. Type its name, "
                "like `Healer 2 @Healers`."
            )
    else:
        wanted = typed.removeprefix("@").strip().casefold()
        # Discord names the default role "@everyone", so `@everyone` typed loses its @ twice.
        matches = [r for r in guild.roles if r.name.removeprefix("@").casefold() == wanted]
        if not matches:
            raise InvalidInput(
                f"There is no role called `{echo(typed)}` here (for **{slot_name}**). Type a role's name as it "
                "shows in the member list, like `Healer 2 @Healers`, or leave it out and set it later with "
                "`/preset slot_role`."
            )
        if len(matches) > 1:
            raise InvalidInput(
                f"{len(matches)} roles are called `{echo(typed)}` (for **{slot_name}**), so I can't tell which "
                "you mean. Leave it out here and pick the role with `/preset slot_role`."
            )
        role = matches[0]
    if role.is_default():
        raise InvalidInput(
            f"@everyone can't be **{slot_name}**'s role: leave the role out so anyone may take the slot "
            "(`Healer 2`), or name a role, like `Healer 2 @Healers`."
        )
    return role


def resolve_slots(guild: discord.Guild, typed: Sequence[TypedSlot]) -> list[Slot]:
    return [
        Slot(
            position=index,
            name=slot.name,
            seats=slot.seats,
            role_id=resolve_role(guild, slot.role, slot.name).id if slot.role else None,
        )
        for index, slot in enumerate(typed)
    ]


def _role_text(guild: discord.Guild | None, role_id: int) -> str | None:
    role = guild.get_role(role_id) if guild is not None else None
    if role is None:
        return None  # deleted since: the edit form leaves it out
    same_name = [r for r in guild.roles if r.name.casefold() == role.name.casefold()] if guild else []
    # A name with a separator in it, or shared by two roles, would read back as something else.
    if len(same_name) > 1 or any(mark in role.name for mark in ",;\n"):
        return f"<@&{role.id}>"
    return f"@{role.name}"


def slots_as_text(guild: discord.Guild | None, slots: Sequence[Slot]) -> str:
    """The slots as the form shows them again, one per line, roles by name."""
    lines = []
    for slot in slots:
        role = _role_text(guild, slot.role_id) if slot.role_id is not None else None
        lines.append(f"{slot.name} {slot.seats}" + (f" {role}" if role else ""))
    return "\n".join(lines)


def slot_summary(slots: Sequence[Slot]) -> str:
    """`Tank 2 · Healer 2 (@Healers) · DPS 6`, for lists and replies."""
    return " · ".join(
        f"{discord.utils.escape_markdown(slot.name)} {slot.seats}" + (f" (<@&{slot.role_id}>)" if slot.role_id else "")
        for slot in slots
    )
