"""Tracked posts (bot/tracked_post.py): a message kept up to date, posted again when deleted,
and a refused or deleted channel told to the admins once. The roll call's code message is the
first user; the helper itself knows nothing of roll calls, so it is also driven here with a post
of its own through the real delivery and the fake Discord."""

from __future__ import annotations

import logging

import discord
import pytest
from discord.ext.test import backend

from bot.tracked_post import TrackedPost
from tests.test_attendance import configure

NOTICE = "I can't show"


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


async def open_session(h, channel: discord.TextChannel):
    result = await h.command("attendance open", user="admin", channel="admin", options={"channel": channel})
    assert "is open in" in result.text, result.text
    return await h.bot.attendance.get_latest(h.guild.id)


def set_bot_permissions(h, channel_name: str, **permissions: bool | None) -> None:
    h.set_channel_overwrite(h.channel(channel_name), h.role("Rollcall"), discord.PermissionOverwrite(**permissions))


def notices(discord_side, h) -> list:
    return [m for m in discord_side.channel_messages(h.channel("admin").id) if NOTICE in m.content]


async def next_code(h, clock, session) -> None:
    clock.advance(seconds=session.interval_seconds)
    await h.bot.run_due_jobs()


class Owner:
    """A post's owner other than the roll call: it only keeps the message id it is handed."""

    def __init__(self) -> None:
        self.stored: list[int] = []

    async def store(self, message_id: int) -> None:
        self.stored.append(message_id)

    def post(self, h, channel: discord.TextChannel, message_id: int | None) -> TrackedPost:
        return TrackedPost(
            key="test.panel:1",
            guild_id=h.guild.id,
            channel_id=channel.id,
            message_id=message_id,
            subject="the test panel",
            store=self.store,
        )


def panel(title: str) -> discord.Embed:
    return discord.Embed(title=title)


# ---- through the roll call's code message ---------------------------------------------------


async def test_a_code_message_deleted_mid_session_is_posted_again_and_its_id_stored(configured, clock, discord_side):
    h = configured
    session = await open_session(h, h.channel("attendance"))
    discord_side.delete_stored_message(session.message_id)
    await next_code(h, clock, session)
    posts = discord_side.channel_messages(h.channel("attendance").id)
    assert len(posts) == 2
    stored = await h.bot.attendance.get(session.id)
    assert stored.message_id == posts[-1].message_id != session.message_id
    await next_code(h, clock, session)
    assert discord_side.of_kind("edit")[-1].message_id == stored.message_id
    assert len(discord_side.channel_messages(h.channel("attendance").id)) == 2


async def test_a_channel_that_works_again_recovers_with_a_log_line_and_a_new_refusal_is_told_again(
    configured, clock, discord_side, caplog
):
    h = configured
    session = await open_session(h, h.channel("lecture-b"))
    set_bot_permissions(h, "lecture-b", view_channel=False)
    await next_code(h, clock, session)
    assert len(notices(discord_side, h)) == 1

    set_bot_permissions(h, "lecture-b")
    with caplog.at_level(logging.INFO, logger="bot.tracked_post"):
        await next_code(h, clock, session)
    assert any("shows again" in record.getMessage() for record in caplog.records)
    assert f"attendance.session:{session.id}" not in h.bot.tracked_posts.reported
    assert len(notices(discord_side, h)) == 1
    assert discord_side.of_kind("edit")[-1].message_id == session.message_id
    assert (await h.bot.attendance.get(session.id)).shown_window == 2

    set_bot_permissions(h, "lecture-b", view_channel=False)
    await next_code(h, clock, session)
    await next_code(h, clock, session)
    assert len(notices(discord_side, h)) == 2


# ---- the helper with an owner of its own -----------------------------------------------------


async def test_a_post_is_edited_in_place_and_reposted_when_deleted(configured, discord_side):
    h = configured
    owner = Owner()
    channel = h.channel("general")
    first = await h.bot.tracked_posts.refresh(owner.post(h, channel, None), embed=panel("one"))
    assert first.delivered and owner.stored == [first.message_id]

    edited = await h.bot.tracked_posts.refresh(owner.post(h, channel, first.message_id), embed=panel("two"))
    assert edited.message_id == first.message_id and owner.stored == [first.message_id]
    assert discord_side.stored_message(first.message_id)["embeds"][0]["title"] == "two"

    discord_side.delete_stored_message(first.message_id)
    again = await h.bot.tracked_posts.refresh(owner.post(h, channel, first.message_id), embed=panel("three"))
    assert again.delivered and again.message_id != first.message_id
    assert owner.stored == [first.message_id, again.message_id]


async def test_a_deleted_channel_is_told_to_the_admins_once_when_the_owner_does_not_end_with_it(
    configured, discord_side
):
    h = configured
    owner = Owner()
    channel = h.channel("lecture-b")
    posted = await h.bot.tracked_posts.refresh(owner.post(h, channel, None), embed=panel("one"))
    backend.delete_channel(channel)
    for _ in range(3):
        result = await h.bot.tracked_posts.refresh(owner.post(h, channel, posted.message_id), embed=panel("two"))
        assert not result.delivered
    [notice] = notices(discord_side, h)
    assert notice.content == f"⚠️ I can't show the test panel: its channel <#{channel.id}> was deleted."
    assert owner.stored == [posted.message_id]


async def test_finish_edits_once_never_reposts_and_forgets_the_post(configured, discord_side):
    h = configured
    owner = Owner()
    channel = h.channel("lecture-b")
    posted = await h.bot.tracked_posts.refresh(owner.post(h, channel, None), embed=panel("live"))
    set_bot_permissions(h, "lecture-b", view_channel=False)
    await h.bot.tracked_posts.refresh(owner.post(h, channel, posted.message_id), embed=panel("live"))
    assert "test.panel:1" in h.bot.tracked_posts.reported

    set_bot_permissions(h, "lecture-b")
    discord_side.delete_stored_message(posted.message_id)
    final = await h.bot.tracked_posts.finish(owner.post(h, channel, posted.message_id), embed=panel("done"))
    assert final is not None and not final.delivered
    assert "test.panel:1" not in h.bot.tracked_posts.reported
    assert len(discord_side.channel_messages(channel.id)) == 1  # the first post only
    assert owner.stored == [posted.message_id]
