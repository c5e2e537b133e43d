"""`/here`: a member's answer to the roll call of the channel, decided from the cache of open
sessions without a read query, written through the group commit."""

from __future__ import annotations

from datetime import datetime, timedelta

import discord

from bot.errors import InvalidInput, NotAllowed, NotFound, RollcallError
from cogs.attendance.live import RollCalls
from storage.attendance import AttendanceRepository, AttendanceSession, Submission, SubmissionResult
from storage.database import DatabaseBusy
from utils.codes import Verdict, check_code
from utils.limits import MAX_FAILURES
from utils.text import join_some

# Channel mentions listed in a refusal; a guild may run more roll calls than fit one message.
CHANNELS_SHOWN = 20


def channel_list(sessions: list[AttendanceSession]) -> str:
    """Channel mentions that stay far inside a message's length, however many roll calls are open."""
    shown, more = join_some([f"<#{session.channel_id}>" for session in sessions], shown=CHANNELS_SHOWN)
    return f"{shown} and {more} more" if more else shown


async def answer(
    roll_calls: RollCalls,
    sessions: AttendanceRepository,
    *,
    user: discord.abc.User,
    guild_id: int | None,
    channel_id: int | None,
    code: str,
    now: datetime,
) -> str:
    """Record `user`'s answer with `code` and return what to tell them; a refusal raises."""
    session = roll_calls.in_channel(channel_id)
    if session is None or (session.closes_at is not None and now >= session.closes_at):
        elsewhere = [s for s in roll_calls.open_in(guild_id) if s is not session]
        if elsewhere:
            raise InvalidInput(
                f"There is no roll call in this channel. Type `/here` in {channel_list(elsewhere)}, where it is open."
            )
        raise NotFound("There is no roll call open right now. Wait until your teacher opens one.")
    failures = roll_calls.failures_in(session.id)
    if failures.get(user.id, 0) >= MAX_FAILURES:
        raise NotAllowed(
            f"You entered {MAX_FAILURES} wrong or expired codes, so you are locked out of this roll call. "
            "Ask your teacher to mark you."
        )
    in_voice = session.voice_channel_id is None or roll_calls.presence.in_voice(session, user)
    if not in_voice and session.strict_presence:
        # Before the code is checked: being elsewhere is not a wrong code and costs no try.
        raise NotAllowed(
            f"Roll call #{session.id} counts only members sitting in <#{session.voice_channel_id}>. "
            "Join it, then send `/here` again."
        )
    verdict = check_code(
        code,
        secret=session.secret,
        opened_at=session.opened_at,
        interval_seconds=session.interval_seconds,
        grace_seconds=session.grace_seconds,
        length=session.code_length,
        now=now,
    )
    if not verdict.accepted:
        result = await sessions.record_failure(session.id, user.id, now)
        failures[user.id] = result.failures
        if result.locked:
            raise NotAllowed(
                f"That was your {MAX_FAILURES}th wrong or expired code, so you are now locked out of this roll "
                "call. Ask your teacher to mark you."
            )
        left = MAX_FAILURES - result.failures
        tries = f"{left} {'try' if left == 1 else 'tries'} left"
        if verdict is Verdict.EXPIRED:
            raise InvalidInput(f"That code has expired. Type the code shown now ({tries}).")
        raise InvalidInput(f"That code is wrong. Check the code on the roll-call message ({tries}).")
    late = now >= session.opened_at + timedelta(minutes=session.late_after_minutes)
    try:
        outcome = await sessions.record_submission(
            Submission(
                session_id=session.id,
                user_id=user.id,
                status="late" if late else "present",
                submitted_at=now,
                user_name=user.name,
                display_name=user.display_name,
            )
        )
    except DatabaseBusy:
        raise RollcallError(
            "⏳ The roll call's database is busy right now, so your answer was not recorded. "
            "Send `/here` again in a moment."
        ) from None
    # The database decided what became of the answer; the reply says only that.
    if outcome.result is SubmissionResult.SESSION_CLOSED:
        raise NotFound(f"⏹️ Roll call #{session.id} has just closed; your answer was not recorded.")
    if outcome.result is SubmissionResult.CORRECTED:
        return (
            f"📝 An organizer set your status in roll call #{session.id} to **{outcome.status}**, "
            "so your answer did not change it. Ask them if it is wrong."
        )
    # Not stored: the verdict at close reads it from the intervals (no interval covered this answer).
    flag = "" if in_voice else f"\n🔇 Flagged **not in voice**: you were not in <#{session.voice_channel_id}>."
    if outcome.status == "late":
        minutes = int((now - session.opened_at).total_seconds() // 60)
        return f"🕒 You're marked **late** for roll call #{session.id} ({minutes} min after it opened).{flag}"
    return f"✅ You're marked **present** for roll call #{session.id}.{flag}"
