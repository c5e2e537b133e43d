"""Recurring events through real interactions: `/event create ... repeat:`, the next occurrence
created and posted when the latest one ends (never twice, also across a restart), the end of a
series by count and by date, wall-clock times across a change of clocks, and the series question
of `/event cancel`."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.test_events_manage import configure, create_event, rsvp

BERLIN = ZoneInfo("Europe/Berlin")


async def events_of_series(h, series_id: int):
    rows = await h.bot.db.fetch_all("SELECT id FROM event WHERE series_id = ? ORDER BY series_index", (series_id,))
    return [await h.bot.events.get(row["id"]) for row in rows]


async def event_total(h) -> int:
    return int(await h.bot.db.fetch_value("SELECT count(*) FROM event"))


async def finish(h, clock, event) -> None:
    clock.set(event.ends_at)
    await h.bot.run_due_jobs()


# ---- creation --------------------------------------------------------------------------------


async def test_the_next_weekly_occurrence_is_created_and_posted_when_one_ends(h, clock, discord_side):
    await configure(h)
    first = await create_event(h, repeat="weekly", capacity=5, role=h.role("Student"), location="Hall")
    assert first.series_id is not None and first.series_index == 1
    await rsvp(h, first, "student", "going")
    clock.set(first.ends_at.replace(hour=21))
    await h.bot.run_due_jobs()
    assert await event_total(h) == 1, "nothing is created before the occurrence ends"

    posts_before = len(discord_side.channel_messages(h.channel("general").id))
    await finish(h, clock, first)
    _, second = await events_of_series(h, first.series_id)
    assert second.series_index == 2
    assert second.starts_at == datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    assert second.ends_at == datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    assert (second.capacity, second.role_id, second.location, second.title) == (
        5,
        h.role("Student").id,
        "Hall",
        first.title,
    )
    assert second.message_id is not None
    assert await h.bot.events.count_rsvps(second.id) == {"going": 0, "waitlist": 0, "interested": 0, "not_going": 0}
    posts = discord_side.channel_messages(h.channel("general").id)
    assert len(posts) == posts_before + 1
    assert posts[-1].message_id == second.message_id
    assert f"Event #{second.id}" in posts[-1].text
    assert f"rollcall:event:going:{second.id}" in posts[-1].custom_ids

    # The job ran; running the due jobs again creates nothing more.
    await h.bot.run_due_jobs()
    assert await event_total(h) == 2


async def test_the_next_occurrence_keeps_its_own_reminders_and_gets_its_timeline(h, clock):
    await configure(h)
    first = await create_event(h, repeat="weekly", reminders="120,15", role=h.role("Student"), nudge=30)
    await finish(h, clock, first)
    _, second = await events_of_series(h, first.series_id)

    setting = await h.bot.event_reminders.get_setting(second.id)
    assert (setting.reminder_offsets, setting.nudge_minutes) == ((120, 15), 30)
    planned = {
        (timer.kind, timer.offset_minutes)
        for timer, _ in await h.bot.event_reminders.list_pending()
        if timer.event_id == second.id
    }
    assert planned == {("reminder", 120), ("reminder", 15), ("nudge", 30), ("start", 0), ("end", 0), ("missed", 0)}


async def test_create_reply_says_how_the_event_repeats(h):
    await configure(h)
    opened = await h.command(
        "event create", user="admin", channel="general", options={"repeat": "daily", "repeat_count": 3}
    )
    from tests.test_events_manage import modal_values

    done = await h.submit_modal(
        opened.modal, modal_values(opened.modal, "Standup", "", "2026-11-24 09:00", "09:15", ""), user="admin"
    )
    assert "Repeats every day, 3 times in all" in done.text


async def test_every_n_days_repeats_by_that_many_days(h, clock):
    await configure(h)
    first = await create_event(h, repeat="every_n_days", repeat_every_days=14)
    await finish(h, clock, first)
    _, second = await events_of_series(h, first.series_id)
    assert (second.starts_at - first.starts_at).days == 14


async def test_weekdays_skip_the_weekend(h, clock):
    await configure(h)
    # Friday 2026-11-27.
    first = await create_event(h, repeat="weekdays", start="2026-11-27 08:00", end="09:00")
    await finish(h, clock, first)
    _, second = await events_of_series(h, first.series_id)
    assert second.starts_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


# ---- the end of a series -----------------------------------------------------------------------


async def test_a_series_ends_after_its_count_first_occurrence_included(h, clock):
    await configure(h)
    first = await create_event(h, repeat="daily", repeat_count=3, start="2026-11-24 18:00", end="19:00")
    latest = first
    for _ in range(4):
        await finish(h, clock, latest)
        latest = (await events_of_series(h, first.series_id))[-1]
    occurrences = await events_of_series(h, first.series_id)
    assert [event.series_index for event in occurrences] == [1, 2, 3]
    series = await h.bot.event_series.get(first.series_id)
    assert series.finished_reason == "count"
    assert not h.bot.jobs.pending("events.series_next", first.series_id)


async def test_a_series_ends_after_its_last_day(h, clock):
    await configure(h, timezone="Europe/Berlin")
    first = await create_event(h, repeat="weekly", repeat_until="2026-12-12", start="2026-11-28 19:00", end="21:00")
    latest = first
    for _ in range(4):
        await finish(h, clock, latest)
        latest = (await events_of_series(h, first.series_id))[-1]
    days = [
        event.starts_at.astimezone(BERLIN).date().isoformat() for event in await events_of_series(h, first.series_id)
    ]
    assert days == ["2026-11-28", "2026-12-05", "2026-12-12"]
    assert (await h.bot.event_series.get(first.series_id)).finished_reason == "until"


async def test_repeat_options_are_refused_with_a_reason_and_nothing_is_created(h):
    await configure(h)
    cases = [
        ({"repeat_count": 3}, "only go with `repeat`"),
        ({"repeat": "every_n_days"}, "needs `repeat_every_days`"),
        ({"repeat": "weekly", "repeat_every_days": 3}, "goes with `repeat: every N days`"),
        ({"repeat": "weekly", "repeat_count": 3, "repeat_until": "2027-01-01"}, "not both"),
        ({"repeat": "weekly", "repeat_count": 0}, "between 1 and 500"),
        ({"repeat": "every_n_days", "repeat_every_days": 400}, "between 1 and 365"),
        ({"repeat": "weekly", "repeat_until": "2026-11-01"}, "has already passed"),
        ({"repeat": "weekly", "repeat_until": "someday maybe"}, "someday maybe"),
    ]
    for options, expected in cases:
        result = await h.command("event create", user="admin", channel="general", options=options)
        assert result.response.response_type != 9, options
        assert expected in result.text, (options, result.text)
    assert await event_total(h) == 0


async def test_an_end_day_before_the_first_occurrence_is_refused_after_the_form(h):
    await configure(h)
    opened = await h.command(
        "event create", user="admin", channel="general", options={"repeat": "weekly", "repeat_until": "2026-11-25"}
    )
    from tests.test_events_manage import modal_values

    done = await h.submit_modal(
        opened.modal, modal_values(opened.modal, "Raid", "", "2026-11-28 19:00", "22:00", ""), user="admin"
    )
    assert "is before the first occurrence" in done.text
    assert "Title: Raid" in done.text
    assert await event_total(h) == 0


# ---- wall-clock time across a change of clocks -----------------------------------------------


async def test_a_weekly_1900_event_stays_at_1900_across_the_autumn_change(h, clock):
    clock.set(datetime(2026, 10, 15, 9, 0, tzinfo=UTC))
    await configure(h, timezone="Europe/Berlin")
    # Thursday 22 October 19:00 CEST (UTC+2); the clocks go back on Sunday 25 October.
    first = await create_event(h, repeat="weekly", start="2026-10-22 19:00", end="21:00")
    assert first.starts_at == datetime(2026, 10, 22, 17, 0, tzinfo=UTC)
    await finish(h, clock, first)
    _, second = await events_of_series(h, first.series_id)
    assert second.starts_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2026-10-29 19:00"
    assert second.starts_at == datetime(2026, 10, 29, 18, 0, tzinfo=UTC)
    assert second.ends_at - second.starts_at == first.ends_at - first.starts_at


async def test_a_wall_time_the_clocks_skip_moves_forward_with_a_log_note(h, clock, caplog):
    clock.set(datetime(2027, 3, 20, 9, 0, tzinfo=UTC))
    await configure(h, timezone="Europe/Berlin")
    # 02:30 on Sunday 28 March 2027 does not exist in Berlin (02:00 → 03:00).
    first = await create_event(h, repeat="daily", start="2027-03-27 02:30", end="03:30")
    caplog.set_level("INFO", logger="cogs.events.series")
    await finish(h, clock, first)
    _, second = await events_of_series(h, first.series_id)
    assert second.starts_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2027-03-28 03:30"
    assert any("does not exist in Europe/Berlin" in record.getMessage() for record in caplog.records)
    await finish(h, clock, second)
    third = (await events_of_series(h, first.series_id))[-1]
    assert third.starts_at.astimezone(BERLIN).strftime("%H:%M") == "02:30", "the rule keeps its own wall time"


# ---- restart -----------------------------------------------------------------------------------


async def test_a_series_due_while_the_bot_was_down_is_created_once_after_the_restart(h, clock, restart):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    clock.set(first.ends_at.replace(minute=30))
    h = await restart()
    assert f"events.series_next:{first.series_id}" in h.bot.jobs.job_ids()
    await h.bot.run_due_jobs()
    h = await restart()
    await h.bot.run_due_jobs()
    occurrences = await events_of_series(h, first.series_id)
    assert [event.series_index for event in occurrences] == [1, 2]
    assert occurrences[1].message_id is not None
    assert h.bot.jobs.job_ids().count(f"events.series_next:{first.series_id}") == 1


async def test_occurrences_that_passed_during_a_long_downtime_are_skipped_but_counted(h, clock, restart):
    await configure(h)
    first = await create_event(h, repeat="daily", repeat_count=10, start="2026-11-24 18:00", end="19:00")
    clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    h = await restart()
    await h.bot.run_due_jobs()
    occurrences = await events_of_series(h, first.series_id)
    # The 25th and the 26th passed unseen; the 27th at 18:00 is still ahead, as occurrence 4 of 10.
    assert [event.series_index for event in occurrences] == [1, 4]
    assert occurrences[1].starts_at == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


async def test_the_same_series_claimed_twice_creates_one_occurrence(h, clock):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    clock.set(first.ends_at)
    await h.bot.jobs.run_kind("events.series_next", first.series_id, clock.now())
    await h.bot.jobs.run_kind("events.series_next", first.series_id, clock.now())
    assert len(await events_of_series(h, first.series_id)) == 2


async def test_a_post_discord_refused_is_made_after_the_restart(h, clock, restart, discord_side):
    from tests.harness import server_error

    await configure(h)
    first = await create_event(h, repeat="weekly")
    general = h.channel("general")
    discord_side.fail_next("POST", f"/channels/{general.id}/messages", server_error(), times=1)
    await finish(h, clock, first)
    _, second = await events_of_series(h, first.series_id)
    assert second.message_id is None
    h = await restart()
    await h.bot.run_due_jobs()
    second = await h.bot.events.get(second.id)
    assert second.message_id is not None
    assert len(await events_of_series(h, first.series_id)) == 2


# ---- /event cancel on a series ----------------------------------------------------------------


def final_text(done) -> str:
    """What the organizer reads last: the confirm message as edited after the work."""
    edits = [sent for sent in done.own if sent.kind == "edit_response"]
    return edits[-1].content if edits else done.text


def buttons(result) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(components):
        for component in components:
            if component.get("type") == 2:
                found[component["label"]] = component["custom_id"]
            walk(component.get("components") or [])

    walk(result.reply.data.get("components") or [])
    return found


async def test_cancelling_only_this_occurrence_keeps_the_series(h, clock, discord_side):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    await rsvp(h, first, "student", "going")
    asked = await h.command("event cancel", user="admin", event=first.id)
    assert "repeats every week" in asked.text
    labels = buttons(asked)
    assert set(labels) == {"Cancel this occurrence", "Cancel the whole series", "Keep it"}
    done = await h.click(asked.reply, labels["Cancel this occurrence"], user="admin")
    assert "Cancelled **Raid night**" in final_text(done)
    assert "series" not in final_text(done)
    assert (await h.bot.events.get(first.id)).cancelled_at is not None
    assert len(discord_side.dms_to(h.member("student").id)) == 1
    await finish(h, clock, first)
    occurrences = await events_of_series(h, first.series_id)
    assert len(occurrences) == 2 and occurrences[1].cancelled_at is None


async def test_cancelling_the_whole_series_cancels_this_one_and_creates_no_more(h, clock):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    asked = await h.command("event cancel", user="admin", event=first.id)
    done = await h.click(asked.reply, buttons(asked)["Cancel the whole series"], user="admin")
    assert "whole series is cancelled" in final_text(done)
    assert (await h.bot.events.get(first.id)).cancelled_at is not None
    series = await h.bot.event_series.get(first.series_id)
    assert series.finished_reason == "cancelled"
    assert series.finished_by == h.member("admin").id
    await finish(h, clock, first)
    assert await event_total(h) == 1


async def test_a_cancelled_occurrence_still_offers_to_end_its_series(h, clock):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    asked = await h.command("event cancel", user="admin", event=first.id)
    await h.click(asked.reply, buttons(asked)["Cancel this occurrence"], user="admin")
    again = await h.command("event cancel", user="admin", event=first.id)
    assert set(buttons(again)) == {"Cancel the whole series", "Keep it"}
    done = await h.click(again.reply, buttons(again)["Cancel the whole series"], user="admin")
    assert "Ended the series" in final_text(done)
    await finish(h, clock, first)
    assert await event_total(h) == 1


async def test_keep_it_changes_nothing(h, clock):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    asked = await h.command("event cancel", user="admin", event=first.id)
    done = await h.click(asked.reply, buttons(asked)["Keep it"], user="admin")
    assert "nothing was changed" in final_text(done)
    assert (await h.bot.events.get(first.id)).cancelled_at is None
    assert (await h.bot.event_series.get(first.series_id)).open


async def test_a_member_who_may_not_manage_the_event_cannot_end_the_series(h):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    refused = await h.command("event cancel", user="student", event=first.id)
    assert "can cancel it" in refused.text
    assert (await h.bot.event_series.get(first.series_id)).open


async def test_an_occurrence_moved_later_creates_the_next_one_at_its_new_end(h, clock):
    from tests.test_events_manage import START_TEXT, modal_values

    await configure(h)
    first = await create_event(h, repeat="weekly")
    form = (await h.command("event edit", user="admin", event=first.id)).modal
    saved = await h.submit_modal(form, modal_values(form, "Raid night", "", START_TEXT, "23:30", ""), user="admin")
    assert "Saved" in saved.text
    await finish(h, clock, first)
    assert await event_total(h) == 1, "the old end is no longer the end"
    moved = await h.bot.events.get(first.id)
    await finish(h, clock, moved)
    _, second = await events_of_series(h, first.series_id)
    assert second.starts_at == datetime(2026, 12, 5, 19, 0, tzinfo=UTC), "the rule's time, not the edit's"
    assert second.ends_at == datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
