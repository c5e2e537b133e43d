"""Event reminders: a DM to each Going member and one channel post at each offset, closed DMs
counted in the log line, runs across downtime and restarts (once before the start, never
after it, never twice), the member's own opt-out, the per-event option, and reminders that
follow an edit or a cancel."""

from __future__ import annotations

from datetime import timedelta

from cogs.events.reminders import TIMER_JOB, mention_chunks
from tests.test_events_manage import configure, create_event, modal_values, row, rsvp

REMINDER = "⏰ Reminder: **Raid night**"


def reminder_dms(discord_side, h, name: str) -> list:
    return [dm for dm in discord_side.dms_to(h.member(name).id) if dm.content.startswith("⏰ Reminder")]


def channel_reminders(discord_side, h, channel: str = "general") -> list:
    return [m for m in discord_side.channel_messages(h.channel(channel).id) if m.content.startswith("⏰ **")]


def log_lines(discord_side, h, channel: str = "log") -> list[str]:
    return [
        m.content for m in discord_side.channel_messages(h.channel(channel).id) if "Reminder for event" in m.content
    ]


async def run_at(h, clock, moment) -> None:
    clock.set(moment)
    await h.bot.run_due_jobs()
    await h.idle()


async def timers(h, event, kind: str = "reminder") -> dict[int, object]:
    return {
        timer.offset_minutes: timer
        for timer in await h.bot.event_reminders.list_for_event(event.id)
        if timer.kind == kind
    }


async def going_event(h, **options):
    await configure(h, log_channel=h.channel("log"))
    event = await create_event(h, **options)
    for name in ("student", "student2"):
        await rsvp(h, event, name, "going")
    await rsvp(h, event, "student3", "interested")
    return event


# ---- at each offset ----------------------------------------------------------------------


async def test_each_default_offset_dms_going_members_and_posts_once_in_the_event_channel(h, clock, discord_side):
    event = await going_event(h)
    await run_at(h, clock, event.starts_at - timedelta(minutes=61))
    assert reminder_dms(discord_side, h, "student") == []
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    for name in ("student", "student2"):
        dms = reminder_dms(discord_side, h, name)
        assert len(dms) == 1 and dms[0].content.startswith(REMINDER)
        assert f"<t:{int(event.starts_at.timestamp())}:R>" in dms[0].content
    assert reminder_dms(discord_side, h, "student3") == []  # interested, not going
    assert len(channel_reminders(discord_side, h)) == 1
    assert log_lines(discord_side, h) == [
        "⏰ Reminder for event #1 **Raid night** (60 min before the start): reminded 2, DMs closed 0."
    ]
    await run_at(h, clock, event.starts_at - timedelta(minutes=10))
    assert [len(reminder_dms(discord_side, h, name)) for name in ("student", "student2")] == [2, 2]
    assert len(channel_reminders(discord_side, h)) == 2
    fired = await timers(h, event)
    assert sorted(fired) == [10, 60]
    assert all(timer.fired_at is not None and timer.outcome == "reminded 2, DMs closed 0" for timer in fired.values())


async def test_running_the_jobs_again_sends_nothing_more(h, clock, discord_side):
    event = await going_event(h)
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    timer = (await timers(h, event))[60]
    await h.bot.jobs.run_kind(TIMER_JOB, timer.id, clock.now())
    await run_at(h, clock, event.starts_at - timedelta(minutes=59))
    assert len(reminder_dms(discord_side, h, "student")) == 1
    assert len(channel_reminders(discord_side, h)) == 1


async def test_the_guild_offsets_set_with_config_apply_to_new_events(h, clock, discord_side):
    await configure(h, reminder_offsets="30")
    event = await create_event(h)
    await rsvp(h, event, "student", "going")
    assert sorted(await timers(h, event)) == [30]
    await run_at(h, clock, event.starts_at - timedelta(minutes=30))
    assert len(reminder_dms(discord_side, h, "student")) == 1


# ---- closed DMs --------------------------------------------------------------------------


async def test_closed_dms_are_skipped_and_counted_in_the_log_channel(h, clock, discord_side):
    event = await going_event(h)
    discord_side.closed_dms.add(h.member("student2").id)
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    assert len(reminder_dms(discord_side, h, "student")) == 1
    assert reminder_dms(discord_side, h, "student2") == []
    assert log_lines(discord_side, h) == [
        "⏰ Reminder for event #1 **Raid night** (60 min before the start): reminded 1, DMs closed 1."
    ]
    assert (await timers(h, event))[60].outcome == "reminded 1, DMs closed 1"


async def test_without_a_log_channel_the_line_goes_to_the_admin_channel(h, clock, discord_side):
    await configure(h, admin_channel=h.channel("admin"))
    event = await create_event(h, channel="admin")
    await rsvp(h, event, "student", "going")
    discord_side.closed_dms.add(h.member("student").id)
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    lines = log_lines(discord_side, h, "admin")
    assert lines == ["⏰ Reminder for event #1 **Raid night** (60 min before the start): reminded 0, DMs closed 1."]


# ---- downtime and restarts ---------------------------------------------------------------


async def test_a_reminder_missed_while_down_fires_once_at_start_up_before_the_start(h, clock, discord_side, restart):
    event = await going_event(h)
    clock.set(event.starts_at - timedelta(minutes=45))  # the 60-minute reminder passed while down
    h = await restart()
    await h.bot.run_due_jobs()
    await h.idle()
    assert len(reminder_dms(discord_side, h, "student")) == 1
    h = await restart()
    await run_at(h, clock, event.starts_at - timedelta(minutes=44))
    assert len(reminder_dms(discord_side, h, "student")) == 1
    assert len(channel_reminders(discord_side, h)) == 1


