"""The event post flips to active at the start and to ended (without buttons) at the end, from
scheduled rows rebuilt after a restart; and the missed-attendance notice sent once after the end."""

from __future__ import annotations

from datetime import timedelta

from tests.test_events_manage import configure, create_event, post_custom_ids, post_embed, rsvp

MISSED = "📭 We missed you at **Raid night**"


def status_of(discord_side, event) -> str:
    return next(field["value"] for field in post_embed(discord_side, event)["fields"] if field["name"] == "Status")


async def run_at(h, clock, moment, rounds: int = 3) -> None:
    """Run due jobs at `moment`, then let the coalesced post refresh they start run too."""
    clock.set(moment)
    for _ in range(rounds):
        await h.bot.run_due_jobs()
        await h.idle()


async def flip(h, event, kind: str):
    return next(timer for timer in await h.bot.event_reminders.list_for_event(event.id) if timer.kind == kind)


async def test_the_post_flips_to_active_at_the_start_and_to_ended_at_the_end(h, clock, discord_side):
    await configure(h)
    event = await create_event(h)
    assert status_of(discord_side, event) == "🗓️ Upcoming"
    await run_at(h, clock, event.starts_at - timedelta(seconds=1))
    assert status_of(discord_side, event) == "🗓️ Upcoming"
    await run_at(h, clock, event.starts_at)
    assert status_of(discord_side, event) == "🟢 Happening now"
    assert post_custom_ids(discord_side, event)  # still takes RSVPs... and shows them
    assert (await flip(h, event, "start")).fired_at == event.starts_at
    await run_at(h, clock, event.ends_at)
    assert status_of(discord_side, event) == "Ended"
    assert post_custom_ids(discord_side, event) == []
    assert (await flip(h, event, "end")).outcome == "post refreshed"


async def test_a_flip_due_while_the_bot_was_down_happens_after_the_restart(h, clock, discord_side, restart):
    await configure(h)
    event = await create_event(h)
    clock.set(event.starts_at + timedelta(minutes=30))
    h = await restart()
    await run_at(h, clock, clock.now())
    assert status_of(discord_side, event) == "🟢 Happening now"
    clock.set(event.ends_at + timedelta(hours=3))
    h = await restart()
    await run_at(h, clock, clock.now())
    assert status_of(discord_side, event) == "Ended"
    assert post_custom_ids(discord_side, event) == []


async def test_a_restart_keeps_the_flips_scheduled_and_each_runs_once(h, clock, discord_side, restart):
    await configure(h)
    event = await create_event(h)
    h = await restart()
    start = await flip(h, event, "start")
    assert f"events.timer:{start.id}" in h.bot.jobs.job_ids()
    await run_at(h, clock, event.starts_at)
    edits = len([sent for sent in discord_side.of_kind("edit") if sent.message_id == event.message_id])
    h = await restart()
    await run_at(h, clock, event.starts_at + timedelta(minutes=1))
    assert len([sent for sent in discord_side.of_kind("edit") if sent.message_id == event.message_id]) == edits


async def test_a_cancelled_event_does_not_flip(h, clock, discord_side):
    await configure(h)
    event = await create_event(h)
    confirm = await h.command("event cancel", user="organizer", event=event.id)
    await h.click(confirm.reply, confirm.reply.custom_ids[0], user="organizer")
    await run_at(h, clock, event.ends_at)
    assert status_of(discord_side, event) == "❌ Cancelled"


# ---- the missed-attendance notice ----------------------------------------------------------


async def test_missed_attendance_is_off_by_default(h, clock, discord_side):
    await configure(h)
    event = await create_event(h)
    await rsvp(h, event, "student", "going")
    await run_at(h, clock, event.ends_at)
    assert [dm for dm in discord_side.dms_to(h.member("student").id) if dm.content.startswith(MISSED)] == []
    assert (await flip(h, event, "missed")).outcome == "off"


async def test_going_members_who_did_not_attend_get_one_dm_after_the_end(h, clock, discord_side, restart):
    await configure(h, log_channel=h.channel("log"))
    shown = await h.command("config set", user="admin", missed_attendance_notice=True)
    assert "Missed-attendance notice: On" in shown.text
    event = await create_event(h)
    for name in ("student", "student2"):
        await rsvp(h, event, name, "going")
    await rsvp(h, event, "student3", "interested")
    clock.set(event.starts_at + timedelta(minutes=5))
    attended = await h.command("event attend", user="student", event=event.id)
    assert "marked as attending" in attended.text
    await run_at(h, clock, event.ends_at)

    def missed(name: str) -> list:
        return [dm for dm in discord_side.dms_to(h.member(name).id) if dm.content.startswith(MISSED)]

    assert missed("student") == [] and missed("student3") == []
    assert len(missed("student2")) == 1
    lines = [m.content for m in discord_side.channel_messages(h.channel("log").id) if "Missed-attendance" in m.content]
    assert lines == ["📭 Missed-attendance notice for event #1 **Raid night**: told 1, DMs closed 0."]
    h = await restart()
    await run_at(h, clock, event.ends_at + timedelta(hours=1))
    assert len(missed("student2")) == 1
