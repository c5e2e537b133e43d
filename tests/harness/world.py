"""The server the bot lives in: fixed ids, so that a restarted bot sees the same guild,
roles, channels and members.

The `World` is Discord's truth about that server: a role granted or removed, a member joined,
kicked or gone (by the bot's REST calls or a test's helper) is written here, so a restarted bot
receives it in its GUILD_CREATE (`gateway`), as it would from Discord."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import discord

APP_ID = 1_200_000_000_000_000_001
BOT_USER_ID = 1_200_000_000_000_000_002
GUILD_ID = 1_200_000_000_000_000_100
ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024
MAX_FILES_PER_MESSAGE = 10
# When the seeded members (and the bot) joined the server; members who join during a test join "now".
SERVER_JOINED_AT = datetime(2026, 1, 1, tzinfo=UTC)

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
    joined_at: datetime = SERVER_JOINED_AT
    # The user's own display name across Discord (shown when there is no server nickname).
    global_name: str | None = None
    bot: bool = False


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    id: int
    bot_denied: discord.Permissions | None = None
    # None: everyone can view it. Otherwise @everyone is denied View Channel and these roles are allowed it.
    visible_to: tuple[str, ...] | None = None
    # Discord's channel type: text, voice or stage.
    type: int = discord.ChannelType.text.value


@dataclass(frozen=True)
class VoiceStateSpec:
    """Where a member sits in voice; `suppress` is a stage channel's audience (speakers are not)."""

    channel_id: int
    suppress: bool = False


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
    ChannelSpec("lecture-voice", snowflake(28), type=discord.ChannelType.voice.value),
    ChannelSpec("lecture-stage", snowflake(29), type=discord.ChannelType.stage_voice.value),
    ChannelSpec("hallway-voice", snowflake(40), type=discord.ChannelType.voice.value),
)
DEFAULT_USERS = (
    # Owns the server: Discord gives the owner every permission and lets no bot act on them.
    UserSpec("owner", snowflake(30)),
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
    owner_name: str = "owner"
    # Who sits in which voice or stage channel (tests/harness/voice.py keeps it up to date).
    voice_states: dict[int, VoiceStateSpec] = field(default_factory=dict)

    def add_users(self, specs: Iterable[UserSpec]) -> None:
        self.users.extend(specs)

    @property
    def owner_id(self) -> int:
        return self.user_named(self.owner_name).id

    def user_named(self, name: str) -> UserSpec:
        for spec in self.users:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def member(self, user_id: int) -> UserSpec | None:
        """The member with this id, or None when the user shares no server with the bot."""
        return next((spec for spec in self.users if spec.id == user_id), None)

    def join(self, spec: UserSpec) -> None:
        if self.member(spec.id) is None:
            self.users.append(spec)

    def leave(self, user_id: int) -> None:
        """A member kicked, banned or gone of their own accord."""
        self.users = [spec for spec in self.users if spec.id != user_id]
        self.voice_states.pop(user_id, None)

    def channel_named(self, name: str) -> ChannelSpec:
        return next(spec for spec in self.channels if spec.name == name)

    def role_named(self, role_id: int) -> str:
        return next(spec.name for spec in self.roles if spec.id == role_id)

    def grant_role(self, user_id: int, role_id: int) -> None:
        name = self.role_named(role_id)
        self._set_roles(user_id, lambda names: names if name in names else (*names, name))

    def revoke_role(self, user_id: int, role_id: int) -> None:
        name = self.role_named(role_id)
        self._set_roles(user_id, lambda names: tuple(held for held in names if held != name))

    def _set_roles(self, user_id: int, change: Callable[[tuple[str, ...]], tuple[str, ...]]) -> None:
        self.users = [replace(spec, roles=change(spec.roles)) if spec.id == user_id else spec for spec in self.users]
