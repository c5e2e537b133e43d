"""Nudges: members of a role-restricted event's role who have not answered get one DM at the
nudge time; those with closed DMs are mentioned in the event channel instead, in messages under
2,000 characters; never twice, across restarts; the option's refusals."""

from __future__ import annotations

from datetime import timedelta

from tests.test_events_manage import configure, create_event, rsvp

NUDGE = "👋 You haven't answered **Raid night**"
STILL = "👋 Still no answer for **Raid night**"


def nudges(discord_side, h, name: str) -> list:
    return [dm for dm in discord_side.dms_to(h.member(name).id) if dm.content.startswith(NUDGE)]


def channel_nudges(discord_side, h) -> list:
    return [m for m in discord_side.channel_messages(h.channel("general").id) if m.content.startswith(STILL)]


async def run_at(h, clock, moment) -> None:
    clock.set(moment)
    await h.bot.run_due_jobs()
    await h.idle()


async def nudged_event(h, minutes: int = 120):
    await configure(h, log_channel=h.channel("log"))
    event = await create_event(h, role=h.role("Student"), nudge=minutes)
    await rsvp(h, event, "student", "not_going")
    return event


async def test_role_members_who_have_not_answered_get_one_nudge_at_the_set_time(h, clock, discord_side, restart):
    event = await nudged_event(h)
    await run_at(h, clock, event.starts_at - timedelta(minutes=121))
    assert nudges(discord_side, h, "student2") == []
    await run_at(h, clock, event.starts_at - timedelta(minutes=120))
    assert nudges(discord_side, h, "student") == []  # answered
    assert discord_side.dms_to(h.member("member").id) == []  # not in the role
    for name in ("student2", "student3"):
        assert len(nudges(discord_side, h, name)) == 1
    assert channel_nudges(discord_side, h) == []
    lines = [m.content for m in discord_side.channel_messages(h.channel("log").id) if "Nudge for event" in m.content]
    assert lines == ["👋 Nudge for event #1 **Raid night**: nudged 2, DMs closed 0."]
    h = await restart()
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    assert [len(nudges(discord_side, h, name)) for name in ("student2", "student3")] == [1, 1]


async def test_a_nudge_missed_while_down_runs_once_before_the_start_and_never_after(h, clock, discord_side, restart):
    event = await nudged_event(h)
    clock.set(event.starts_at + timedelta(minutes=1))
    h = await restart()
    await h.bot.run_due_jobs()
    await h.idle()
    assert nudges(discord_side, h, "student2") == []
    timers = await h.bot.event_reminders.list_for_event(event.id)
    assert next(timer for timer in timers if timer.kind == "nudge").outcome == "dropped: the event had started"


async def test_members_with_closed_dms_are_mentioned_once_in_the_event_channel(h, clock, discord_side):
    event = await nudged_event(h)
    discord_side.closed_dms.add(h.member("student3").id)
    await run_at(h, clock, event.starts_at - timedelta(minutes=120))
    assert len(nudges(discord_side, h, "student2")) == 1
    posted = channel_nudges(discord_side, h)
    student3 = h.member("student3").id
    assert len(posted) == 1 and f"<@{student3}>" in posted[0].content
    assert f"<@{h.member('student2').id}>" not in posted[0].content
    assert [int(user) for user in posted[0].payload["allowed_mentions"]["users"]] == [student3]


async def test_many_closed_dms_are_mentioned_in_messages_under_2000_characters(h, clock, discord_side):
    members = [h.add_member(f"crowd{index}", roles=("Student",)) for index in range(150)]
    event = await nudged_event(h)
    discord_side.closed_dms.update(member.id for member in members)
    await run_at(h, clock, event.starts_at - timedelta(minutes=120))
    posted = channel_nudges(discord_side, h)
    assert len(posted) >= 2
    assert all(len(message.content) <= 2000 for message in posted)
    mentioned = " ".join(message.content for message in posted)
    assert all(f"<@{member.id}>" in mentioned for member in members)
    assert sum(mentioned.count(f"<@{member.id}>") for member in members) == len(members)


async def test_a_nudge_without_a_role_is_refused_and_nothing_is_created(h):
    await configure(h)
    refused = await h.command("event create", user="admin", channel="general", nudge=60)
    assert refused.ephemeral and "A `nudge` needs a `role`" in refused.text
    assert refused.response.response_type != 9
    assert await h.bot.db.fetch_value("SELECT count(*) FROM event") == 0


async def test_edit_sets_a_nudge_and_refuses_one_on_an_event_without_a_role(h, clock, discord_side):
    await configure(h)
    open_event = await create_event(h)
    refused = await h.command("event edit", user="admin", event=open_event.id, nudge=30)
    assert "has no role, so there is nobody to nudge" in refused.text
    assert (await h.bot.event_reminders.get_setting(open_event.id)).nudge_minutes is None
    event = await create_event(h, title="Raid night", role=h.role("Student"))
    saved = await h.command("event edit", user="admin", event=event.id, nudge=30)
    assert "a nudge 30 min before the start" in saved.text
    await run_at(h, clock, event.starts_at - timedelta(minutes=30))
    assert len(nudges(discord_side, h, "student2")) == 1
