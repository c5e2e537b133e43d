"""`h.idle()` waits for everything the bot started, not only the interaction's own tasks, and
fails by name when something never finishes."""

from __future__ import annotations

import asyncio
import re

import discord
import pytest

# Long enough that a few loop turns do not finish it: only a wait for the task does.
LISTENER_WORK_SECONDS = 0.01


async def test_idle_waits_for_a_listener_an_event_started(h):
    finished = []

    async def on_rollcall_probe() -> None:
        await asyncio.sleep(LISTENER_WORK_SECONDS)
        finished.append("probe")

    h.bot.add_listener(on_rollcall_probe)
    h.bot.dispatch("rollcall_probe")
    await h.idle()
    assert finished == ["probe"]


async def test_idle_waits_for_the_answers_the_bot_is_still_committing(h, discord_side):
    await h.command("config set", user="admin", attendance_channel=h.channel("attendance"))
    await h.command("attendance open", user="admin", channel="admin")
    [code_message] = discord_side.channel_messages(h.channel("attendance").id)
    code = re.search(r"/here (\w+)", code_message.text).group(1)
    payloads = [
        h.command_payload("here", user=h.member(name), channel=h.channel("attendance"), code=code)
        for name in ("student", "student2", "student3")
    ]
    for payload in payloads:
        h.dispatch_nowait(payload)
    await h.idle()
    answered = {item.interaction_id: item.content for item in discord_side.of_kind("response")}
    assert all("present" in answered[int(payload["id"])] for payload in payloads)
    status = await h.command("attendance status", user="admin", channel="admin")
    assert "3 present" in status.text


async def test_idle_does_not_wait_out_a_views_timeout(h):
    view = discord.ui.View(timeout=600)
    view.add_item(discord.ui.Button(label="Later", custom_id="rollcall:test:later"))
    await h.channel("general").send("a view that times out in ten minutes", view=view)
    await h.idle(timeout=1)
    assert not view.is_finished()


async def test_idle_leaves_excluded_tasks_running(h):
    running_before = asyncio.create_task(asyncio.Event().wait(), name="started-by-the-test")
    try:
        await h.idle(exclude={running_before}, timeout=1)
        assert not running_before.done()
    finally:
        running_before.cancel()


async def test_idle_names_the_task_that_never_finishes(h):
    stuck = asyncio.create_task(asyncio.Event().wait(), name="never-finishes")
    try:
        with pytest.raises(AssertionError, match=r"not idle after 0\.05 s; still pending:\n  never-finishes \("):
            await h.idle(timeout=0.05)
    finally:
        stuck.cancel()
