"""The server the bot lives in: fixed ids, so that a restarted bot sees the same guild,
roles, channels and members, and how that server is seeded into discord.py's state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord
from discord.ext.test import backend as dpy_backend
from discord.ext.test import factories as dpy_factories
from discord.state import ConnectionState

from tests.harness import private

APP_ID = 1_200_000_000_000_000_001
BOT_USER_ID = 1_200_000_000_000_000_002
GUILD_ID = 1_200_000_000_000_000_100
ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024

# What the bot's own role may do server-wide; tests take permissions away per channel.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    manage_roles=True,
    kick_members=True,
    manage_events=True,
)
EVERYONE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, read_message_history=True)


@dataclass(frozen=True)
class RoleSpec:
    name: str
    id: int
    position: int
    permissions: discord.Permissions


@dataclass(frozen=True)
class UserSpec:
    name: str
    id: int
    roles: tuple[str, ...] = ()
    display_name: str | None = None


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    id: int
    bot_denied: discord.Permissions | None = None
    # None: everyone can view it. Otherwise @everyone is denied View Channel and these roles are allowed it.
    visible_to: tuple[str, ...] | None = None


def snowflake(offset: int) -> int:
    return GUILD_ID + offset


DEFAULT_ROLES = (
    RoleSpec("Admin", snowflake(11), 5, discord.Permissions(manage_guild=True)),
    RoleSpec("Organizer", snowflake(12), 4, discord.Permissions.none()),
    RoleSpec("Student", snowflake(13), 2, discord.Permissions.none()),
    RoleSpec("Member", snowflake(14), 3, discord.Permissions.none()),
    RoleSpec("Rollcall", snowflake(15), 10, BOT_PERMISSIONS),
    RoleSpec("Moderators", snowflake(16), 20, discord.Permissions.none()),
)
DEFAULT_CHANNELS = (
    ChannelSpec("general", snowflake(21)),
    ChannelSpec("admin", snowflake(22), visible_to=("Admin", "Organizer", "Rollcall")),
    ChannelSpec("attendance", snowflake(23)),
    ChannelSpec("verification", snowflake(24)),
    ChannelSpec("log", snowflake(25)),
    ChannelSpec("lecture-b", snowflake(26)),
    ChannelSpec("announcements", snowflake(27), bot_denied=discord.Permissions(send_messages=True)),
)
DEFAULT_USERS = (
    UserSpec("admin", snowflake(31), ("Admin",)),
    UserSpec("organizer", snowflake(32), ("Organizer",)),
    UserSpec("member", snowflake(33), ("Member",)),
    UserSpec("student", snowflake(34), ("Student",)),
    UserSpec("student2", snowflake(35), ("Student",)),
    UserSpec("student3", snowflake(36), ("Student",)),
)


@dataclass
class World:
    roles: tuple[RoleSpec, ...] = DEFAULT_ROLES
    channels: tuple[ChannelSpec, ...] = DEFAULT_CHANNELS
    users: list[UserSpec] = field(default_factory=lambda: list(DEFAULT_USERS))

    def add_users(self, specs: Iterable[UserSpec]) -> None:
        self.users.extend(specs)


def populate_guild(state: ConnectionState[Any], world: World) -> discord.Guild:
    everyone = dpy_factories.make_role_dict("@everyone", GUILD_ID, position=0, permissions=EVERYONE_PERMISSIONS.value)
    roles = [everyone] + [
        dpy_factories.make_role_dict(spec.name, spec.id, position=spec.position, permissions=spec.permissions.value)
        for spec in world.roles
    ]
    guild = dpy_backend.make_guild("Rollcall Test Server", roles=roles, id_num=GUILD_ID)
    role_ids = {spec.name: spec.id for spec in world.roles}
    for position, spec in enumerate(world.channels):
        overwrites = []
        if spec.bot_denied is not None:
            overwrites.append({"id": role_ids["Rollcall"], "type": 0, "allow": "0", "deny": str(spec.bot_denied.value)})
        if spec.visible_to is not None:
            view = str(discord.Permissions(view_channel=True).value)
            overwrites.append({"id": GUILD_ID, "type": 0, "allow": "0", "deny": view})
            overwrites.extend({"id": role_ids[name], "type": 0, "allow": view, "deny": "0"} for name in spec.visible_to)
        dpy_backend.make_text_channel(
            spec.name, guild, position=position, id_num=spec.id, permission_overwrites=overwrites or None
        )
    bot_member_data = dpy_factories.make_member_dict(guild, state.user, [role_ids["Rollcall"]])
    private.parse_guild_member_add(state, bot_member_data)
    for spec in world.users:
        add_member(state, guild, spec)
    return guild


def add_member(state: ConnectionState[Any], guild: discord.Guild, spec: UserSpec) -> discord.Member:
    role_ids = [role.id for name in spec.roles for role in guild.roles if role.name == name]
    user = private.store_user(state, dpy_factories.make_user_dict(spec.name, "0001", None, spec.id))
    data = dpy_factories.make_member_dict(guild, user, role_ids, joined=0)
    if spec.display_name:
        data["nick"] = spec.display_name
    # Dispatch is off so that seeding the world does not look like members joining.
    with private.dispatch_paused(state):
        private.parse_guild_member_add(state, data)
    member = guild.get_member(spec.id)
    assert member is not None
    return member
