"""Permission checks shared by every admin command, done in code on each call.

Discord's `default_permissions` only hides commands; server owners can override it per
role or channel, so the bot decides for itself who may run an admin action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.errors import InvalidInput, NotAllowed

if TYPE_CHECKING:
    from bot.types import Interaction
    from storage.guild_config import GuildConfig

T = TypeVar("T")
AutocompleteCallback = TypeVar("AutocompleteCallback", bound=Callable[..., Any])

# Stored in each command's `extras` so /help and the structural tests know who may run it.
AUDIENCE_EVERYONE = "everyone"
AUDIENCE_ORGANIZER = "organizer"
AUDIENCE_ADMIN = "admin"

POSTING_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "attach_files")


def is_admin(member: discord.Member, permissions: discord.Permissions) -> bool:
    return permissions.manage_guild or permissions.administrator or member.guild.owner_id == member.id


def is_organizer(member: discord.Member, config: GuildConfig) -> bool:
    return config.organizer_role_id is not None and member.get_role(config.organizer_role_id) is not None


def command_audience(command: app_commands.Command | app_commands.Group) -> str:
    """A command's own audience, else its parent group's, else everyone."""
    node: app_commands.Command | app_commands.Group | None = command
    while node is not None:
        audience = node.extras.get("audience")
        if audience:
            return audience
        node = node.parent
    return AUDIENCE_EVERYONE


def may_use(audience: str, member: discord.Member, permissions: discord.Permissions, config: GuildConfig) -> bool:
    if audience == AUDIENCE_EVERYONE:
        return True
    if is_admin(member, permissions):
        return True
    return audience == AUDIENCE_ORGANIZER and is_organizer(member, config)


async def ensure_staff(interaction: Interaction, *, organizers_allowed: bool) -> GuildConfig:
    """Refuse unless the caller is an admin (Manage Server) or, where allowed, an organizer,
    and unless the command was run in the admin channel when one is set."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise NotAllowed("This command works only in a server.")
    config = await interaction.client.guild_configs.get(interaction.guild.id)
    audience = AUDIENCE_ORGANIZER if organizers_allowed else AUDIENCE_ADMIN
    if not may_use(audience, interaction.user, interaction.permissions, config):
        who = "server admins (Manage Server)"
        if organizers_allowed:
            who += " and the organizer role"
        raise NotAllowed(f"Only {who} can use this command.")
    admin_channel_id = config.admin_channel_id
    # A deleted admin channel must not lock admins out of /config, so only an existing one is enforced.
    if admin_channel_id is not None and interaction.guild.get_channel(admin_channel_id) is not None:
        channel = interaction.channel
        parent_id = getattr(channel, "parent_id", None)
        if interaction.channel_id != admin_channel_id and parent_id != admin_channel_id:
            raise NotAllowed(f"Admin commands answer only in <#{admin_channel_id}>. Run it there.")
    return config


def staff_only(*, organizers_allowed: bool = True) -> Callable[[T], T]:
    """Decorator for admin commands: the in-code check plus Discord-side defaults."""

    async def predicate(interaction: discord.Interaction) -> bool:
        await ensure_staff(interaction, organizers_allowed=organizers_allowed)
        return True

    def decorator(command: T) -> T:
        return app_commands.check(predicate)(command)

    return decorator


def staff_autocomplete(callback: AutocompleteCallback) -> AutocompleteCallback:
    """For every autocomplete of a staff command: offer nothing to whoever the command itself
    would refuse, so a student can't read session ids, channels or times from the choices.

    discord.py runs no command checks before an autocomplete callback; it runs the checks
    attached to the callback and answers an empty list when one fails. The audience is read
    from the command being completed, so it can't drift from the command's own rule."""

    async def predicate(interaction: discord.Interaction) -> bool:
        command = interaction.command
        audience = command_audience(command) if command is not None else AUDIENCE_ADMIN
        if audience == AUDIENCE_EVERYONE:
            return True
        try:
            await ensure_staff(interaction, organizers_allowed=audience == AUDIENCE_ORGANIZER)
        except NotAllowed:
            return False
        return True

    return app_commands.check(predicate)(callback)


def ensure_in_range(label: str, value: int, bounds: tuple[int, int], unit: str) -> None:
    """Discord enforces an option's min/max only in its own client, so the bot checks again."""
    low, high = bounds
    if not low <= value <= high:
        raise InvalidInput(f"{label} must be between {low} and {high} {unit}; you gave {value}.")


def missing_posting_permissions(channel: discord.abc.GuildChannel) -> list[str]:
    me = channel.guild.me
    granted = channel.permissions_for(me)
    return [name for name in POSTING_PERMISSIONS if not getattr(granted, name)]


def ensure_can_post(channel: discord.abc.GuildChannel) -> None:
    missing = missing_posting_permissions(channel)
    if missing:
        names = ", ".join(name.replace("_", " ").title() for name in missing)
        raise InvalidInput(
            f"I can't post in {channel.mention}: I'm missing {names} there. Give my role those permissions "
            "in the channel's settings (Edit Channel → Permissions), then try again."
        )


def ensure_private_admin_channel(channel: discord.abc.GuildChannel) -> None:
    """Close reports and their CSVs are posted in the admin channel, so @everyone must not see it."""
    if channel.permissions_for(channel.guild.default_role).view_channel:
        raise InvalidInput(
            f"{channel.mention} is visible to @everyone, so roll-call reports and their CSVs posted there would be "
            f"public. Deny View Channel for @everyone in {channel.mention}'s permissions (Edit Channel → "
            "Permissions), or pick a private channel, then try again."
        )


def ensure_role_sees_admin_channel(role: discord.Role, channel: discord.abc.GuildChannel) -> None:
    """Organizers run their commands in the admin channel, so their role must be able to open it."""
    if not channel.permissions_for(role).view_channel:
        raise InvalidInput(
            f"{role.mention} can't view the admin channel {channel.mention}, so organizers couldn't use their "
            f"commands there. Allow View Channel for {role.mention} in {channel.mention}'s permissions "
            "(Edit Channel → Permissions), then try again."
        )


def ensure_assignable(role: discord.Role) -> None:
    guild = role.guild
    if role.is_default():
        raise InvalidInput("@everyone can't be used here: pick a role that members are given.")
    if role.managed:
        raise InvalidInput(f"{role.mention} is managed by an integration and can't be given by me. Pick another role.")
    top = guild.me.top_role
    if role >= top:
        raise InvalidInput(
            f"{role.mention} is at or above my highest role ({top.mention}), so I can't give it. "
            "Drag my role above it in Server Settings → Roles, then try again."
        )
