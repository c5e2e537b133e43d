"""/report range|member|event: hand-computed figures, the PNG chart, the CSV and the PDF, empty and
bad ranges, and who may see what."""

from __future__ import annotations

import re
import struct
from datetime import timedelta

import pytest

from tests.test_exports import files_of, seed, table

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
async def seeded(h, clock):
    return await seed(h, clock)


def fields(result) -> dict[str, str]:
    return {field["name"]: field["value"] for field in result.reply.embeds[0]["fields"]}


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pdf_pages(data: bytes) -> int:
    """Parse the PDF's skeleton back: header, the xref table `startxref` points at, a trailer with
    a Root, and the page count of its page tree."""
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    offset = int(re.search(rb"startxref\s+(\d+)", data).group(1))
    assert data[offset : offset + 4] == b"xref"
    assert re.search(rb"trailer\s*<<.*?/Root \d+ 0 R", data, re.S)
    return int(re.search(rb"/Type /Pages\b.*?/Count (\d+)", data, re.S).group(1))


async def test_report_range_embed_has_the_hand_computed_figures_and_a_png(h, seeded):
    result = await h.command("report range", user="organizer", channel="admin", options=NOVEMBER)
    assert result.reply.ephemeral
    shown = fields(result)
    assert shown["Attendance rate"] == "3/5 (60.0%)"  # excused cy is left out of both sides
    assert shown["Roll calls"] == "2"
    assert shown["Members"] == "4"
    assert shown["Events"] == "1"
    assert shown["Events attended ÷ Going"] == "1/2 (50.0%)"
    assert shown["Top attendees"].splitlines() == ["ana · 2/2", "student · 1/2", "bob · 0/1"]
    assert shown["Most no-shows"] == "student · 1"
    assert shown["Busiest events"] == "Board game night · 2 attended"
    [(name, png)] = result.reply.files
    assert name == "chart.png"
    assert result.reply.embeds[0]["image"]["url"] == "attachment://chart.png"
    assert png_size(png) == (1000, 500)
    assert len(png) > 5_000


async def test_report_range_as_csv_gives_members_and_events(h, seeded):
    result = await h.command("report range", user="admin", channel="admin", options={**NOVEMBER, "format": "csv"})
    files = dict(files_of(result))
    members = {row["display_name"]: row for row in table(files["rollcall-members-2026-11-01-to-2026-11-30.csv"])}
    assert members["student"]["attendance_rate"] == "50.0"
    [event] = table(files["rollcall-events-2026-11-01-to-2026-11-30.csv"])
    assert (event["going"], event["attended"], event["no_shows"], event["walk_ins"]) == ("2", "2", "1", "1")
    assert event["starts_at_local"] == "2026-11-25T19:00:00+01:00"


async def test_report_range_as_pdf_opens_with_one_page(h, seeded):
    result = await h.command("report range", user="admin", channel="admin", options={**NOVEMBER, "format": "pdf"})
    [(name, data)] = files_of(result)
    assert name.endswith(".pdf")
    assert pdf_pages(data) == 1


async def test_report_range_with_nothing_in_it_says_so_without_a_chart(h, seeded):
    result = await h.command(
        "report range", user="admin", channel="admin", options={"from": "2025-01-01", "to": "2025-01-31"}
    )
    assert "nothing to report" in result.text
    assert files_of(result) == [] and not result.reply.embeds


async def test_report_range_refuses_a_backwards_range_with_an_example(h, seeded):
    result = await h.command(
        "report range", user="admin", channel="admin", options={"from": "2026-11-30", "to": "2026-11-01"}
    )
    assert "is after `to`" in result.text and "from: 2027-01-01" in result.text


async def test_report_member_figures_for_a_member_with_a_no_show(h, seeded):
    result = await h.command(
        "report member", user="admin", channel="admin", member=h.member("student"), options=NOVEMBER
    )
    shown = fields(result)
    assert shown["Attendance rate"] == "1/2 (50.0%)"
    assert (shown["Present"], shown["Late"], shown["Absent"], shown["Excused"]) == ("1", "0", "1", "0")
    assert shown["Sessions attended / missed"] == "1 / 1"
    assert shown["Events attended ÷ Going"] == "0/1 (0.0%)"
    assert shown["No-shows"] == "1"
    assert png_size(result.reply.files[0][1]) == (1000, 500)


async def test_a_member_sees_their_own_report(h, seeded):
    result = await h.command("report member", user="ana", channel="general", member=h.member("ana"), options=NOVEMBER)
    assert result.reply.ephemeral
    assert fields(result)["Attendance rate"] == "2/2 (100.0%)"


