"""Delivery through real interactions: what the bot owes someone reaches them at least once and
never twice, Discord's failures are told by kind, nothing over Discord's size limit is sent, and a
failed open leaves nothing behind. The harness's fault injection is tested here too."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands

from bot.delivery import CONTENT_LIMIT, DELIVER_JOB, MAX_ATTEMPTS, OVERFLOW_FILENAME, Outcome, Target, backoff
from cogs.attendance.cog import Attendance
from tests.harness import FakeResponse, client_disconnected, connection_reset, forbidden, not_found, server_error

WRONG_CODE = "ZZZZZZZZ"  # never a code: codes have the session's length (4 here)


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def configure(h, **options):
    defaults = {"admin_channel": h.channel("admin"), "attendance_channel": h.channel("attendance")}
    defaults.update(options)
    result = await h.command("config set", user="admin", channel="admin", **defaults)
    assert "Saved" in result.text, result.text


async def open_session(h, **options):
    result = await h.command("attendance open", user="admin", channel="admin", options=options)
    assert "is open in" in result.text, result.text
    return await h.bot.attendance.get_latest(h.guild.id)


async def close(h):
    return await h.command("attendance close", user="admin", channel="admin")


def reports_in(discord_side, channel_id: int, session_id: int) -> list:
    return [m for m in discord_side.channel_messages(channel_id) if m.content.startswith(f"Roll call #{session_id} in")]


def report_dms(discord_side, user_id: int, session_id: int) -> list:
    return [m for m in discord_side.dms_to(user_id) if m.content.startswith(f"Roll call #{session_id} in")]


async def owed_report(h, session_id: int):
    owed = await h.bot.outbox.list_for_subject("attendance.close_report", session_id)
    assert len(owed) == 1
    return owed[0]


def deny_bot(h, channel_name: str, *permissions: str) -> None:
    denied = discord.PermissionOverwrite(**dict.fromkeys(permissions, False))
    h.set_channel_overwrite(h.channel(channel_name), h.role("Rollcall"), denied)


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


# ---- the harness's fault injection -----------------------------------------------------


async def test_fault_injection_fails_the_matching_calls_then_lets_them_through(h, discord_side):
    general, log_channel = h.channel("general"), h.channel("log")
    discord_side.fail_next("POST", f"/channels/{general.id}/messages", server_error(), times=2)
    discord_side.fail_next("POST", "/channels/{channel_id}/messages", connection_reset())

    with pytest.raises(ConnectionResetError):
        await log_channel.send("only the template fault matches here")
    with pytest.raises(discord.DiscordServerError):
        await general.send("one")
    with pytest.raises(discord.DiscordServerError):
        await general.send("two")
    await general.send("three")
    await log_channel.send("after the faults")

    assert discord_side.pending_faults() == []
    assert [m.content for m in discord_side.channel_messages(general.id)] == ["three"]
    assert [m.content for m in discord_side.channel_messages(log_channel.id)] == ["after the faults"]
    assert len(discord_side.faults_raised) == 3


async def test_fault_injection_reaches_the_webhook_adapter(h, discord_side):
    @app_commands.command(name="flaky", description="Follows up twice when the first follow-up fails")
    async def flaky(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        try:
            await interaction.followup.send("first", ephemeral=True)
        except aiohttp.ClientError:
            await interaction.followup.send("second try", ephemeral=True)

    h.bot.tree.add_command(flaky)
    discord_side.fail_next("POST", "/webhooks/{application_id}/{token}", client_disconnected())
    result = await h.command("flaky", user="member")
    assert result.text == "second try"
    assert discord_side.pending_faults() == []


# ---- the close report is owed until delivered ---------------------------------------------


@pytest.mark.parametrize("error", [server_error(), server_error(503), connection_reset(), client_disconnected()])
async def test_close_report_survives_a_transient_failure_and_is_delivered_once(configured, discord_side, clock, error):
    h = configured
    admin = h.channel("admin")
    session = await open_session(h)
    discord_side.fail_next("POST", f"/channels/{admin.id}/messages", error)

    result = await close(h)
    assert "Discord did not take the report just now" in result.text
    assert reports_in(discord_side, admin.id, session.id) == []
    assert report_dms(discord_side, h.member("admin").id, session.id) == []
    owed = await owed_report(h, session.id)
    assert owed.status == "pending" and owed.attempts == 1
    assert f"{DELIVER_JOB}:{owed.id}" in h.bot.jobs.job_ids()

    clock.advance(seconds=backoff(1).total_seconds() - 1)
    await h.bot.run_due_jobs()
    assert reports_in(discord_side, admin.id, session.id) == []
    clock.advance(seconds=1)
    await h.bot.run_due_jobs()
    clock.advance(hours=3)
    await h.bot.run_due_jobs()

    reports = reports_in(discord_side, admin.id, session.id)
    assert len(reports) == 1
    assert reports[0].files[0][0] == f"rollcall-session-{session.id}-2026-11-23.csv"
    assert report_dms(discord_side, h.member("admin").id, session.id) == []
    owed = await owed_report(h, session.id)
    assert (owed.status, owed.delivered_to) == ("delivered", f"admin_channel:{h.guild.id}")
    assert f"{DELIVER_JOB}:{owed.id}" not in h.bot.jobs.job_ids()


async def test_close_report_owed_at_a_restart_is_delivered_once_after_it(configured, discord_side, clock, restart):
    h = configured
    admin = h.channel("admin")
    session = await open_session(h)
    discord_side.fail_next("POST", f"/channels/{admin.id}/messages", server_error())
    await close(h)
    owed = await owed_report(h, session.id)

    h2 = await restart()
    assert f"{DELIVER_JOB}:{owed.id}" in h2.bot.jobs.job_ids()
    clock.advance(seconds=backoff(1).total_seconds())
    await h2.bot.run_due_jobs()
    assert len(reports_in(discord_side, admin.id, session.id)) == 1

    h3 = await restart()
    assert f"{DELIVER_JOB}:{owed.id}" not in h3.bot.jobs.job_ids()
    clock.advance(hours=6)
    await h3.bot.run_due_jobs()
    assert len(reports_in(discord_side, admin.id, session.id)) == 1


async def test_a_report_whose_attempt_died_with_the_process_is_sent_after_the_restart(
    configured, discord_side, clock, restart
):
    """The owed row commits with the close; a crash before the post leaves it claimed, and the
    claim runs out after the restart."""
    h = configured
    admin = h.channel("admin")
    session = await open_session(h, duration=1)
    # A crash in the middle of the post: the task dies without handling anything.
    discord_side.fail_next("POST", f"/channels/{admin.id}/messages", asyncio.CancelledError())
    clock.advance(minutes=1)
    with pytest.raises(asyncio.CancelledError):
        await h.bot.jobs.run_kind("attendance.close", session.id)
    assert not (await h.bot.attendance.get(session.id)).is_open
    assert (await owed_report(h, session.id)).status == "pending"

    h2 = await restart()
    await h2.bot.run_due_jobs()
    assert reports_in(discord_side, admin.id, session.id) == []  # the dead attempt's claim still holds
    clock.advance(minutes=2)
    await h2.bot.run_due_jobs()
    await h2.bot.run_due_jobs()
    assert len(reports_in(discord_side, admin.id, session.id)) == 1


async def test_a_refused_admin_channel_falls_back_to_a_dm_to_the_opener(configured, discord_side):
    h = configured
    session = await open_session(h)
    deny_bot(h, "admin", "send_messages")

    result = await close(h)
    assert f"went to <@{h.member('admin').id}> by DM" in result.text
    dms = report_dms(discord_side, h.member("admin").id, session.id)
    assert len(dms) == 1
    assert dms[0].files[0][0].endswith(".csv")
    owed = await owed_report(h, session.id)
    assert (owed.status, owed.delivered_to) == ("delivered", f"dm:{h.member('admin').id}")


async def test_a_dm_fallback_failing_with_a_server_error_is_retried_not_lost(configured, discord_side, clock):
    h = configured
    opener = h.member("admin")
    session = await open_session(h)
    deny_bot(h, "admin", "send_messages")
    dm_channel = discord_side.dm_channel_id(opener.id)
    discord_side.fail_next("POST", f"/channels/{dm_channel}/messages", server_error(502))

    result = await close(h)
    assert "I'll keep retrying" in result.text
    assert report_dms(discord_side, opener.id, session.id) == []
    assert (await owed_report(h, session.id)).status == "pending"

    clock.advance(seconds=backoff(1).total_seconds())
    await h.bot.run_due_jobs()
    await h.bot.run_due_jobs()
    assert len(report_dms(discord_side, opener.id, session.id)) == 1
    assert discord_side.pending_faults() == []


async def test_closed_dms_with_nowhere_else_to_go_are_recorded_undeliverable(h, discord_side, clock, caplog):
    await h.command("config set", user="admin", attendance_channel=h.channel("attendance"))
    discord_side.closed_dms.add(h.member("admin").id)
    session = await open_session(h, duration=1)
    clock.advance(minutes=1)
    with caplog.at_level(logging.WARNING, logger="bot.delivery"):
        await h.bot.run_due_jobs()
    owed = await owed_report(h, session.id)
    assert owed.status == "undeliverable"
    assert "does not accept DMs" in owed.last_error
    assert any(r.levelno == logging.WARNING and f"owed message {owed.id}" in r.getMessage() for r in caplog.records)
    assert f"{DELIVER_JOB}:{owed.id}" not in h.bot.jobs.job_ids()
    clock.advance(hours=6)
    await h.bot.run_due_jobs()
    assert (await owed_report(h, session.id)).attempts == 1


async def test_delivery_gives_up_after_a_bounded_number_of_attempts(configured, discord_side, clock, caplog):
    h = configured
    admin = h.channel("admin")
    session = await open_session(h)
    discord_side.fail_next("POST", f"/channels/{admin.id}/messages", server_error(), times=MAX_ATTEMPTS + 5)
    await close(h)
    with caplog.at_level(logging.WARNING, logger="bot.delivery"):
        for attempt in range(1, MAX_ATTEMPTS + 3):
            clock.advance(seconds=backoff(attempt).total_seconds())
            await h.bot.run_due_jobs()
    owed = await owed_report(h, session.id)
    assert (owed.status, owed.attempts) == ("undeliverable", MAX_ATTEMPTS)
    assert len(discord_side.pending_faults()) == 1  # five calls were never made
    assert any(f"after {MAX_ATTEMPTS} attempts" in r.getMessage() for r in caplog.records)


# ---- Discord's size limit --------------------------------------------------------------


async def test_a_long_lockout_list_goes_into_a_file_and_no_content_passes_the_limit(configured, discord_side):
    h = configured
    session = await open_session(h)
    members = [h.add_member(f"locked{i:03d}", roles=("Student",)) for i in range(85)]
    attendance = h.channel("attendance")
    for _ in range(5):
        before = asyncio.all_tasks()
        for member in members:
            h.dispatch_nowait(h.command_payload("here", user=member, channel=attendance, code=WRONG_CODE))
        await h.idle(exclude=before)
    assert len(await h.bot.attendance.list_lockouts(session.id)) == 85

    result = await close(h)
    assert "The report and CSV are posted in" in result.text
    report = reports_in(discord_side, h.channel("admin").id, session.id)[0]
    assert "85 members were locked out" in report.content
    listed = parse_csv(report.file(f"rollcall-session-{session.id}-lockouts.csv"))
    assert {int(row["user_id"]) for row in listed} == {member.id for member in members}
    assert {row["display_name"] for row in listed} == {member.display_name for member in members}
    assert all(len(sent.content) <= CONTENT_LIMIT for sent in discord_side.sent)


async def test_a_short_lockout_list_stays_in_the_message(configured, discord_side):
    h = configured
    session = await open_session(h)
    for _ in range(5):
        await h.command("here", user="student", channel="attendance", code=WRONG_CODE)
    await close(h)
    report = reports_in(discord_side, h.channel("admin").id, session.id)[0]
    assert f"Locked out after 5 wrong codes: <@{h.member('student').id}>" in report.content
    assert len(report.files) == 1


async def test_content_over_the_limit_is_cut_at_a_line_and_attached_whole(h, discord_side):
    text = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(100))
    result = await h.bot.delivery.send(Target.channel(h.channel("general").id), text)
    assert result.delivered
    sent = discord_side.channel_messages(h.channel("general").id)[-1]
    assert len(sent.content) <= CONTENT_LIMIT
    assert sent.content.splitlines()[0] == "line 0000 " + "x" * 40
    assert sent.file(OVERFLOW_FILENAME).decode() == text


# ---- what a send answers ------------------------------------------------------------------


async def test_send_results_say_what_happened(h, discord_side):
    delivery = h.bot.delivery
    student = h.member("student")

    delivered = await delivery.dm(student.id, "hello")
    assert delivered.delivered and discord_side.dms_to(student.id)[-1].content == "hello"

    discord_side.closed_dms.add(student.id)
    closed = await delivery.dm(student.id, "hello again")
    assert closed.outcome is Outcome.DMS_CLOSED

    denied = await delivery.send(Target.channel(h.channel("announcements").id), "news", files=[("a.csv", b"x")])
    assert denied.outcome is Outcome.MISSING_PERMISSION
    assert denied.missing == ("send_messages",)
    assert "I'm missing Send Messages in <#" in denied.explain()

    discord_side.fail_next("POST", "/channels/{channel_id}/messages", not_found(10003, "Unknown Channel"))
    gone = await delivery.send(Target.channel(h.channel("general").id), "anyone?")
    assert (gone.outcome, gone.detail) == (Outcome.GONE, "channel")

    discord_side.fail_next("POST", "/channels/{channel_id}/messages", server_error())
    failed = await delivery.send(Target.channel(h.channel("general").id), "retry me")
    assert failed.transient and not failed.delivered

    discord_side.fail_next("POST", "/channels/{channel_id}/messages", bad_request())
    refused = await delivery.send(Target.channel(h.channel("general").id), "bad")
    assert (refused.outcome, refused.code) == (Outcome.REFUSED, 50035)

    unset = await delivery.send(Target.admins(h.guild.id), "nobody set an admin channel")
    assert unset.outcome is Outcome.NOT_CONFIGURED


def bad_request() -> discord.HTTPException:
    return discord.HTTPException(FakeResponse(400, "Bad Request"), {"code": 50035, "message": "Invalid Form Body"})  # type: ignore[arg-type]


async def test_a_lost_channel_is_reported_with_the_missing_permission_even_through_a_server_error(
    configured, discord_side, clock
):
    h = configured
    session = await open_session(h, channel=h.channel("lecture-b"))
    deny_bot(h, "lecture-b", "view_channel")
    discord_side.fail_next("POST", f"/channels/{h.channel('admin').id}/messages", server_error())
    clock.advance(seconds=session.interval_seconds)
    await h.bot.run_due_jobs()
    notices = [m for m in discord_side.channel_messages(h.channel("admin").id) if "I can't show the code" in m.content]
    assert notices == []
    clock.advance(seconds=backoff(1).total_seconds())
    await h.bot.run_due_jobs()
    notices = [m for m in discord_side.channel_messages(h.channel("admin").id) if "I can't show the code" in m.content]
    assert len(notices) == 1
    assert "give my role View Channel there" in notices[0].content


async def test_without_an_admin_channel_a_lost_channel_is_told_to_the_opener_once(h, discord_side, clock):
    await h.command("config set", user="admin", attendance_channel=h.channel("attendance"))
    session = await open_session(h, channel=h.channel("lecture-b"))
    deny_bot(h, "lecture-b", "view_channel")
    for _ in range(3):
        clock.advance(seconds=session.interval_seconds)
        await h.bot.run_due_jobs()
    notices = [m for m in discord_side.dms_to(h.member("admin").id) if "I can't show the code" in m.content]
    assert len(notices) == 1
    assert (await h.bot.attendance.get(session.id)).is_open


# ---- the refused-channel cache ------------------------------------------------------------


async def test_the_refused_channel_entry_leaves_when_the_session_closes(configured, clock):
    h = configured
    session = await open_session(h, channel=h.channel("lecture-b"))
    deny_bot(h, "lecture-b", "view_channel")
    clock.advance(seconds=session.interval_seconds)
    await h.bot.run_due_jobs()
    assert f"attendance.session:{session.id}" in h.bot.tracked_posts.reported
    await close(h)
    assert f"attendance.session:{session.id}" not in h.bot.tracked_posts.reported


# ---- /attendance open with a network error -------------------------------------------------


@pytest.mark.parametrize(
    "error", [server_error(), connection_reset(), client_disconnected(), forbidden(50013, "Missing Permissions")]
)
async def test_open_that_cannot_post_its_code_message_leaves_nothing_behind(configured, discord_side, error):
    h = configured
    attendance = h.channel("attendance")
    discord_side.fail_next("POST", f"/channels/{attendance.id}/messages", error)

    result = await h.command("attendance open", user="admin", channel="admin")
    assert "I couldn't post the code message in" in result.text
    assert "no roll call was opened" in result.text
    assert discord_side.pending_faults() == []
    assert (await h.bot.db.fetch_one("SELECT COUNT(*) FROM attendance_session"))[0] == 0
    assert not [job for job in h.bot.jobs.job_ids() if job.startswith("attendance.")]
    here = await h.command("here", user="student", channel="attendance", code="ABCD")
    assert "no roll call open" in here.text
    closing = await close(h)
    assert "There is no open roll call to close" in closing.text

    session = await open_session(h)
    assert len(discord_side.channel_messages(attendance.id)) == 1
    assert f"attendance.rotate:{session.id}" in h.bot.jobs.job_ids()


# ---- the cog sends only through the delivery module ---------------------------------------


def test_the_attendance_cog_sends_only_through_the_delivery_module():
    for helper in ("_send_to_channel", "_dm_user", "_notify_admins", "_log", "_post_close_report"):
        assert not hasattr(Attendance, helper), helper
    for source in (Path(__file__).resolve().parents[1] / "cogs" / "attendance").glob("*.py"):
        direct = re.findall(r"(?<!delivery)\.(?:send|edit)\(", source.read_text(encoding="utf-8"))
        assert direct == [], source.name
