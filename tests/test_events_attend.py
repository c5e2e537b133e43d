"""/event attend (only while the event is on; walk-ins count) and roll calls tied to an event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.test_attendance import code_now
from tests.test_events_create import configure, created


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


async def attended(h, event) -> dict[int, tuple[str, int | None]]:
    return {row.user_id: (row.source, row.session_id) for row in await h.bot.events.list_attendance(event.id)}


async def test_attend_before_the_start_says_when_it_starts(configured, clock):
    h = configured
    event = await created(h)
    result = await h.command("event attend", user="student", channel="general", event=event.id)
    assert result.ephemeral
    assert f"starts <t:{int(event.starts_at.timestamp())}:R>" in result.text
    assert await attended(h, event) == {}


async def test_attend_during_the_event_records_a_walk_in_once(configured, clock):
    h = configured
    event = await created(h)
    clock.set(event.starts_at + timedelta(minutes=10))
    first = await h.command("event attend", user="student", channel="general", event=event.id)
    assert "You're marked as attending **Board game night**" in first.text
    assert await h.bot.events.get_rsvp(event.id, h.member("student").id) is None  # no RSVP: a walk-in
    again = await h.command("event attend", user="student", channel="general", event=event.id)
    assert "already recorded" in again.text
    assert await attended(h, event) == {h.member("student").id: ("command", None)}


async def test_attend_after_the_end_says_when_it_ended(configured, clock):
    h = configured
    event = await created(h)
    clock.set(event.ends_at + timedelta(minutes=1))
    result = await h.command("event attend", user="student", channel="general", event=event.id)
    assert f"ended <t:{int(event.ends_at.timestamp())}:R>" in result.text
    assert await attended(h, event) == {}


async def test_attend_is_refused_for_a_cancelled_event(configured, clock):
    h = configured
    event = await created(h)
    await h.bot.events.cancel(event, actor_id=h.member("admin").id, now=clock.now())
    clock.set(event.starts_at + timedelta(minutes=1))
    result = await h.command("event attend", user="student", channel="general", event=event.id)
    assert "cancelled" in result.text
    assert await attended(h, event) == {}


async def test_attend_follows_the_events_role(configured, clock):
    h = configured
    event = await created(h, options={"role": h.role("Student")})
    clock.set(event.starts_at + timedelta(minutes=1))
    refused = await h.command("event attend", user="member", channel="general", event=event.id)
    assert f"Only members with <@&{h.role('Student').id}> can attend" in refused.text
    assert await attended(h, event) == {}


async def test_attend_with_another_guilds_event_id_finds_nothing(configured, clock):
    h = configured
    ours = await created(h)
    theirs = await h.bot.events.create(
        guild_id=h.guild.id + 1,
        channel_id=1,
        created_by=1,
        now=clock.now(),
        title="Their event",
        description="",
        location="",
        starts_at=ours.starts_at,
        ends_at=ours.ends_at,
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    clock.set(ours.starts_at + timedelta(minutes=1))
    result = await h.command("event attend", user="student", channel="general", event=theirs.id)
    assert f"No event #{theirs.id} in this server" in result.text
    assert "Their event" not in result.text
    assert await attended(h, theirs) == {}
    choices = await h.autocomplete("event attend", "event", user="student", channel="general", event="")
    assert [choice["value"] for choice in choices] == [ours.id]


# ---- a roll call tied to an event ------------------------------------------------------------


async def test_each_accepted_here_of_a_tied_roll_call_attends_the_event(configured, clock):
    h = configured
    event = await created(h)
    clock.set(event.starts_at)
    opened = await h.command(
        "attendance open",
        user="admin",
        channel="general",
        options={"channel": h.channel("attendance"), "event": event.id},
    )
    assert "counts as attending **Board game night**" in opened.text, opened.text
    session = await h.bot.attendance.get_latest(h.guild.id)
    assert session.event_id == event.id
    code = await code_now(h, session.id)
    answered = await h.command("here", user="student", channel="attendance", code=code)
    assert "present" in answered.text.lower(), answered.text
    wrong = await h.command("here", user="student2", channel="attendance", code="zzzz")
    assert wrong.ephemeral
    assert await attended(h, event) == {h.member("student").id: ("roll_call", session.id)}


async def test_a_roll_call_is_not_tied_to_an_event_that_ended(configured, clock):
    h = configured
    event = await created(h)
    clock.set(event.ends_at)
    refused = await h.command(
        "attendance open",
        user="admin",
        channel="general",
        options={"channel": h.channel("attendance"), "event": event.id},
    )
    assert "ended" in refused.text
    assert await h.bot.attendance.get_latest(h.guild.id) is None


async def test_the_attendance_open_event_choices_are_this_guilds_events_for_staff_only(configured):
    h = configured
    event = await created(h)
    staff = await h.autocomplete("attendance open", "event", user="admin", channel="general", event="board")
    assert [choice["value"] for choice in staff] == [event.id]
    member = await h.autocomplete("attendance open", "event", user="member", channel="general", event="")
    assert member == []
