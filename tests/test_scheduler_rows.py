"""Each scheduled job runs its kind's runner for the row it was woken for (`<kind>:<row id>`):
one roll call's code change or close never touches another's, a job whose row is no longer due
does nothing, and after a restart the jobs rebuilt from the rows fire at most once each."""

from __future__ import annotations

import pytest

from cogs.attendance.live import CLOSE_JOB, ROTATE_JOB
from tests.test_attendance import configure


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


async def open_in(h, channel_name: str, **options):
    options["channel"] = h.channel(channel_name)
    result = await h.command("attendance open", user="admin", channel="admin", options=options)
    assert "is open in" in result.text, result.text
    return await h.bot.attendance.get_latest(h.guild.id)


def edits_of(discord_side, message_id: int) -> list:
    return [sent for sent in discord_side.of_kind("edit") if sent.message_id == message_id]


def close_reports(discord_side, h, session_id: int) -> list:
    return [
        m
        for m in discord_side.channel_messages(h.channel("admin").id)
        if m.content.startswith(f"Roll call #{session_id} in") and "closed" in m.content
    ]


async def test_a_rotation_job_shows_the_code_of_its_own_session_only(configured, clock, discord_side):
    h = configured
    first = await open_in(h, "attendance")
    second = await open_in(h, "lecture-b")
    clock.advance(seconds=first.interval_seconds)

    await h.bot.jobs.run_kind(ROTATE_JOB, first.id)

    assert len(edits_of(discord_side, first.message_id)) == 1
    assert edits_of(discord_side, second.message_id) == []
    assert (await h.bot.attendance.get(first.id)).shown_window == 1
    assert (await h.bot.attendance.get(second.id)).shown_window == 0


async def test_a_close_job_closes_its_own_session_only_and_only_when_due(configured, clock, discord_side):
    h = configured
    short = await open_in(h, "attendance", duration=5)
    long = await open_in(h, "lecture-b", duration=30)

    clock.advance(minutes=4)
    await h.bot.jobs.run_kind(CLOSE_JOB, short.id)
    assert (await h.bot.attendance.get(short.id)).is_open

    clock.advance(minutes=27)
    await h.bot.jobs.run_kind(CLOSE_JOB, short.id)
    assert not (await h.bot.attendance.get(short.id)).is_open
    assert (await h.bot.attendance.get(long.id)).is_open
    assert len(close_reports(discord_side, h, short.id)) == 1
    assert close_reports(discord_side, h, long.id) == []


async def test_jobs_of_a_session_closed_by_hand_do_nothing(configured, clock, discord_side):
    h = configured
    session = await open_in(h, "attendance", duration=5)
    closed = await h.command("attendance close", user="admin", channel="admin")
    assert "Closed roll call" in closed.text
    edits_before = len(edits_of(discord_side, session.message_id))
    clock.advance(minutes=6)

    await h.bot.jobs.run_kind(ROTATE_JOB, session.id)
    await h.bot.jobs.run_kind(CLOSE_JOB, session.id)

    assert len(edits_of(discord_side, session.message_id)) == edits_before
    assert len(close_reports(discord_side, h, session.id)) == 1


async def test_after_a_restart_each_rebuilt_close_job_fires_once_for_its_own_row(
    configured, restart, clock, discord_side
):
    h = configured
    short = await open_in(h, "attendance", duration=5)
    long = await open_in(h, "lecture-b", duration=30)

    h2 = await restart()
    assert {f"{CLOSE_JOB}:{short.id}", f"{CLOSE_JOB}:{long.id}"} <= set(h2.bot.jobs.job_ids())
    clock.advance(minutes=6)
    await h2.bot.run_due_jobs()
    assert not (await h2.bot.attendance.get(short.id)).is_open
    assert (await h2.bot.attendance.get(long.id)).is_open
    assert f"{CLOSE_JOB}:{long.id}" in h2.bot.jobs.job_ids()

    h3 = await restart()
    assert f"{CLOSE_JOB}:{short.id}" not in h3.bot.jobs.job_ids()
    clock.advance(minutes=25)
    await h3.bot.run_due_jobs()
    await h3.bot.run_due_jobs()
    assert not (await h3.bot.attendance.get(long.id)).is_open
    assert len(close_reports(discord_side, h3, short.id)) == 1
    assert len(close_reports(discord_side, h3, long.id)) == 1
    assert not [job for job in h3.bot.jobs.job_ids() if job.startswith("attendance.")]