async def test_a_member_is_refused_someone_elses_report(h, seeded):
    result = await h.command(
        "report member", user="ana", channel="general", member=h.member("student"), options=NOVEMBER
    )
    assert "Only server admins" in result.text
    assert files_of(result) == []


async def test_report_member_csv_holds_only_that_members_records(h, seeded):
    result = await h.command(
        "report member", user="bob", channel="general", member=h.member("bob"), options={**NOVEMBER, "format": "csv"}
    )
    rows = table(files_of(result)[0][1])
    assert [(row["user_name"], row["status"]) for row in rows] == [("bob", "absent")]


async def test_report_event_reconciles_no_shows_and_walk_ins(h, seeded):
    _, _, event = seeded
    result = await h.command("report event", user="organizer", channel="admin", event=event.id)
    shown = fields(result)
    assert (shown["Going"], shown["Attended"]) == ("2", "2")
    assert shown["Attended ÷ Going"] == "1/2 (50.0%)"
    assert shown["No-shows"] == f"<@{h.member('student').id}>"
    assert shown["Walk-ins"] == f"<@{h.member('bob').id}>"
    assert png_size(result.reply.files[0][1]) == (1000, 500)


async def test_report_event_of_another_guild_finds_nothing(h, seeded, clock):
    theirs = await h.bot.events.create(
        guild_id=h.guild.id + 1,
        channel_id=1,
        created_by=1,
        now=clock.now(),
        title="Their event",
        description="",
        location="",
        starts_at=clock.now(),
        ends_at=clock.now().replace(year=2027),
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    result = await h.command("report event", user="admin", channel="admin", event=theirs.id)
    assert f"No event #{theirs.id} in this server" in result.text
    assert files_of(result) == []


async def test_report_range_and_event_are_refused_to_non_organizers(h, seeded):
    _, _, event = seeded
    for command, options in (("report range", NOVEMBER), ("report event", {"event": event.id})):
        result = await h.command(command, user="student", channel="general", options=options)
        assert "Only server admins" in result.text


async def test_report_range_for_a_role_counts_only_its_members_at_events(h, seeded, clock):
    _, _, event = seeded
    walker = h.add_member("walker")
    clock.set(event.starts_at + timedelta(minutes=30))
    await h.command("event attend", user=walker, channel="general", event=event.id)
    clock.set(event.ends_at + timedelta(hours=1))
    everyone = await h.command("report range", user="admin", channel="admin", options={**NOVEMBER, "format": "csv"})
    students = await h.command(
        "report range", user="admin", channel="admin", role=h.role("Student"), options={**NOVEMBER, "format": "csv"}
    )
    [all_event] = table(dict(files_of(everyone))["rollcall-events-2026-11-01-to-2026-11-30.csv"])
    [role_event] = table(dict(files_of(students))["rollcall-events-2026-11-01-to-2026-11-30.csv"])
    assert (all_event["attended"], all_event["walk_ins"]) == ("3", "2")
    assert (role_event["attended"], role_event["walk_ins"], role_event["no_shows"]) == ("2", "1", "1")
    names = {
        row["display_name"] for row in table(dict(files_of(students))["rollcall-members-2026-11-01-to-2026-11-30.csv"])
    }
    assert "walker" not in names


async def test_me_attendance_shows_only_the_callers_own_record(h, seeded):
    result = await h.command("me attendance", user="student", channel="general", options=NOVEMBER)
    assert result.reply.ephemeral
    shown = fields(result)
    assert shown["Attendance rate"] == "1/2 (50.0%)"
    assert shown["No-shows"] == "1"
    assert result.reply.embeds[0]["title"].startswith("student")
    assert png_size(result.reply.files[0][1]) == (1000, 500)


async def test_me_attendance_with_no_record_says_so(h, seeded):
    result = await h.command("me attendance", user="organizer", channel="general", options=NOVEMBER)
    assert "nothing to report" in result.text
    assert files_of(result) == []


async def test_report_event_on_a_cancelled_event_says_why_and_export_event_still_lists_it(h, seeded, clock):
    _, _, event = seeded
    assert await h.bot.events.cancel(event, actor_id=h.member("admin").id, now=clock.now())
    result = await h.command("report event", user="admin", channel="admin", event=event.id)
    assert "was cancelled, so it has no attendance to report" in result.text
    assert [sent.kind for sent in result.sent] == ["response"]
    exported = await h.command("export event", user="admin", channel="admin", event=event.id)
    assert {row["rsvp_status"] for row in table(files_of(exported)[0][1])} == {"going", ""}
