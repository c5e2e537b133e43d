"""Exports as attachments: fitted to the interaction's upload limit (zipped, then split into
parts and spread over messages), and the fake Discord refusing what is too big."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import discord
import pytest

from tests.test_attendance import code_now, configure, here, open_session
from tests.test_events_create import created
from utils.attachments import batches, budget, fit_attachments


async def roll_call_with(h, members: int):
    await configure(h)
    people = [h.add_member(f"student{index:03d}", roles=("Student",)) for index in range(members)]
    session = await open_session(h)
    for member in people:
        await here(h, await code_now(h, session.id), user=member)
    return session


def files_of(result) -> list[tuple[str, bytes]]:
    return [upload for sent in result.own if sent.kind in ("followup", "response") for upload in sent.files]


async def test_an_export_under_the_limit_is_sent_as_it_is(h):
    await roll_call_with(h, 3)
    result = await h.command("attendance export", user="admin", channel="admin")
    [(name, data)] = files_of(result)
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
    assert "zipped" not in result.text


async def test_an_export_over_the_limit_is_zipped_and_unzips_to_the_same_csv(h, discord_side):
    await roll_call_with(h, 40)
    [(plain_name, plain)] = files_of(await h.command("attendance export", user="admin", channel="admin"))
    discord_side.attachment_size_limit = len(plain) - 1
    result = await h.command("attendance export", user="admin", channel="admin")
    [(name, data)] = files_of(result)
    assert name == plain_name + ".zip"
    assert "zipped" in result.text
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read(plain_name) == plain


async def test_a_zip_still_over_the_limit_is_split_into_parts_over_several_messages(h, discord_side):
    await roll_call_with(h, 60)
    [(plain_name, plain)] = files_of(await h.command("attendance export", user="admin", channel="admin"))
    discord_side.attachment_size_limit = 200
    result = await h.command("attendance export", user="admin", channel="admin")
    messages = [sent for sent in result.own if sent.kind == "followup" and sent.files]
    parts = files_of(result)
    assert len(parts) > 1 and len(messages) > 1
    assert all(len(sent.files) <= 10 for sent in messages)
    assert all(sum(len(data) for _, data in sent.files) <= 200 for sent in messages)
    assert "parts" in messages[0].text and f"Part 2 of {len(messages)}" in messages[1].text
    assert [name for name, _ in parts] == [f"{plain_name}.zip.{index:03d}" for index in range(1, len(parts) + 1)]
    joined = b"".join(data for _, data in parts)
    with zipfile.ZipFile(io.BytesIO(joined)) as archive:
        assert archive.read(plain_name) == plain


async def test_the_fake_discord_refuses_an_upload_past_the_limit(h, discord_side):
    await configure(h)
    discord_side.attachment_size_limit = 10
    channel = h.bot.get_channel(h.channel("admin").id)
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(file=discord.File(io.BytesIO(b"x" * 11), filename="big.txt"))
    assert refused.value.code == 40005


def test_fit_keeps_small_files_and_budget_leaves_room_for_the_envelope():
    assert budget(25 * 1024 * 1024) == 25 * 1024 * 1024 - 64 * 1024
    assert fit_attachments([("a.csv", b"abc")], 1_000) == [("a.csv", b"abc")]


def test_batches_hold_at_most_ten_files_and_the_budget():
    files = [(f"f{index}", b"x" * 10) for index in range(25)]
    groups = batches(files, 1_000)
    assert [len(group) for group in groups] == [10, 10, 5]
    assert [len(group) for group in batches(files, 64)] == [6, 6, 6, 6, 1]


# ---- /export sessions and /export members on a small known dataset -------------------------

BERLIN = "Europe/Berlin"


async def mark(h, member: str, status: str, session_id: int) -> None:
    result = await h.command(
        "attendance mark", user="admin", channel="admin", member=h.member(member), status=status, session=session_id
    )
    assert "nothing was changed" not in result.text, result.text


async def close(h, session_id: int) -> None:
    result = await h.command("attendance close", user="admin", channel="admin", session=session_id)
    assert "closed" in result.text.lower(), result.text


@pytest.fixture
async def seeded(h, clock):
    return await seed(h, clock)


async def seed(h, clock):
    """Two roll calls a day apart and one event with a no-show and a walk-in:

    roll call 1 (2026-11-23): student present, ana late, bob absent, cy excused
    roll call 2 (2026-11-24): ana present, student absent
    event (2026-11-25 19:00 Berlin): student and ana Going; ana and bob (walk-in) attend."""
    result = await h.command(
        "config set",
        user="admin",
        channel="admin",
        organizer_role=h.role("Organizer"),
        timezone=BERLIN,
        attendance_channel=h.channel("attendance"),
    )
    assert "Saved" in result.text, result.text
    for name in ("ana", "bob", "cy"):
        h.add_member(name, roles=("Student",))
    first = await open_session(h)
    await here(h, await code_now(h, first.id), user="student")
    await mark(h, "ana", "late", first.id)
    await mark(h, "bob", "absent", first.id)
    await mark(h, "cy", "excused", first.id)
    await close(h, first.id)
    clock.advance(days=1)
    second = await open_session(h)
    await here(h, await code_now(h, second.id), user="ana")
    await mark(h, "student", "absent", second.id)
    await close(h, second.id)
    event = await created(h)
    for name in ("student", "ana"):
        await h.bot.events.set_rsvp(event.id, h.member(name).id, "going", now=clock.now())
    clock.set(event.starts_at + timedelta(minutes=5))
    for name in ("ana", "bob"):
        said = await h.command("event attend", user=name, channel="general", event=event.id)
        assert "marked as attending" in said.text, said.text
    clock.set(event.ends_at + timedelta(hours=1))
    return first, second, event


def table(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_export_sessions_puts_every_roll_call_of_the_range_in_one_file(h, seeded):
    first, second, _ = seeded
    result = await h.command(
        "export sessions", user="organizer", channel="admin", options={"from": "2026-11-23", "to": "2026-11-24"}
    )
    assert result.ephemeral
    assert "2 roll calls, 6 records" in result.text
    [(name, data)] = files_of(result)
    assert name == "rollcall-sessions-2026-11-23-to-2026-11-24.csv"
    rows = table(data)
    assert list(rows[0]) == [
        "session_id",
        "channel_id",
        "event_id",
        "opened_at_utc",
        "opened_at_local",
        "user_id",
        "user_name",
        "display_name",
        "status",
        "submitted_at_utc",
        "submitted_at_local",
        "corrected_by_id",
        "corrected_at_utc",
        "corrected_at_local",
    ]
    by_session = [(int(row["session_id"]), row["user_name"], row["status"]) for row in rows]
    assert by_session == [
        (first.id, "ana", "late"),
        (first.id, "bob", "absent"),
        (first.id, "cy", "excused"),
        (first.id, "student", "present"),
        (second.id, "ana", "present"),
        (second.id, "student", "absent"),
    ]
    assert rows[0]["opened_at_utc"] == "2026-11-23T09:00:00+00:00"
    assert rows[0]["opened_at_local"] == "2026-11-23T10:00:00+01:00"


async def test_export_sessions_for_one_day_leaves_the_others_out(h, seeded):
    _, second, _ = seeded
    result = await h.command(
        "export sessions", user="admin", channel="admin", options={"from": "2026-11-24", "to": "2026-11-24"}
    )
    rows = table(files_of(result)[0][1])
    assert {int(row["session_id"]) for row in rows} == {second.id}


async def test_export_members_gives_one_row_per_member_with_hand_computed_figures(h, seeded):
    result = await h.command(
        "export members", user="organizer", channel="admin", options={"from": "2026-11-01", "to": "2026-11-30"}
    )
    [(name, data)] = files_of(result)
    assert name == "rollcall-members-2026-11-01-to-2026-11-30.csv"
    rows = {row["display_name"]: row for row in table(data)}
    figures = {
        name: (
            row["present"],
            row["late"],
            row["absent"],
            row["excused"],
            row["attendance_rate"],
            row["events_going"],
            row["events_attended"],
            row["no_shows"],
            row["walk_ins"],
        )
        for name, row in rows.items()
    }
    assert figures == {
        "student": ("1", "0", "1", "0", "50.0", "1", "0", "1", "0"),
        "ana": ("1", "1", "0", "0", "100.0", "1", "1", "0", "0"),
        "bob": ("0", "0", "1", "0", "0.0", "0", "1", "0", "1"),
        "cy": ("0", "0", "0", "1", "", "0", "0", "0", "0"),
    }


async def test_export_members_with_a_role_keeps_only_its_members(h, seeded):
    h.add_member("outsider")
    await h.bot.guild_configs.get(h.guild.id)
    result = await h.command(
        "export members", user="admin", channel="admin", role=h.role("Student"), options={"from": "2026-11-01"}
    )
    names = {row["display_name"] for row in table(files_of(result)[0][1])}
    assert names == {"student", "ana", "bob", "cy"}


async def test_export_of_an_empty_range_says_so_and_sends_no_file(h, seeded):
    result = await h.command(
        "export sessions", user="admin", channel="admin", options={"from": "2025-01-01", "to": "2025-01-31"}
    )
    assert "nothing to export" in result.text
    assert files_of(result) == []
    result = await h.command(
        "export members", user="admin", channel="admin", options={"from": "2025-01-01", "to": "2025-01-31"}
    )
    assert "nothing to export" in result.text


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "is after `to`"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "more than 5 years"),
        ({"from": "the day after never"}, "can't read it as a date"),
    ],
)
async def test_bad_ranges_are_refused_with_an_example(h, seeded, options, said):
    result = await h.command("export sessions", user="admin", channel="admin", options=options)
    assert said in result.text
    assert "2027-" in result.text or "e.g." in result.text or "`20" in result.text
    assert files_of(result) == []


@pytest.mark.parametrize("command", ["export sessions", "export members"])
async def test_a_non_organizer_is_refused_the_exports(h, seeded, command):
    result = await h.command(command, user="student", channel="admin")
    assert "Only server admins" in result.text
    assert files_of(result) == []


async def test_post_true_posts_the_file_for_everyone(h, seeded):
    result = await h.command(
        "export sessions", user="admin", channel="admin", options={"from": "2026-11-23"}, post=True
    )
    assert not result.reply.ephemeral
    assert files_of(result)


async def test_another_guilds_roll_calls_never_reach_this_guilds_exports(h, seeded, clock):
    other = h.guild.id + 1
    theirs = await h.bot.attendance.open_session(
        guild_id=other,
        channel_id=1,
        opened_by=1,
        opened_at=clock.now().replace(day=23, hour=12),
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
        user_id=h.member("student").id,
        user_name="student",
        display_name="elsewhere",
        status="present",
        actor_id=1,
        now=clock.now(),
    )
    exported = await h.command("export sessions", user="admin", channel="admin", options={"from": "2026-11-01"})
    assert {int(row["session_id"]) for row in table(files_of(exported)[0][1])} == {seeded[0].id, seeded[1].id}
    members = await h.command("export members", user="admin", channel="admin", options={"from": "2026-11-01"})
    student = next(row for row in table(files_of(members)[0][1]) if row["display_name"] == "student")
    assert (student["present"], student["absent"]) == ("1", "1")
