"""/attendance history [member]: a member's own record for anyone, someone else's for organizers
only, and nothing of another server's roll calls or events."""

from __future__ import annotations

import pytest

from tests.test_exports import files_of, seed, table
from tests.test_reports import fields, png_size

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
REFUSED = "You can see only your own attendance"


@pytest.fixture
async def seeded(h, clock):
    return await seed(h, clock)


async def test_a_member_sees_their_own_history_without_naming_anyone(h, seeded):
    result = await h.command("attendance history", user="student", channel="general", options=NOVEMBER)
    assert result.ephemeral
    assert result.reply.embeds[0]["title"] == "student · 2026-11-01 – 2026-11-30"
    shown = fields(result)
    assert shown["Attendance rate"] == "1/2 (50.0%)"
    assert (shown["Present"], shown["Absent"]) == ("1", "1")
    assert shown["No-shows"] == "1"
    assert png_size(result.reply.files[0][1]) == (1000, 500)


async def test_a_member_may_name_themselves(h, seeded):
    result = await h.command(
        "attendance history", user="ana", channel="general", member=h.member("ana"), options=NOVEMBER
    )
    assert fields(result)["Attendance rate"] == "2/2 (100.0%)"


async def test_an_organizer_sees_another_members_history(h, seeded):
    result = await h.command(
        "attendance history", user="organizer", channel="general", member=h.member("ana"), options=NOVEMBER
    )
    assert result.ephemeral
    shown = fields(result)
    assert shown["Attendance rate"] == "2/2 (100.0%)"
    assert (shown["Present"], shown["Late"]) == ("1", "1")
    assert shown["Events attended ÷ Going"] == "1/1 (100.0%)"


async def test_a_member_naming_someone_else_is_refused_and_nothing_else_is_sent(h, seeded):
    result = await h.command(
        "attendance history", user="ana", channel="general", member=h.member("student"), options=NOVEMBER
    )
    assert REFUSED in result.text and "/me attendance" in result.text
    assert result.ephemeral
    assert [sent.kind for sent in result.sent] == ["response"]
    assert files_of(result) == [] and not result.reply.embeds


async def test_report_member_refuses_someone_elses_record_with_the_same_message(h, seeded):
    result = await h.command(
        "report member", user="ana", channel="general", member=h.member("student"), options=NOVEMBER
    )
    assert REFUSED in result.text
    assert [sent.kind for sent in result.sent] == ["response"]


async def test_with_an_admin_channel_an_organizer_looks_others_up_there_and_a_member_anywhere(h, seeded):
    said = await h.command("config set", user="admin", channel="general", admin_channel=h.channel("admin"))
    assert "Saved" in said.text, said.text
    elsewhere = await h.command(
        "attendance history", user="organizer", channel="general", member=h.member("ana"), options=NOVEMBER
    )
    assert "answer only in" in elsewhere.text and files_of(elsewhere) == []
    there = await h.command(
        "attendance history", user="organizer", channel="admin", member=h.member("ana"), options=NOVEMBER
    )
    assert fields(there)["Attendance rate"] == "2/2 (100.0%)"
    own = await h.command("attendance history", user="student", channel="general", options=NOVEMBER)
    assert fields(own)["Attendance rate"] == "1/2 (50.0%)"


async def test_an_organizer_sees_the_history_of_someone_who_has_left(h, seeded):
    bob = h.member("bob")
    await h.member_leave(bob)
    gone = h.bot.get_user(bob.id)
    assert gone is not None and h.guild.get_member(bob.id) is None
    result = await h.command(
        "attendance history", user="organizer", channel="general", member=gone, options={**NOVEMBER, "format": "csv"}
    )
    rows = table(files_of(result)[0][1])
    assert [(row["user_name"], row["status"]) for row in rows] == [("bob", "absent")]


async def test_a_bad_range_is_refused_with_an_example(h, seeded):
    result = await h.command(
        "attendance history", user="student", channel="general", options={"from": "2026-11-30", "to": "2026-11-01"}
    )
    assert "is after `to`" in result.text and "2027-" in result.text
    assert files_of(result) == []


async def test_another_guilds_roll_calls_and_events_never_show(h, seeded, clock):
    first, second, _ = seeded
    student = h.member("student")
    other = h.guild.id + 1
    theirs = await h.bot.attendance.open_session(
        guild_id=other,
        channel_id=1,
        opened_by=1,
        opened_at=first.opened_at,
        closes_at=None,
        secret=b"x" * 16,
        interval_seconds=30,
        code_length=6,
        grace_seconds=5,
        late_after_minutes=10,
        expected_role_id=None,
    )
    await h.bot.attendance.mark(
        theirs,
        user_id=student.id,
        user_name="student",
        display_name="elsewhere",
        status="present",
        actor_id=1,
        now=clock.now(),
    )
    their_event = await h.bot.events.create(
        guild_id=other,
        channel_id=1,
        created_by=1,
        now=clock.now(),
        title="Their event",
        description="",
        location="",
        starts_at=first.opened_at,
        ends_at=second.opened_at,
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    await h.bot.events.set_rsvp(their_event.id, student.id, "going", now=clock.now())

    result = await h.command("attendance history", user="student", channel="general", options=NOVEMBER)
    shown = fields(result)
    assert shown["Attendance rate"] == "1/2 (50.0%)"
    assert (shown["Present"], shown["Absent"]) == ("1", "1")
    assert shown["Events attended ÷ Going"] == "0/1 (0.0%)" and shown["No-shows"] == "1"
    as_csv = await h.command(
        "attendance history", user="student", channel="general", options={**NOVEMBER, "format": "csv"}
    )
    assert {int(row["session_id"]) for row in table(files_of(as_csv)[0][1])} == {first.id, second.id}
