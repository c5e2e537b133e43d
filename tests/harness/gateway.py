"""Discord's gateway side of the world: the payloads it sends about the server (READY,
GUILD_CREATE, member add / update / remove), built from the `World`, and the intents that
decide which of them a bot receives.

Start-up runs in Discord's order: the bot's `setup_hook` has run on an empty cache, then READY
lists the server as unavailable, then its GUILD_CREATE arrives, then discord.py dispatches
`ready`. With the members intent the GUILD_CREATE carries every member; Discord itself sends
only the bot there and the rest in GUILD_MEMBERS_CHUNK answers to discord.py's request, but
dpytest's connection state turns chunking off, so the chunk's members ride in GUILD_CREATE.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import discord
from discord.state import ConnectionState

from tests.harness import private
from tests.harness.sent import JsonObject
from tests.harness.world import (
    APP_ID,
    EVERYONE_PERMISSIONS,
    GUILD_ID,
    SERVER_JOINED_AT,
    UserSpec,
    World,
)

GUILD_NAME = "Rollcall Test Server"
BOT_ROLE = "Rollcall"
# How long discord.py waits for another GUILD_CREATE after the last one before `ready`; its
# default is 2 s of real time, and the fake sends every guild before the wait starts.
GUILD_READY_WAIT_SECONDS = 0.001
READY_TIMEOUT_SECONDS = 10.0

# The gateway events the harness can deliver, and the intent each needs (developers/events/gateway.mdx).
EVENT_INTENTS: dict[str, str] = {
    "GUILD_CREATE": "guilds",
    "CHANNEL_UPDATE": "guilds",
    "GUILD_MEMBER_ADD": "members",
    "GUILD_MEMBER_UPDATE": "members",
    "GUILD_MEMBER_REMOVE": "members",
    "PRESENCE_UPDATE": "presences",
    "VOICE_STATE_UPDATE": "voice_states",
    "MESSAGE_CREATE": "guild_messages",
    "MESSAGE_REACTION_ADD": "guild_reactions",
    "TYPING_START": "guild_typing",
}


class IntentNotRequested(AssertionError):
    """A test tried to deliver a gateway event the bot did not ask Discord for: Discord would
    never send it, so the test would pass on something that cannot happen."""


# What a GUILD_CREATE says of a server with nothing else going on (no emojis, threads, voice...).
QUIET_GUILD_FIELDS: JsonObject = {
    "threads": [],
    "emojis": [],
    "stickers": [],
    "features": [],
    "voice_states": [],
    "presences": [],
    "stage_instances": [],
    "guild_scheduled_events": [],
    "soundboard_sounds": [],
    "verification_level": 0,
    "default_message_notifications": 0,
    "explicit_content_filter": 0,
    "mfa_level": 0,
    "nsfw_level": 0,
    "premium_tier": 0,
    "preferred_locale": "en-US",
    "system_channel_flags": 0,
}


def receives(intents: discord.Intents, event: str) -> bool:
    return bool(getattr(intents, EVENT_INTENTS[event]))


def require_intent(intents: discord.Intents, event: str) -> None:
    """For events a test asks for: one the bot would never receive fails the test."""
    if not receives(intents, event):
        raise IntentNotRequested(
            f"Discord sends {event} only with the {EVENT_INTENTS[event]} intent, which this bot does not request"
        )


def timestamp(moment: datetime) -> str:
    return moment.isoformat()


def user_payload(spec: UserSpec, *, bot: bool = False) -> JsonObject:
    """A user as Discord sends them today: unique usernames, discriminator "0", a global name."""
    return {
        "id": str(spec.id),
        "username": spec.name,
        "discriminator": "0",
        "global_name": spec.global_name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member_payload(world: World, spec: UserSpec, *, bot: bool = False) -> JsonObject:
    role_ids = {role.name: role.id for role in world.roles}
    return {
        "user": user_payload(spec, bot=bot or spec.bot),
        "roles": [str(role_ids[name]) for name in spec.roles],
        "joined_at": timestamp(spec.joined_at),
        "nick": spec.display_name,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
    }


def bot_spec(user: discord.ClientUser) -> UserSpec:
    return UserSpec(user.name, user.id, (BOT_ROLE,), joined_at=SERVER_JOINED_AT)


def _role_payload(role_id: int, name: str, position: int, permissions: discord.Permissions) -> JsonObject:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions.value),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def _channel_payloads(world: World) -> list[JsonObject]:
    role_ids = {spec.name: spec.id for spec in world.roles}
    view = str(discord.Permissions(view_channel=True).value)
    channels = []
    for position, spec in enumerate(world.channels):
        overwrites: list[JsonObject] = []
        if spec.bot_denied is not None:
            denied = str(spec.bot_denied.value)
            overwrites.append({"id": str(role_ids[BOT_ROLE]), "type": 0, "allow": "0", "deny": denied})
        if spec.visible_to is not None:
            overwrites.append({"id": str(GUILD_ID), "type": 0, "allow": "0", "deny": view})
            overwrites.extend(
                {"id": str(role_ids[name]), "type": 0, "allow": view, "deny": "0"} for name in spec.visible_to
            )
        extra: JsonObject = {}
        if spec.type != discord.ChannelType.text.value:
            extra = {"bitrate": 64000, "user_limit": 0, "rtc_region": None, "video_quality_mode": 1}
        channels.append(
            {
                **extra,
                "id": str(spec.id),
                "type": spec.type,
                "guild_id": str(GUILD_ID),
                "name": spec.name,
                "position": position,
                "permission_overwrites": overwrites,
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
            }
        )
    return channels


def guild_create_payload(world: World, bot_user: discord.ClientUser, intents: discord.Intents) -> JsonObject:
    """The server as Discord's GUILD_CREATE describes it to this bot."""
    roles = [_role_payload(GUILD_ID, "@everyone", 0, EVERYONE_PERMISSIONS)] + [
        _role_payload(spec.id, spec.name, spec.position, spec.permissions) for spec in world.roles
    ]
    members = [member_payload(world, bot_spec(bot_user), bot=True)]
    if intents.members:
        members.extend(member_payload(world, spec) for spec in world.users)
    # Imported here: the voice module builds on this one's payloads.
    from tests.harness.voice import guild_voice_states

    return {
        "id": str(GUILD_ID),
        "name": GUILD_NAME,
        "unavailable": False,
        "owner_id": str(world.owner_id),
        "member_count": len(world.users) + 1,
        "large": False,
        "joined_at": timestamp(SERVER_JOINED_AT),
        "roles": roles,
        "channels": _channel_payloads(world),
        "members": members,
        **QUIET_GUILD_FIELDS,
        "voice_states": guild_voice_states(world, intents),
    }


