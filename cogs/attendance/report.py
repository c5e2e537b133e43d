"""The close report of a roll call. It is owed in the transaction that closes the session and
rendered from the rows at each delivery attempt, so a retry after a restart sends the same report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.delivery import CONTENT_LIMIT, Handover, Parcel, Target
from cogs.attendance.verdicts import PresenceSummary, no_code_line, verdicts_line
from cogs.attendance.views import counts_line, session_csv_name
from storage.attendance import AttendanceSession
from storage.outbox import DELIVERED, PENDING, NewOwed
from utils.csv_export import build_csv
from utils.limits import MAX_FAILURES
from utils.timefmt import local_iso, utc_iso

CLOSE_REPORT_KIND = "attendance.close_report"
LOCKOUTS_HEADER = ("user_id", "display_name", "locked_at_utc", "locked_at_local")


def close_report_owed(session: AttendanceSession, *, reason: str | None, warning: str | None) -> NewOwed:
    return NewOwed(
        CLOSE_REPORT_KIND, session.guild_id, subject_id=session.id, payload={"reason": reason, "warning": warning}
    )


def closed_line(session: AttendanceSession, *, reason: str | None) -> str:
    if session.closed_by:
        who = f"by <@{session.closed_by}>"
    else:
        who = f"automatically ({reason})" if reason else "automatically"
    return f"Roll call #{session.id} in <#{session.channel_id}> closed {who}."


def lockouts_csv_name(session: AttendanceSession) -> str:
    return f"rollcall-session-{session.id}-lockouts.csv"


def close_report(
    session: AttendanceSession,
    counts: dict[str, int],
    lockouts: list[tuple[int, datetime]],
    *,
    reason: str | None,
    warning: str | None,
    timezone: str,
    session_csv: bytes,
    name_of: Callable[[int], str | None],
    presence: PresenceSummary | None = None,
) -> Parcel:
    """The report for the admin channel, else for whoever opened the roll call by DM. A lock-out
    list too long for one message goes into its own CSV."""
    text = f"{closed_line(session, reason=reason)}\n{counts_line(counts)}"
    if presence is not None:
        text += f"\nWith presence in <#{session.voice_channel_id}>: {verdicts_line(presence)}"
        no_code = no_code_line(presence)
        if no_code:
            text += f"\n{no_code}"
    if warning:
        text += f"\n⚠️ {warning}"
    files = [(session_csv_name(session), session_csv)]
    if lockouts:
        listed = f"\nLocked out after {MAX_FAILURES} wrong codes: " + ", ".join(f"<@{uid}>" for uid, _ in lockouts)
        if len(text) + len(listed) <= CONTENT_LIMIT:
            text += listed
        else:
            name = lockouts_csv_name(session)
            text += f"\n{len(lockouts)} members were locked out after {MAX_FAILURES} wrong codes: listed in {name}."
            rows = [
                (user_id, name_of(user_id) or "", utc_iso(locked_at), local_iso(locked_at, timezone))
                for user_id, locked_at in lockouts
            ]
            files.append((name, build_csv(LOCKOUTS_HEADER, rows)))
    targets = (Target.admins(session.guild_id), Target.dm(session.opened_by))
    return Parcel(targets=targets, content=text, files=tuple(files))


def report_whereabouts(session: AttendanceSession, handover: Handover) -> str:
    """Where the closer can find the report, or why it is not there yet."""
    last = handover.last
    if handover.status == DELIVERED:
        if last is None:  # a scheduled retry got there first
            return "The report and CSV have been delivered."
        if last.target.kind == "dm":
            return f"No usable admin channel, so the report and CSV went to <@{last.target.id}> by DM."
        return f"The report and CSV are posted in <#{last.channel_id}>."
    if handover.status == PENDING:
        why = f" ({last.detail})" if last is not None and last.detail else ""
        return (
            f"Discord did not take the report just now{why}; I'll keep retrying and post it in the admin "
            "channel (or DM it to whoever opened the roll call)."
        )
    parts = ["I could not deliver the report anywhere."]
    parts.extend(result.explain() for result in handover.results)
    parts.append(f"Download the CSV with `/attendance export session:{session.id}`.")
    return " ".join(parts)
