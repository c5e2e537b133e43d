"""The event post kept up to date from rows: coalesced edits under a burst of clicks, the
refresh rebuilt after a restart, a deleted post posted again, the Going list cut at 25."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from cogs.events.cog import REFRESH_JOB
from tests.test_events_create import configure, created
from tests.test_events_rsvp import GOING, click, post_of


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


def edits_of(discord_side, event) -> list:
    return [sent for sent in discord_side.of_kind("edit") if sent.message_id == event.message_id]


async def settle_post(h, clock, rounds: int = 10) -> None:
    """Let time pass in refresh-sized steps until no refresh is pending."""
    for _ in range(rounds):
        await h.bot.run_due_jobs()
        await h.idle()
        if not any(job.startswith(REFRESH_JOB) for job in h.bot.jobs.job_ids()):
            return
        clock.advance(seconds=2)
    raise AssertionError(f"refresh still pending: {h.bot.jobs.job_ids()}")


async def test_a_click_marks_the_post_stale_and_one_job_shows_it(configured, discord_side, clock):
    h = configured
    event = await created(h, options={"capacity": 5})
    await click(h, discord_side, event, GOING, "student")
    assert f"{REFRESH_JOB}:{event.id}" in h.bot.jobs.job_ids()
    assert discord_side.stored_message(event.message_id)["embeds"][0]["fields"][4]["name"] == "Going (0/5)"
    await settle_post(h, clock)
    stored = discord_side.stored_message(event.message_id)
    going = next(f for f in stored["embeds"][0]["fields"] if f["name"].startswith("Going"))
    assert going == {"name": "Going (1/5)", "value": f"<@{h.member('student').id}>", "inline": False}
    assert (await h.bot.events.get(event.id)).post_stale_since is None


async def test_a_burst_of_clicks_gives_few_edits_and_ends_on_the_final_state(configured, discord_side, clock):
    h = configured
    event = await created(h, options={"capacity": 10})
    members = [h.add_member(f"fan{index}") for index in range(40)]
    post = post_of(h, discord_side, event)
    before = asyncio.all_tasks()
    for member in members:
        h.dispatch_nowait(h.component_payload(post, GOING.format(event.id), user=member))
    await h.idle(exclude=before)
    await settle_post(h, clock)
    assert len(edits_of(discord_side, event)) <= 2
    text = "\n".join(
        f"{f['name']}: {f['value']}" for f in discord_side.stored_message(event.message_id)["embeds"][0]["fields"]
    )
    assert "Going (10/10)" in text and "Waitlist: 30" in text


async def test_edits_are_spaced_by_the_refresh_gap(configured, discord_side, clock):
    h = configured
    event = await created(h)
    await click(h, discord_side, event, GOING, "student")
    await h.bot.run_due_jobs()
    assert len(edits_of(discord_side, event)) == 1
    await click(h, discord_side, event, GOING, "student2")
    await h.bot.run_due_jobs()
    assert len(edits_of(discord_side, event)) == 1  # too soon after the last edit
    clock.advance(seconds=2)
    await h.bot.run_due_jobs()
    assert len(edits_of(discord_side, event)) == 2
    assert "Going (2)" in edits_of(discord_side, event)[-1].text


async def test_a_post_left_stale_by_a_restart_is_refreshed_after_it(configured, discord_side, clock, restart):
    h = configured
    event = await created(h)
    await click(h, discord_side, event, GOING, "student")
    h = await restart()
    assert f"{REFRESH_JOB}:{event.id}" in h.bot.jobs.job_ids()
    await settle_post(h, clock)
    assert "Going (1)" in edits_of(discord_side, event)[-1].text
    assert (await h.bot.events.get(event.id)).post_stale_since is None


async def test_a_deleted_post_is_posted_again_with_its_buttons(configured, discord_side, clock):
    h = configured
    event = await created(h)
    post = post_of(h, discord_side, event)
    discord_side.delete_stored_message(event.message_id)
    await h.click(post, GOING.format(event.id), user="student")
    await settle_post(h, clock)
    posts = discord_side.channel_messages(h.channel("general").id)
    assert len(posts) == 2
    moved = await h.bot.events.get(event.id)
    assert moved.message_id == posts[-1].message_id != event.message_id
    assert "Going (1)" in posts[-1].text
    assert posts[-1].custom_ids[0] == GOING.format(event.id)


async def test_the_going_list_names_25_then_counts_the_rest(configured, discord_side, clock):
    h = configured
    event = await created(h)
    for index in range(30):
        await h.bot.events.set_rsvp(event.id, h.add_member(f"guest{index}").id, "going", now=clock.now())
    await h.bot.get_cog("Events").refresh_post(event.id)
    await settle_post(h, clock)
    going = next(
        f for f in discord_side.stored_message(event.message_id)["embeds"][0]["fields"] if f["name"] == "Going (30)"
    )
    assert going["value"].count("<@") == 25 and going["value"].endswith("+5 more")


async def test_a_cancelled_event_shows_cancelled_and_loses_its_buttons(configured, discord_side, clock):
    h = configured
    event = await created(h)
    await h.bot.events.cancel(event, actor_id=h.member("admin").id, now=clock.now())
    await h.bot.get_cog("Events").refresh_post(event.id)
    await settle_post(h, clock)
    stored = discord_side.stored_message(event.message_id)
    assert "Cancelled" in str(stored["embeds"][0]["fields"])
    assert not stored.get("components")


async def test_a_refresh_after_the_start_shows_the_event_active(configured, discord_side, clock):
    h = configured
    event = await created(h)
    clock.set(event.starts_at + timedelta(minutes=1))
    await h.bot.get_cog("Events").refresh_post(event.id)
    await settle_post(h, clock)
    assert "Happening now" in str(discord_side.stored_message(event.message_id)["embeds"][0]["fields"])
