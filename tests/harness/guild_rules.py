"""What Discord refuses a bot in a server, checked before the fake acts on a call.

From discord-api-docs: `developers/topics/permissions.mdx` ("Permission Hierarchy": a bot can
grant roles only below its own highest role, and kick only members whose highest role is lower
than its own; the owner is above everyone; denying Send Messages implicitly denies Attach Files
and Embed Links), `developers/resources/message.mdx` (Create Message needs Send Messages in a
guild channel) and `developers/topics/opcodes-and-status-codes.mdx` (50001 Missing access, 50007
Cannot send messages to this user, 50013 You lack permissions, 50278 no mutual guilds). Each
refusal is the `discord.Forbidden` discord.py raises for Discord's answer."""

from __future__ import annotations

import discord

from tests.harness.faults import forbidden
from tests.harness.sent import JsonObject, Upload
from tests.harness.world import World

MISSING_ACCESS = 50001
CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013
NO_MUTUAL_GUILDS = 50278


def missing_permissions() -> discord.Forbidden:
    return forbidden(MISSING_PERMISSIONS, "Missing Permissions")


def ensure_can_manage_role(guild: discord.Guild, role: discord.Role) -> None:
    """Adding or removing `role` on anyone needs Manage Roles and a role below the bot's top role."""
    me = guild.me
    if not me.guild_permissions.manage_roles or role >= me.top_role:
        raise missing_permissions()


def ensure_can_kick(guild: discord.Guild, member: discord.Member) -> None:
    """Kicking needs Kick Members, and a target who is not the owner and whose top role is lower."""
    me = guild.me
    if not me.guild_permissions.kick_members or member.id == guild.owner_id or member.top_role >= me.top_role:
        raise missing_permissions()


def ensure_can_post(channel: discord.abc.GuildChannel, body: JsonObject, files: list[Upload]) -> None:
    """A new message in a server channel: View Channel (else 50001, as for any call on a channel the
    bot cannot see), Send Messages, and Embed Links / Attach Files for embeds / files (else 50013)."""
    granted = channel.permissions_for(channel.guild.me)
    if not granted.view_channel:
        raise forbidden(MISSING_ACCESS, "Missing Access")
    ensure_can_attach(granted, body, files, needs_send=True)


def ensure_can_attach(granted: discord.Permissions, body: JsonObject, files: list[Upload], *, needs_send: bool) -> None:
    if needs_send and not granted.send_messages:
        raise missing_permissions()
    if body.get("embeds") and not granted.embed_links:
        raise missing_permissions()
    if files and not granted.attach_files:
        raise missing_permissions()


def ensure_can_dm(world: World, closed_dms: set[int], user_id: int) -> None:
    """A bot can DM only users it shares a server with (50278), and not one who closed DMs (50007)."""
    if world.member(user_id) is None:
        raise forbidden(NO_MUTUAL_GUILDS, "Cannot send messages to this user due to having no mutual guilds")
    if user_id in closed_dms:
        raise forbidden(CANNOT_DM, "Cannot send messages to this user")