async def test_a_reminder_missed_while_down_is_dropped_once_the_event_started(h, clock, discord_side, restart):
    event = await going_event(h)
    clock.set(event.starts_at + timedelta(minutes=5))
    h = await restart()
    await h.bot.run_due_jobs()
    await h.idle()
    assert reminder_dms(discord_side, h, "student") == []
    assert channel_reminders(discord_side, h) == []
    outcomes = {offset: timer.outcome for offset, timer in (await timers(h, event)).items()}
    assert outcomes == {60: "dropped: the event had started", 10: "dropped: the event had started"}
    h = await restart()
    await h.bot.run_due_jobs()
    await h.idle()
    assert reminder_dms(discord_side, h, "student") == []


async def test_a_restart_between_two_reminders_sends_each_once(h, clock, discord_side, restart):
    event = await going_event(h)
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    h = await restart()
    assert f"{TIMER_JOB}:{(await timers(h, event))[10].id}" in h.bot.jobs.job_ids()
    assert f"{TIMER_JOB}:{(await timers(h, event))[60].id}" not in h.bot.jobs.job_ids()
    await run_at(h, clock, event.starts_at - timedelta(minutes=30))
    assert len(reminder_dms(discord_side, h, "student")) == 1
    await run_at(h, clock, event.starts_at - timedelta(minutes=10))
    assert len(reminder_dms(discord_side, h, "student")) == 2
    assert len(channel_reminders(discord_side, h)) == 2


# ---- /me reminders -----------------------------------------------------------------------


async def test_a_member_who_turned_reminders_off_gets_none_and_can_turn_them_on(h, clock, discord_side):
    event = await going_event(h)
    off = await h.command("me reminders", user="student", state="off")
    assert off.ephemeral and "Event reminders are off for you" in off.text
    again = await h.command("me reminders", user="student", state="off")
    assert "already off" in again.text
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    assert reminder_dms(discord_side, h, "student") == []
    assert len(reminder_dms(discord_side, h, "student2")) == 1
    assert "reminded 1, DMs closed 0" in log_lines(discord_side, h)[0]
    on = await h.command("me reminders", user="student", state="on")
    assert "on again" in on.text
    await run_at(h, clock, event.starts_at - timedelta(minutes=10))
    assert len(reminder_dms(discord_side, h, "student")) == 1


# ---- the event's own reminders -----------------------------------------------------------


async def test_the_reminders_option_replaces_the_guild_offsets_for_one_event(h, clock, discord_side):
    await configure(h)
    event = await create_event(h, reminders="120, 5")
    assert sorted(await timers(h, event)) == [5, 120]
    off = await create_event(h, title="Quiet night", reminders="off")
    assert await timers(h, off) == {}


async def test_a_bad_reminders_option_is_refused_and_nothing_is_created(h):
    await configure(h)
    refused = await h.command("event create", user="admin", channel="general", reminders="soon")
    assert refused.ephemeral and "`soon` is not one" in refused.text and "`off`" in refused.text
    assert refused.response.response_type != 9  # no form opened
    assert await h.bot.db.fetch_value("SELECT count(*) FROM event") == 0


async def test_edit_with_reminders_changes_only_them_and_reschedules(h, clock, discord_side):
    event = await going_event(h)
    result = await h.command("event edit", user="admin", event=event.id, reminders="30")
    assert "reminders 30 min before the start" in result.text
    assert sorted(await timers(h, event)) == [30]
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    assert reminder_dms(discord_side, h, "student") == []
    await run_at(h, clock, event.starts_at - timedelta(minutes=30))
    assert len(reminder_dms(discord_side, h, "student")) == 1


async def test_moving_the_event_reschedules_its_reminders(h, clock, discord_side):
    event = await going_event(h)
    await run_at(h, clock, event.starts_at - timedelta(minutes=60))
    form = (await h.command("event edit", user="organizer", event=event.id)).modal
    await h.submit_modal(form, modal_values(form, "Raid night", "", "2026-11-29 20:00", "23:00", ""), user="organizer")
    moved = await row(h, event)
    reminders = await timers(h, event)
    assert {offset: timer.due_at for offset, timer in reminders.items()} == {
        60: moved.starts_at - timedelta(minutes=60),
        10: moved.starts_at - timedelta(minutes=10),
    }
    assert all(timer.fired_at is None for timer in reminders.values())
    await run_at(h, clock, event.starts_at - timedelta(minutes=10))  # the old time: nothing
    assert len(reminder_dms(discord_side, h, "student")) == 1
    await run_at(h, clock, moved.starts_at - timedelta(minutes=60))
    dms = reminder_dms(discord_side, h, "student")
    assert len(dms) == 2 and f"<t:{int(moved.starts_at.timestamp())}:F>" in dms[-1].content


async def test_a_cancelled_event_drops_its_reminders(h, clock, discord_side):
    event = await going_event(h)
    confirm = await h.command("event cancel", user="organizer", event=event.id)
    await h.click(confirm.reply, confirm.reply.custom_ids[0], user="organizer")
    assert [job for job in h.bot.jobs.job_ids() if job.startswith(TIMER_JOB)] == []
    await run_at(h, clock, event.starts_at - timedelta(minutes=10))
    assert reminder_dms(discord_side, h, "student") == []
    assert all(timer.outcome == "dropped: cancelled" for timer in await h.bot.event_reminders.list_for_event(event.id))


def test_mentions_are_split_under_discords_2000_characters():
    ids = list(range(10**17, 10**17 + 200))
    chunks = mention_chunks("👋 Still no answer from:", ids)
    assert len(chunks) > 1
    assert all(len(text) <= 2000 for text, _ in chunks)
    assert [user for _, users in chunks for user in users] == ids
