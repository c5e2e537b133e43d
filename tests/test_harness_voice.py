"""The harness's voice side: joins, leaves and moves reach the bot as VOICE_STATE_UPDATE through
discord.py's parser, are kept in the World, and come back in GUILD_CREATE after a restart."""

from __future__ import annotations

import discord
import pytest

from tests.harness import gateway
from tests.harness.voice import guild_voice_states


def in_voice(h, name):
    state = h.member(name).voice
    return state.channel.name if state and state.channel else None


@pytest.fixture
def heard(h):
    events: list[tuple[str, str | None, str | None]] = []

    async def on_voice_state_update(member, before, after):
        events.append((member.name, getattr(before.channel, "name", None), getattr(after.channel, "name", None)))

    h.bot.add_listener(on_voice_state_update)
    return events


def test_the_test_server_has_a_voice_and_a_stage_channel(h):
    voice = discord.utils.get(h.guild.channels, name="lecture-voice")
    stage = discord.utils.get(h.guild.channels, name="lecture-stage")
    assert isinstance(voice, discord.VoiceChannel)
    assert isinstance(stage, discord.StageChannel)
    assert "lecture-voice" not in [channel.name for channel in h.guild.text_channels]


async def test_join_move_and_leave_each_reach_the_bot_once_with_before_and_after(h, heard):
    await h.voice_join("student", "lecture-voice")
    assert in_voice(h, "student") == "lecture-voice"
    await h.voice_join("student", "hallway-voice")
    assert in_voice(h, "student") == "hallway-voice"
    await h.voice_leave("student")
    assert in_voice(h, "student") is None
    assert heard == [
        ("student", None, "lecture-voice"),
        ("student", "lecture-voice", "hallway-voice"),
        ("student", "hallway-voice", None),
    ]
    voice = discord.utils.get(h.guild.channels, name="lecture-voice")
    assert voice.members == []


async def test_a_voice_channel_lists_who_sits_in_it(h):
    await h.voice_join("student", "lecture-voice")
    await h.voice_join("student2", "lecture-voice")
    voice = discord.utils.get(h.guild.channels, name="lecture-voice")
    assert sorted(member.name for member in voice.members) == ["student", "student2"]


async def test_a_stage_keeps_speakers_and_audience_apart(h):
    await h.voice_join("student", "lecture-stage", speaker=True)
    await h.voice_join("student2", "lecture-stage")
    stage = discord.utils.get(h.guild.channels, name="lecture-stage")
    assert [m.name for m in stage.speakers] == ["student"]
    assert [m.name for m in stage.listeners] == ["student2"]


async def test_a_seeded_member_is_in_voice_without_an_event(h, heard):
    h.voice_seed("student3", "lecture-voice")
    await h.idle()
    assert heard == []
    assert in_voice(h, "student3") == "lecture-voice"


async def test_who_sits_in_voice_comes_back_in_guild_create_after_a_restart(h, restart):
    await h.voice_join("student", "lecture-voice")
    await h.voice_join("student2", "lecture-stage", speaker=True)
    h = await restart()
    assert in_voice(h, "student") == "lecture-voice"
    assert in_voice(h, "student2") == "lecture-stage"
    assert not h.member("student2").voice.suppress


async def test_leaving_the_server_takes_the_member_out_of_voice(h):
    student = h.member("student")
    await h.voice_join(student, "lecture-voice")
    await h.member_leave(student)
    assert student.id not in h.discord.world.voice_states


async def test_voice_states_reach_only_a_bot_with_the_voice_states_intent(h):
    assert h.bot.intents.voice_states
    await h.voice_join("student", "lecture-voice")
    assert len(guild_voice_states(h.discord.world, h.bot.intents)) == 1
    assert not gateway.receives(discord.Intents(guilds=True), "VOICE_STATE_UPDATE")
    assert guild_voice_states(h.discord.world, discord.Intents(guilds=True)) == []


async def test_a_bot_member_can_sit_in_voice(h):
    musicbot = h.add_member("musicbot", bot=True)
    await h.voice_join(musicbot, "lecture-voice")
    assert musicbot.bot and in_voice(h, "musicbot") == "lecture-voice"


def test_a_text_channel_cannot_be_sat_in(h):
    with pytest.raises(ValueError, match="text channel"):
        h.voice_seed("student", "general")
