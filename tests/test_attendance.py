"""Live roll call through real interactions: codes, /here, late/absent, lock-out, corrections."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from utils.codes import window_code, window_start


async def configure(h, **options):
    defaults = {"admin_channel": h.channel("admin"), "attendance_channel": h.channel("attendance")}
    defaults.update(options)
    result = await h.command("config set", user="admin", channel="admin", **defaults)
    assert "Saved" in result.text, result.text


async def open_session(h, *, user="admin", **options):
    result = await h.command("attendance open", user=user, channel="admin", options=options)
    assert "is open in" in result.text, result.text
    return await h.bot.attendance.get_latest(h.guild.id)


async def code_now(h, session_id, *, offset_windows=0):
    session = await h.bot.attendance.get(session_id)
    from utils.codes import window_at

    window = window_at(session.opened_at, session.interval_seconds, h.bot.clock.now()) + offset_windows
    return window_code(session.secret, window, session.code_length)


async def here(h, code, *, user="student", channel="attendance"):
    return await h.command("here", user=user, channel=channel, code=code)


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


# ---- opening ---------------------------------------------------------------------------


async def test_open_posts_the_code_message_in_the_attendance_channel(configured, discord_side):
    h = configured
    session = await open_session(h)
    posts = discord_side.channel_messages(h.channel("attendance").id)
    assert len(posts) == 1
    code = await code_now(h, session.id)
    embed = posts[0].embeds[0]
    assert code in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    ends = window_start(session.opened_at, session.interval_seconds, 1)
    assert fields["Code changes"] == f"<t:{int(ends.timestamp())}:R>"
    assert fields["Answered so far"] == "0"
    assert session.message_id == posts[0].message_id
    assert session.secret.hex() not in str(discord_side.sent)


async def test_open_without_channel_or_default_explains_how_to_fix(h):
    result = await h.command("attendance open", user="admin")
    assert "set a default with `/config set attendance_channel`" in result.text
    assert await h.bot.attendance.get_latest(h.guild.id) is None


async def test_second_open_in_the_same_channel_is_refused(configured, discord_side):
    h = configured
    first = await open_session(h)
    result = await h.command("attendance open", user="admin", channel="admin")
    assert "already open in" in result.text
    assert (await h.bot.attendance.get_latest(h.guild.id)).id == first.id
    assert len(discord_side.channel_messages(h.channel("attendance").id)) == 1


async def test_several_classes_run_in_different_channels(configured):
    h = configured
    first = await open_session(h)
    second = await open_session(h, channel=h.channel("lecture-b"))
    assert first.id != second.id
    ok = await here(h, await code_now(h, second.id), channel="lecture-b")
    assert "present" in ok.text
    close = await h.command("attendance close", user="admin", channel="admin")
    assert "Several roll calls are open" in close.text
    chosen = await h.command(
        "attendance close", user="admin", channel="admin", options={"channel": h.channel("lecture-b")}
    )
    assert f"Closed roll call #{second.id}" in chosen.text
    assert (await h.bot.attendance.get(first.id)).is_open


async def test_open_in_a_channel_the_bot_cannot_post_in_is_refused(configured, discord_side):
    h = configured
    result = await h.command(
        "attendance open", user="admin", channel="admin", options={"channel": h.channel("announcements")}
    )
    assert "I can't post in" in result.text
    assert await h.bot.attendance.get_latest(h.guild.id) is None
    assert discord_side.channel_messages(h.channel("announcements").id) == []


async def test_open_options_override_the_server_settings(configured):
    h = configured
    session = await open_session(h, interval=30, length=6, duration=45, expected_role=h.role("Student"))
    assert (session.interval_seconds, session.code_length) == (30, 6)
    assert session.closes_at == session.opened_at + timedelta(minutes=45)
    assert session.expected_role_id == h.role("Student").id
    assert len(await code_now(h, session.id)) == 6


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"interval": 4}, "between 5 and 3600 seconds"),
        ({"length": 9}, "between 3 and 8"),
        ({"duration": 0}, "between 1"),
    ],
)
async def test_open_refuses_out_of_range_options(configured, options, expected):
    h = configured
    result = await h.command("attendance open", user="admin", channel="admin", **options)
    assert expected in result.text
    assert await h.bot.attendance.get_latest(h.guild.id) is None


# ---- /here -----------------------------------------------------------------------------


async def test_here_with_the_current_code_marks_present(configured):
    h = configured
    session = await open_session(h)
    result = await here(h, await code_now(h, session.id))
    assert result.ephemeral
    assert "present" in result.text
    record = await h.bot.attendance.get_record(session.id, h.member("student").id)
    assert record.status == "present"
    assert record.submitted_at == h.bot.clock.now()


async def test_case_and_surrounding_spaces_do_not_matter(configured):
    h = configured
    session = await open_session(h)
    code = await code_now(h, session.id)
    result = await here(h, f"  {code.lower()} ")
    assert "present" in result.text


async def test_here_without_any_open_session(configured):
    h = configured
    result = await here(h, "ABCD")
    assert result.ephemeral
    assert "There is no roll call open right now" in result.text


async def test_here_in_the_wrong_channel_points_to_the_right_one(configured):
    h = configured
    session = await open_session(h)
    result = await here(h, await code_now(h, session.id), channel="general")
    assert f"Type `/here` in <#{h.channel('attendance').id}>" in result.text
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None


async def test_wrong_code_is_refused_and_counted(configured):
    h = configured
    session = await open_session(h)
    result = await here(h, "ZZZZ" if await code_now(h, session.id) != "ZZZZ" else "YYYY")
    assert "That code is wrong" in result.text
    assert "4 tries left" in result.text
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None
    assert (await h.bot.attendance.count_failures(session.id)) == {h.member("student").id: 1}


async def test_code_of_an_older_window_is_expired(configured, clock):
    h = configured
    session = await open_session(h)
    old = await code_now(h, session.id)
    clock.advance(seconds=session.interval_seconds * 3)
    result = await here(h, old)
    assert "That code has expired" in result.text


async def test_previous_code_is_accepted_just_inside_the_grace_period(configured, clock):
    h = configured
    session = await open_session(h)
    previous = await code_now(h, session.id)
    clock.set(
        window_start(session.opened_at, session.interval_seconds, 1) + timedelta(seconds=session.grace_seconds - 0.001)
    )
    result = await here(h, previous)
    assert "present" in result.text


async def test_previous_code_is_expired_just_outside_the_grace_period(configured, clock):
    h = configured
    session = await open_session(h)
    previous = await code_now(h, session.id)
    clock.set(window_start(session.opened_at, session.interval_seconds, 1) + timedelta(seconds=session.grace_seconds))
    result = await here(h, previous)
    assert "That code has expired" in result.text


async def test_next_windows_code_is_not_accepted_early(configured):
    h = configured
    session = await open_session(h)
    result = await here(h, await code_now(h, session.id, offset_windows=1))
    assert "That code is wrong" in result.text


async def test_late_threshold(configured, clock):
    h = configured
    session = await open_session(h)
    clock.set(session.opened_at + timedelta(minutes=10) - timedelta(seconds=1))
    on_time = await here(h, await code_now(h, session.id), user="student")
    clock.set(session.opened_at + timedelta(minutes=10))
    late = await here(h, await code_now(h, session.id), user="student2")
    assert "present" in on_time.text
    assert "late" in late.text and "10 min after it opened" in late.text
    assert (await h.bot.attendance.get_record(session.id, h.member("student2").id)).status == "late"


async def test_last_submission_wins(configured, clock):
    h = configured
    session = await open_session(h)
    await here(h, await code_now(h, session.id))
    clock.advance(minutes=12)
    await here(h, await code_now(h, session.id))
    records = await h.bot.attendance.list_records(session.id)
    assert len(records) == 1
    assert records[0].status == "late"
    assert records[0].submitted_at == clock.now()


async def test_lock_out_at_exactly_five_failures(configured):
    h = configured
    session = await open_session(h)
    good = await code_now(h, session.id)
    wrong = "ZZZZ" if good != "ZZZZ" else "YYYY"
    for attempt in range(1, 5):
        result = await here(h, wrong)
        assert "That code is wrong" in result.text
        left = 5 - attempt
        assert f"{left} {'try' if left == 1 else 'tries'} left" in result.text
    fifth = await here(h, wrong)
    assert "now locked out" in fifth.text
    sixth = await here(h, good)
    assert "you are locked out of this roll call" in sixth.text
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None
    other = await here(h, good, user="student2")
    assert "present" in other.text
    status = await h.command("attendance status", user="admin", channel="admin")
    assert f"Locked out: <@{h.member('student').id}>" in status.text
    marked = await h.command(
        "attendance mark", user="admin", channel="admin", member=h.member("student"), status="present"
    )
    assert "now **present**" in marked.text


async def test_lockout_survives_a_restart(configured, restart):
    h = configured
    session = await open_session(h)
    good = await code_now(h, session.id)
    for _ in range(5):
        await here(h, "ZZZZ" if good != "ZZZZ" else "YYYY")
    h2 = await restart()
    result = await here(h2, await code_now(h2, session.id))
    assert "locked out" in result.text


# ---- closing -----------------------------------------------------------------------------


async def test_close_records_absent_reports_counts_and_posts_the_csv(configured, discord_side, clock):
    h = configured
    session = await open_session(h, expected_role=h.role("Student"))
    await here(h, await code_now(h, session.id), user="student")
    await here(h, await code_now(h, session.id), user="member")
    clock.advance(minutes=11)
    await here(h, await code_now(h, session.id), user="student2")

    result = await h.command("attendance close", user="admin", channel="admin")
    assert "2 present · 1 late · 1 absent · 0 excused" in result.text
    assert result.ephemeral

    statuses = {r.user_id: r.status for r in await h.bot.attendance.list_records(session.id)}
    assert statuses[h.member("student3").id] == "absent"
    assert statuses[h.member("student2").id] == "late"

    report = discord_side.channel_messages(h.channel("admin").id)[-1]
    assert "closed by" in report.content
    rows = parse_csv(report.files[0][1])
    assert report.files[0][0] == f"rollcall-session-{session.id}-2026-11-23.csv"
    assert {row["status"] for row in rows} == {"present", "late", "absent"}
    assert len(rows) == 4

    code_message = discord_side.stored_message(session.message_id)
    assert code_message["embeds"][0]["title"] == "Roll call closed"
    after = await here(h, await code_now(h, session.id))
    assert "no roll call open" in after.text


async def test_close_when_nothing_is_open(configured):
    h = configured
    result = await h.command("attendance close", user="admin", channel="admin")
    assert "There is no open roll call to close" in result.text


async def test_timed_close_fires_once_through_the_scheduler_path(configured, clock, discord_side):
    h = configured
    session = await open_session(h, duration=30, expected_role=h.role("Student"))
    clock.advance(minutes=29)
    await h.bot.run_due_jobs()
    assert (await h.bot.attendance.get(session.id)).is_open
    clock.advance(minutes=1)
    await h.bot.run_due_jobs()
    await h.bot.run_due_jobs()
    closed = await h.bot.attendance.get(session.id)
    assert not closed.is_open and closed.closed_by is None
    reports = [m for m in discord_side.channel_messages(h.channel("admin").id) if "closed automatically" in m.content]
    assert len(reports) == 1
    assert len(parse_csv(reports[0].files[0][1])) == 3


async def test_rotation_edits_the_message_with_a_new_code_and_the_count(configured, clock, discord_side):
    h = configured
    session = await open_session(h)
    first = await code_now(h, session.id)
    await here(h, first)
    seen = [first]
    for _ in range(6):
        clock.advance(seconds=session.interval_seconds)
        await h.bot.run_due_jobs()
        edit = discord_side.of_kind("edit")[-1]
        assert edit.message_id == session.message_id
        code = await code_now(h, session.id)
        assert code in edit.embeds[0]["description"]
        assert code != seen[-1]
        seen.append(code)
    fields = {f["name"]: f["value"] for f in discord_side.of_kind("edit")[-1].embeds[0]["fields"]}
    assert fields["Answered so far"] == "1"
    edits_before = len(discord_side.of_kind("edit"))
    await h.bot.run_due_jobs()
    assert len(discord_side.of_kind("edit")) == edits_before


# ---- restart -----------------------------------------------------------------------------


async def test_restart_keeps_codes_valid_and_refinds_the_message(configured, restart, discord_side):
    h = configured
    session = await open_session(h)
    code_before = await code_now(h, session.id)
    h2 = await restart()
    await h2.bot.run_due_jobs()
    edit = discord_side.of_kind("edit")[-1]
    assert edit.message_id == session.message_id
    assert len(discord_side.channel_messages(h2.channel("attendance").id)) == 1
    result = await here(h2, code_before)
    assert "present" in result.text


async def test_restart_reposts_a_deleted_code_message(configured, restart, discord_side):
    h = configured
    session = await open_session(h)
    discord_side.delete_stored_message(session.message_id)
    h2 = await restart()
    await h2.bot.run_due_jobs()
    posts = discord_side.channel_messages(h2.channel("attendance").id)
    assert len(posts) == 2
    refreshed = await h2.bot.attendance.get(session.id)
    assert refreshed.message_id == posts[-1].message_id != session.message_id


async def test_timed_close_after_a_restart_fires_once(configured, restart, clock, discord_side):
    h = configured
    session = await open_session(h, duration=5)
    h2 = await restart()
    assert f"attendance.close:{session.id}" in h2.bot.jobs.job_ids()
    clock.advance(minutes=6)
    await h2.bot.run_due_jobs()
    h3 = await restart()
    await h3.bot.run_due_jobs()
    reports = [m for m in discord_side.channel_messages(h3.channel("admin").id) if "closed automatically" in m.content]
    assert len(reports) == 1
    assert f"attendance.close:{session.id}" not in h3.bot.jobs.job_ids()


async def test_submissions_are_durable_across_restart(configured, restart):
    h = configured
    session = await open_session(h)
    await here(h, await code_now(h, session.id))
    h2 = await restart()
    assert (await h2.bot.attendance.get_record(session.id, h2.member("student").id)).status == "present"


# ---- corrections and exports ------------------------------------------------------------


async def test_mark_and_unmark_are_audited_and_logged(configured, discord_side):
    h = configured
    await h.command("config set", user="admin", channel="admin", log_channel=h.channel("log"))
    session = await open_session(h)
    await here(h, await code_now(h, session.id))
    result = await h.command(
        "attendance mark", user="admin", channel="admin", member=h.member("student"), status="excused"
    )
    assert "now **excused**" in result.text and "was present" in result.text
    record = await h.bot.attendance.get_record(session.id, h.member("student").id)
    assert record.status == "excused" and record.corrected_by == h.member("admin").id

    entries = await h.bot.audit.list(h.guild.id, action_prefix="attendance.")
    assert (entries[0].action, entries[0].before_value, entries[0].after_value) == (
        "attendance.mark",
        "present",
        "excused",
    )
    assert entries[0].actor_id == h.member("admin").id
    assert "marked" in discord_side.channel_messages(h.channel("log").id)[-1].content

    removed = await h.command("attendance unmark", user="admin", channel="admin", member=h.member("student"))
    assert "Removed" in removed.text
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None
    entries = await h.bot.audit.list(h.guild.id, action_prefix="attendance.")
    assert (entries[0].action, entries[0].before_value, entries[0].after_value) == (
        "attendance.unmark",
        "excused",
        None,
    )

    again = await h.command("attendance unmark", user="admin", channel="admin", member=h.member("student"))
    assert "has no record" in again.text
    assert len(await h.bot.audit.list(h.guild.id, action_prefix="attendance.")) == 2


async def test_mark_with_an_unknown_session_changes_nothing(configured):
    h = configured
    await open_session(h)
    result = await h.command(
        "attendance mark", user="admin", channel="admin", member=h.member("student"), status="present", session=9999
    )
    assert "There is no roll call #9999" in result.text
    assert await h.bot.audit.list(h.guild.id, action_prefix="attendance.") == []


async def test_mark_with_a_status_outside_the_choices_is_refused(configured):
    h = configured
    session = await open_session(h)
    result = await h.command(
        "attendance mark", user="admin", channel="admin", member=h.member("student"), status="sleeping"
    )
    assert "sleeping" in result.text
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None


async def test_export_csv_content_and_formula_injection(configured):
    h = configured
    sneaky = h.add_member("sneaky", roles=("Student",), display_name='=HYPERLINK("http://x","y")')
    await h.command("config set", user="admin", channel="admin", timezone="Europe/Berlin")
    session = await open_session(h)
    await here(h, await code_now(h, session.id), user=sneaky)
    await h.command("attendance mark", user="admin", channel="admin", member=h.member("student"), status="excused")

    result = await h.command("attendance export", user="admin", channel="admin")
    assert result.reply.ephemeral
    name, data = result.reply.files[0]
    assert name.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = {row["user_name"]: row for row in parse_csv(data)}
    assert list(rows["sneaky"].keys()) == [
        "user_id",
        "user_name",
        "display_name",
        "status",
        "submitted_at_utc",
        "submitted_at_local",
        "corrected_by_id",
        "corrected_by",
        "corrected_at_utc",
        "corrected_at_local",
    ]
    assert rows["sneaky"]["display_name"].startswith("'=")
    assert rows["sneaky"]["status"] == "present"
    assert rows["sneaky"]["submitted_at_utc"] == "2026-11-23T09:00:00+00:00"
    assert rows["sneaky"]["submitted_at_local"] == "2026-11-23T10:00:00+01:00"
    assert rows["student"]["status"] == "excused"
    assert rows["student"]["corrected_by_id"] == str(h.member("admin").id)
    assert rows["student"]["corrected_by"] == "admin"


async def test_export_without_any_session(configured):
    h = configured
    result = await h.command("attendance export", user="admin", channel="admin")
    assert "There are no roll calls yet" in result.text


async def test_sessions_are_paginated_with_buttons_that_survive_a_restart(configured, restart):
    h = configured
    for _ in range(12):
        await open_session(h)
        await h.command("attendance close", user="admin", channel="admin")
    first = await h.command("attendance sessions", user="admin", channel="admin")
    assert "Page 1 of 2" in first.text and "12 roll calls" in first.text
    assert "rollcall:attendance:sessions:1" in first.response.custom_ids
    h2 = await restart()
    second = await h2.click(first.response, "rollcall:attendance:sessions:1", user="admin")
    assert second.response.response_type == 7
    assert "Page 2 of 2" in second.response.text
    assert "`#1`" in second.response.text
    refused = await h2.click(first.response, "rollcall:attendance:sessions:0", user="student")
    assert "Only server admins" in refused.text


async def test_session_autocomplete_lists_recent_sessions_newest_first(configured):
    h = configured
    first = await open_session(h)
    second = await open_session(h, channel=h.channel("lecture-b"))
    choices = await h.autocomplete("attendance export", "session", user="admin", channel="admin", session="")
    assert [c["value"] for c in choices] == [second.id, first.id]
    assert choices[0]["name"].startswith(f"#{second.id} · #lecture-b")
    filtered = await h.autocomplete("attendance export", "session", user="admin", channel="admin", session="attend")
    assert [c["value"] for c in filtered] == [first.id]


async def test_organizers_may_run_roll_calls(configured):
    h = configured
    await h.command("config set", user="admin", channel="admin", organizer_role=h.role("Organizer"))
    session = await open_session(h, user="organizer")
    assert session.opened_by == h.member("organizer").id


ADMIN_SUBCOMMANDS = [
    ("attendance open", {}),
    ("attendance close", {}),
    ("attendance status", {}),
    ("attendance sessions", {}),
    ("attendance export", {}),
]


@pytest.mark.parametrize("who", ["member", "student"])
@pytest.mark.parametrize(("command", "options"), ADMIN_SUBCOMMANDS)
async def test_non_staff_are_refused_every_attendance_command(configured, who, command, options, discord_side):
    h = configured
    session = await open_session(h)
    sent_before = len(discord_side.sent)
    result = await h.command(command, user=who, channel="admin", **options)
    assert "Only server admins (Manage Server) and the organizer role can use this command." in result.text
    assert result.ephemeral
    assert (await h.bot.attendance.get(session.id)).is_open
    assert [s.kind for s in discord_side.sent[sent_before:]] == ["response"]


@pytest.mark.parametrize("who", ["member", "student"])
async def test_non_staff_cannot_mark_or_unmark(configured, who):
    h = configured
    session = await open_session(h)
    mark = await h.command("attendance mark", user=who, channel="admin", member=h.member(who), status="present")
    unmark = await h.command("attendance unmark", user=who, channel="admin", member=h.member(who))
    assert "Only server admins" in mark.text and "Only server admins" in unmark.text
    assert await h.bot.attendance.get_record(session.id, h.member(who).id) is None


async def test_a_deleted_channel_closes_its_roll_call_and_tells_the_admins(configured, clock, discord_side):
    from discord.ext.test import backend

    h = configured
    session = await open_session(h, channel=h.channel("lecture-b"))
    backend.delete_channel(h.channel("lecture-b"))
    clock.advance(seconds=session.interval_seconds)
    await h.bot.run_due_jobs()
    assert not (await h.bot.attendance.get(session.id)).is_open
    report = discord_side.channel_messages(h.channel("admin").id)[-1]
    assert "its channel was deleted" in report.content


async def test_status_shows_open_sessions_with_counts(configured, clock):
    h = configured
    session = await open_session(h, duration=50)
    await here(h, await code_now(h, session.id))
    result = await h.command("attendance status", user="admin", channel="admin")
    assert f"#{session.id} in #attendance" in result.text
    assert "1 present · 0 late · 0 absent · 0 excused" in result.text
    assert "Locked out: nobody" in result.text
    assert "Closes <t:" in result.text
    await h.command("attendance close", user="admin", channel="admin")
    after = await h.command("attendance status", user="admin", channel="admin")
    assert "No roll call is open." in after.text and f"Last: #{session.id}" in after.text


async def test_closed_session_rejects_a_second_close(configured):
    h = configured
    session = await open_session(h)
    await h.command("attendance close", user="admin", channel="admin")
    again = await h.command("attendance close", user="admin", channel="admin", session=session.id)
    assert f"Roll call #{session.id} is already closed." in again.text


async def test_marking_a_bot_is_refused(configured):
    h = configured
    session = await open_session(h)
    result = await h.command("attendance mark", user="admin", channel="admin", member=h.guild.me, status="present")
    assert "Bots don't take part" in result.text
    assert await h.bot.attendance.list_records(session.id) == []


async def test_export_of_an_unknown_session_is_refused(configured):
    h = configured
    await open_session(h)
    result = await h.command("attendance export", user="admin", channel="admin", session=424242)
    assert "There is no roll call #424242" in result.text
    assert result.response.response_type == 4
    assert not result.response.files


@pytest.mark.parametrize("typed", ["'; DROP TABLE attendance_record; --", "🎉🎉🎉🎉", "ÄÖÜ?"])
async def test_sql_looking_or_emoji_codes_are_just_wrong(configured, typed):
    h = configured
    session = await open_session(h)
    result = await here(h, typed)
    assert "That code is wrong" in result.text
    assert await h.bot.attendance.list_records(session.id) == []
    assert (await h.bot.db.fetch_one("SELECT COUNT(*) FROM attendance_record"))[0] == 0


async def test_a_session_from_another_server_is_not_reachable(configured):
    h = configured
    session = await open_session(h)
    await h.bot.db.execute("UPDATE attendance_session SET guild_id = 1 WHERE id = ?", (session.id,))
    result = await h.command("attendance export", user="admin", channel="admin", session=session.id)
    assert f"There is no roll call #{session.id}" in result.text


async def test_losing_access_to_the_channel_is_reported_once(configured, clock, discord_side):
    import discord

    h = configured
    session = await open_session(h, channel=h.channel("lecture-b"))
    h.set_channel_overwrite(h.channel("lecture-b"), h.role("Rollcall"), discord.PermissionOverwrite(view_channel=False))
    assert not h.channel("lecture-b").permissions_for(h.guild.me).view_channel
    for _ in range(3):
        clock.advance(seconds=session.interval_seconds)
        await h.bot.run_due_jobs()
    warnings = [m for m in discord_side.channel_messages(h.channel("admin").id) if "I can't show the code" in m.content]
    assert len(warnings) == 1
    assert (await h.bot.attendance.get(session.id)).is_open


async def test_without_an_admin_channel_the_timed_report_goes_to_the_opener_by_dm(h, clock, discord_side):
    await h.command("config set", user="admin", attendance_channel=h.channel("attendance"))
    session = await open_session(h, duration=1)
    clock.advance(minutes=2)
    await h.bot.run_due_jobs()
    dms = discord_side.dms_to(h.member("admin").id)
    assert len(dms) == 1
    assert f"Roll call #{session.id}" in dms[0].content
    assert dms[0].files[0][0].endswith(".csv")


async def test_closed_dms_do_not_break_the_timed_close(h, clock, discord_side):
    await h.command("config set", user="admin", attendance_channel=h.channel("attendance"))
    discord_side.closed_dms.add(h.member("admin").id)
    session = await open_session(h, duration=1)
    clock.advance(minutes=2)
    await h.bot.run_due_jobs()
    assert not (await h.bot.attendance.get(session.id)).is_open
    assert discord_side.dms_to(h.member("admin").id) == []


async def test_a_burst_of_concurrent_answers_is_all_committed_before_each_reply(configured, discord_side):
    import asyncio

    h = configured
    session = await open_session(h)
    code = await code_now(h, session.id)
    members = [h.add_member(f"burst{i:03d}", roles=("Student",)) for i in range(300)]
    payloads = [h.command_payload("here", user=m, channel=h.channel("attendance"), code=code) for m in members]
    # The same member twice inside one batch keeps one row.
    payloads.append(h.command_payload("here", user=members[0], channel=h.channel("attendance"), code=code))
    before = asyncio.all_tasks()
    for payload in payloads:
        h.dispatch_nowait(payload)
    await h.idle(exclude=before)
    replies = [
        s for s in discord_side.sent if s.kind == "response" and s.interaction_id in {int(p["id"]) for p in payloads}
    ]
    assert len(replies) == len(payloads)
    assert all("present" in reply.content for reply in replies)
    assert len(await h.bot.attendance.list_records(session.id)) == 300
