"""Voice and stage channels on the gateway side: members joining, leaving and being moved,
kept in the `World` (so a restarted bot meets them in its GUILD_CREATE's `voice_states`) and
delivered as VOICE_STATE_UPDATE through discord.py's own parser, only to a bot that asked for
the voice states intent (developers/events/gateway-events.mdx, "Voice State Update").

A stage channel's audience is `suppress: true`; its speakers are not. Discord sends one
VOICE_STATE_UPDATE per change: a move (by the member or a moderator) is one event naming the
new channel, a leave one naming none."""

from __future__ import annotations

from typing import Any

import discord
from discord.state import ConnectionState

from tests.harness import gateway, private
from tests.harness.sent import JsonObject
from tests.harness.world import GUILD_ID, UserSpec, VoiceStateSpec, World

EVENT = "VOICE_STATE_UPDATE"


def voice_state_payload(user_id: int, state: VoiceStateSpec | None) -> JsonObject:
    """A voice state as GUILD_CREATE lists it (no guild id, no member); `None`: left voice."""
    return {
        "user_id": str(user_id),
        "channel_id": str(state.channel_id) if state else None,
        "session_id": f"voice-{user_id}",
        "deaf": False,
        "mute": False,
        "self_deaf": False,
        "self_mute": False,
        "self_video": False,
        "self_stream": False,
        "suppress": state.suppress if state else False,
        "request_to_speak_timestamp": None,
    }


def guild_voice_states(world: World, intents: discord.Intents) -> list[JsonObject]:
    """GUILD_CREATE's `voice_states`; a bot without the voice states intent is told none."""
    if not gateway.receives(intents, EVENT):
        return []
    return [voice_state_payload(user_id, state) for user_id, state in sorted(world.voice_states.items())]


def _channel_id(world: World, channel: str | int | discord.abc.Snowflake) -> int:
    if isinstance(channel, str):
        spec = world.channel_named(channel)
        if spec.type == discord.ChannelType.text.value:
            raise ValueError(f"#{channel} is a text channel: nobody can sit in it")
        return spec.id
    return channel if isinstance(channel, int) else channel.id


def _stage(world: World, channel_id: int) -> bool:
    spec = next((spec for spec in world.channels if spec.id == channel_id), None)
    return spec is not None and spec.type == discord.ChannelType.stage_voice.value


def set_voice_state(
    state: ConnectionState[Any],
    world: World,
    member: UserSpec,
    channel: str | int | discord.abc.Snowflake | None,
    *,
    speaker: bool = False,
    dispatch: bool = True,
) -> None:
    """Put `member` in `channel` (None: out of voice), in the world and, with the intent, in a
    VOICE_STATE_UPDATE. On a stage the member is audience unless `speaker`. `dispatch=False`
    seeds a member who sat there all along: the cache learns it and no listener hears it."""
    after = None
    if channel is not None:
        channel_id = _channel_id(world, channel)
        after = VoiceStateSpec(channel_id, suppress=_stage(world, channel_id) and not speaker)
    deliver(state, world, voice_state_update(world, member, after), dispatch=dispatch)


def voice_state_update(world: World, member: UserSpec, after: VoiceStateSpec | None) -> JsonObject:
    """The VOICE_STATE_UPDATE saying `member` is now at `after` (None: out of voice)."""
    return {
        **voice_state_payload(member.id, after),
        "guild_id": str(GUILD_ID),
        "member": gateway.member_payload(world, member),
    }


def deliver(state: ConnectionState[Any], world: World, data: JsonObject, *, dispatch: bool = True) -> None:
    """Write a VOICE_STATE_UPDATE built by `voice_state_update` into the world and, with the
    intent, hand it to discord.py. Benches build their events first and deliver them during a burst."""
    user_id = int(data["user_id"])
    if data["channel_id"] is None:
        world.voice_states.pop(user_id, None)
    else:
        world.voice_states[user_id] = VoiceStateSpec(int(data["channel_id"]), bool(data["suppress"]))
    if not gateway.receives(state.intents, EVENT):
        return
    if dispatch:
        private.parse_voice_state_update(state, data)
    else:
        with private.dispatch_paused(state):
            private.parse_voice_state_update(state, data)