def ready_payload(bot_user: discord.ClientUser) -> JsonObject:
    return {
        "v": 10,
        "user": user_payload(UserSpec(bot_user.name, bot_user.id), bot=True),
        "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
        "session_id": "harness-session",
        "resume_gateway_url": "wss://gateway.example.invalid",
        "application": {"id": str(APP_ID), "flags": 0},
    }


async def connect(client: discord.Client, world: World) -> discord.Guild:
    """READY, then the server's GUILD_CREATE, then discord.py's own `ready` (and so `on_ready`)."""
    state: ConnectionState[Any] = private.connection_state(client)
    assert state.user is not None
    private.prepare_ready(client, GUILD_READY_WAIT_SECONDS)
    before = asyncio.all_tasks()
    private.parse_ready(state, ready_payload(state.user))
    # Each gateway message arrives in its own turn of the loop: what READY started runs first.
    await asyncio.sleep(0)
    require_intent(state.intents, "GUILD_CREATE")
    private.parse_guild_create(state, guild_create_payload(world, state.user, state.intents))
    await asyncio.wait_for(client.wait_until_ready(), READY_TIMEOUT_SECONDS)
    handlers = [task for task in asyncio.all_tasks() - before if task.get_name() == "discord.py: on_ready"]
    await asyncio.wait_for(asyncio.gather(*handlers), READY_TIMEOUT_SECONDS)
    guild = private.guild_by_id(state, GUILD_ID)
    assert guild is not None
    return guild


def member_add(state: ConnectionState[Any], world: World, spec: UserSpec, *, dispatch: bool) -> discord.Member:
    """GUILD_MEMBER_ADD for a member already in the world. `dispatch=False` seeds a member who
    was there all along: the cache learns them and no listener hears a join."""
    require_intent(state.intents, "GUILD_MEMBER_ADD")
    data = {**member_payload(world, spec), "guild_id": str(GUILD_ID)}
    if dispatch:
        private.parse_guild_member_add(state, data)
    else:
        with private.dispatch_paused(state):
            private.parse_guild_member_add(state, data)
    guild = private.guild_by_id(state, GUILD_ID)
    member = guild.get_member(spec.id) if guild else None
    assert member is not None
    return member


def member_update(state: ConnectionState[Any], world: World, user_id: int) -> None:
    """GUILD_MEMBER_UPDATE after the world changed a member's roles; without the members
    intent Discord does not send it, and the bot's cache keeps the old roles."""
    spec = world.member(user_id)
    if spec is None or not receives(state.intents, "GUILD_MEMBER_UPDATE"):
        return
    private.parse_guild_member_update(state, {**member_payload(world, spec), "guild_id": str(GUILD_ID)})


def member_remove(state: ConnectionState[Any], spec: UserSpec) -> None:
    """GUILD_MEMBER_REMOVE, sent only to a bot with the members intent."""
    if not receives(state.intents, "GUILD_MEMBER_REMOVE"):
        return
    private.parse_guild_member_remove(state, {"guild_id": str(GUILD_ID), "user": user_payload(spec)})


def add_member(state: ConnectionState[Any], world: World, spec: UserSpec) -> discord.Member:
    """A member who was there all along (a test's seeding, not a join): written into the world,
    so a restarted bot meets them again, and into the bot's cache without a join event."""
    world.join(spec)
    return member_add(state, world, spec, dispatch=False)
