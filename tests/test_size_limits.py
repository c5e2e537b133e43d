"""The bot stays inside Discord's size limits: long lists are shown in part with the rest in a
file or another command, and refusals quote long input cut short, so the member always gets
an answer. The fake Discord refuses anything over a limit, as Discord does."""

from __future__ import annotations

import csv
import io

import discord
import pytest
from discord import app_commands

from bot.errors import InvalidInput
from cogs.attendance.answers import CHANNELS_SHOWN
from tests.harness import DEFAULT_CHANNELS, GUILD_ID, ChannelSpec, World
from utils.codes import window_at, window_code

EXTRA_CLASSES = 27
LOCKED_OUT_MEMBERS = 45


@pytest.fixture
def world() -> World:
    extra = tuple(ChannelSpec(f"class-{number:02d}", GUILD_ID + 500 + number) for number in range(EXTRA_CLASSES))
    return World(channels=DEFAULT_CHANNELS + extra)


@pytest.fixture
async def configured(h):
    result = await h.command(
        "config set", user="admin", admin_channel=h.channel("admin"), attendance_channel=h.channel("attendance")
    )
    assert "Saved" in result.text, result.text
    return h


async def open_in(h, channel_name: str):
    result = await h.command(
        "attendance open", user="admin", channel="admin", options={"channel": h.channel(channel_name)}
    )
    assert "is open in" in result.text, result.text
    return await h.bot.attendance.get_latest(h.guild.id)


async def wrong_code_for(h, session) -> str:
    window = window_at(session.opened_at, session.interval_seconds, h.bot.clock.now())
    good = window_code(session.secret, window, session.code_length)
    return "ZZZZ" if good != "ZZZZ" else "YYYY"


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# ---- /attendance status ------------------------------------------------------------------


async def test_status_with_many_lock_outs_shows_some_and_attaches_them_all(configured, clock):
    h = configured
    session = await open_in(h, "attendance")
    wrong = await wrong_code_for(h, session)
    pupils = [h.add_member(f"pupil{number:02d}", roles=("Student",)) for number in range(LOCKED_OUT_MEMBERS)]
    for pupil in pupils:
        clock.advance(seconds=1)  # one lock-out per second, so their order is defined
        for _ in range(5):
            await h.command("here", user=pupil, channel="attendance", code=wrong)
    assert len(await h.bot.attendance.list_lockouts(session.id)) == LOCKED_OUT_MEMBERS

    status = await h.command("attendance status", user="admin", channel="admin")

    text = status.text
    assert f"#{session.id} in #attendance" in text
    assert f"Locked out ({LOCKED_OUT_MEMBERS}): <@{pupils[0].id}>" in text
    assert "+35 more, all in the attached file" in text
    assert f"<@{pupils[-1].id}>" not in text
    rows = csv_rows(status.reply.file("rollcall-lockouts.csv"))
    assert [int(row["user_id"]) for row in rows] == [pupil.id for pupil in pupils]
    assert {row["session_id"] for row in rows} == {str(session.id)}
    assert rows[0]["display_name"] == "pupil00"
    assert rows[0]["locked_at_utc"] == "2026-11-23T09:00:01+00:00"


async def test_status_with_few_lock_outs_lists_them_all_without_a_file(configured):
    h = configured
    session = await open_in(h, "attendance")
    wrong = await wrong_code_for(h, session)
    for _ in range(5):
        await h.command("here", user="student", channel="attendance", code=wrong)
    status = await h.command("attendance status", user="admin", channel="admin")
    assert f"Locked out: <@{h.member('student').id}>" in status.text
    assert status.reply.files == []


async def test_status_with_more_open_roll_calls_than_embed_fields(configured):
    h = configured
    opened = [await open_in(h, f"class-{number:02d}") for number in range(EXTRA_CLASSES)]

    status = await h.command("attendance status", user="admin", channel="admin")

    fields = status.reply.embeds[0]["fields"]
    assert len(fields) <= 25
    shown = [f for f in fields if f["name"].startswith("#")]
    assert [f["name"] for f in shown] == [f"#{s.id} in #class-{n:02d}" for n, s in enumerate(opened[: len(shown)])]
    hidden = EXTRA_CLASSES - len(shown)
    assert hidden > 0
    assert fields[-1]["name"] == f"+{hidden} more open roll calls"
    assert "`/attendance sessions`" in fields[-1]["value"]
    assert status.reply.embeds[0]["description"] == f"{EXTRA_CLASSES} roll calls are open."


async def test_close_and_here_name_some_of_many_open_roll_calls(configured):
    h = configured
    opened = [await open_in(h, f"class-{number:02d}") for number in range(EXTRA_CLASSES)]
    hidden = EXTRA_CLASSES - CHANNELS_SHOWN

    close = await h.command("attendance close", user="admin", channel="admin")
    here = await h.command("here", user="student", channel="general", code="ABCD")

    for refusal in (close.text, here.text):
        assert f"<#{opened[CHANNELS_SHOWN - 1].channel_id}> and {hidden} more" in refusal
        assert f"<#{opened[CHANNELS_SHOWN].channel_id}>" not in refusal
    assert "pick one with the `channel` option" in close.text
    assert [session.id for session in await h.bot.attendance.list_open(h.guild.id)] == [s.id for s in opened]


# ---- refusals that quote the member's input ----------------------------------------------------

HUGE = 3_000


async def test_a_choice_outside_the_list_is_quoted_cut_short(configured):
    h = configured
    session = await open_in(h, "attendance")
    result = await h.command(
        "attendance mark", user="admin", channel="admin", member=h.member("student"), status="p" * HUGE
    )
    assert result.text.startswith("I couldn't understand `ppp")
    assert "…` for that option" in result.text
    assert len(result.text) < 300
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None


async def snapshot(h):
    h.bot.guild_configs.invalidate(h.guild.id)
    return await h.bot.guild_configs.get(h.guild.id)


async def test_an_unknown_huge_time_zone_is_quoted_cut_short(configured):
    h = configured
    before = await snapshot(h)
    result = await h.command("config set", user="admin", channel="admin", timezone="Europe/" + "x" * HUGE)
    assert result.text.startswith("`Europe/xxx")
    assert "…` is not a time zone I know" in result.text
    assert "`Europe/Berlin`" in result.text
    assert len(result.text) < 400
    assert await snapshot(h) == before


@pytest.mark.parametrize(
    "typed", ["x" * HUGE, "5," + "9" * HUGE, "9" * 5_000], ids=["letters", "digits", "5000 digits"]
)
async def test_huge_reminder_offsets_are_refused_cut_short(configured, typed):
    h = configured
    before = await snapshot(h)
    result = await h.command("config set", user="admin", channel="admin", reminder_offsets=typed)
    assert "Reminder offsets are up to 5 whole numbers of minutes" in result.text
    assert "like `60,10`" in result.text
    assert len(result.text) < 400
    assert await snapshot(h) == before


async def test_a_domain_error_too_long_for_discord_still_reaches_the_member(h):
    @app_commands.command(name="wordy", description="Refuses with a very long message")
    async def wordy(interaction: discord.Interaction) -> None:
        raise InvalidInput("Refused. " + "w" * HUGE)

    h.bot.tree.add_command(wordy)
    result = await h.command("wordy", user="member")
    assert result.text.startswith("Refused. www")
    assert result.text.endswith("…")
    assert len(result.text) == 2_000
    assert result.ephemeral
