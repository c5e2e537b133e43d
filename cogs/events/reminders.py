"""An event's scheduled moments: reminders before the start, the nudge of a role-restricted
event, the post's flips to active and ended, and the missed-attendance notice.

Each moment is an `event_timer` row (storage/event_reminders.py) planned when the event is
created and re-planned when it is edited; a cancel closes the rows not run yet. One job kind,
`events.timer:<row id>`, wakes `run_timer`, which claims the row (`fired_at` set in one UPDATE
that only one run can win) before doing anything, so nothing is told twice. A reminder or nudge
whose time passed while the bot was down still runs once at start-up if the event has not
started; once it has, the run is recorded as dropped and nobody hears about it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.checks import ensure_in_range
from bot.delivery import Outcome, Target
from bot.errors import InvalidInput
from bot.replies import send_reply
from cogs.events.listing import event_link
from storage.event_reminders import (
    BEFORE_START,
    EventTimer,
    ReminderSetting,
    plan_timers,
)
from storage.events import Event
from utils.limits import NUDGE_MINUTES
from utils.settings_text import parse_reminder_offsets
from utils.text import shorten
from utils.timefmt import discord_timestamp

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.delivery import Delivery
    from bot.scheduler import JobScheduler
    from bot.types import Interaction
    from storage.event_reminders import EventReminderRepository
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository

log = logging.getLogger(__name__)

TIMER_JOB = "events.timer"
# What the `reminders` option takes to turn an event's reminders off.
NO_REMINDERS = ("off", "none", "no", "0")
# Discord refuses message content longer than 2,000 characters.
MESSAGE_LIMIT = 2000


@dataclass(slots=True)
class DmCount:
    """What became of one batch of DMs."""

    told: int = 0
    dms_closed: int = 0
    failed: int = 0
    closed_ids: list[int] | None = None

    def describe(self, verb: str) -> str:
        text = f"{verb} {self.told}, DMs closed {self.dms_closed}"
        if self.failed:
            text += f", {self.failed} not reachable right now"
        return text


def parse_event_reminders(text: str) -> tuple[int, ...]:
    """The `reminders` option: minutes before the start like `60,10`, or `off` for none."""
    if text.strip().lower() in NO_REMINDERS:
        return ()
    try:
        return parse_reminder_offsets(text)
    except ValueError as error:
        raise InvalidInput(f"{error} Or type `off` for no reminders.") from None


def describe_offsets(offsets: Sequence[int]) -> str:
    if not offsets:
        return "no reminders"
    return "reminders " + ", ".join(f"{minutes} min" for minutes in offsets) + " before the start"


def mention_chunks(head: str, user_ids: Sequence[int], limit: int = MESSAGE_LIMIT) -> list[tuple[str, list[int]]]:
    """`head` followed by as many mentions as fit in one message, repeated until all are named;
    each chunk carries the ids it mentions (the only users it may ping)."""
    chunks: list[tuple[str, list[int]]] = []
    text, ids = head, []
    for user_id in user_ids:
        mention = f" <@{user_id}>"
        if ids and len(text) + len(mention) > limit:
            chunks.append((text, ids))
            text, ids = head, []
        text += mention
        ids.append(user_id)
    if ids:
        chunks.append((text, ids))
    return chunks


class EventReminderCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py): the cog's constructor sets these
    and registers `run_timer` under `TIMER_JOB`; the core mixin provides `refresh_post`."""

    bot: Rollcall
    events: EventRepository
    reminders: EventReminderRepository
    configs: GuildConfigRepository
    delivery: Delivery
    jobs: JobScheduler
    clock: Clock
    refresh_post: Callable[[int], Awaitable[None]]

    # ---- planning ------------------------------------------------------------------------

    async def effective_offsets(self, event: Event, setting: ReminderSetting | None = None) -> tuple[int, ...]:
        setting = setting or await self.reminders.get_setting(event.id)
        if setting.reminder_offsets is not None:
            return setting.reminder_offsets
        return (await self.configs.get(event.guild_id)).reminder_offsets

    async def plan_event_timers(self, event: Event) -> tuple[EventTimer, ...]:
        """Make the event's moments follow its rows (after a create or an edit) and schedule
        them; returns the moments still to run."""
        if event.cancelled_at is not None:
            await self.drop_event_timers(event)
            return ()
        setting = await self.reminders.get_setting(event.id)
        planned = plan_timers(
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            reminder_offsets=await self.effective_offsets(event, setting),
            nudge_minutes=setting.nudge_minutes if event.role_id is not None else None,
        )
        replanned = await self.reminders.replan(event.id, planned, now=self.clock.now())
        for removed in replanned.removed:
            self.jobs.cancel(TIMER_JOB, removed)
        for timer in replanned.pending:
            self.jobs.schedule_at(TIMER_JOB, timer.id, timer.due_at)
        return replanned.pending

    async def drop_event_timers(self, event: Event) -> None:
        """A cancelled event: nothing it planned runs any more."""
        for timer_id in await self.reminders.drop_pending(event.id, now=self.clock.now(), reason="dropped: cancelled"):
            self.jobs.cancel(TIMER_JOB, timer_id)

    async def reconcile_timers(self) -> None:
        """At start-up: a job for every moment not run yet, at its time (a past one runs now,
        and `run_timer` decides whether it is still worth telling)."""
        for timer, guild_id in await self.reminders.list_pending():
            # Another shard process plans its own servers' moments.
            if self.jobs.owns_guild(guild_id):
                self.jobs.schedule_at(TIMER_JOB, timer.id, timer.due_at)

    async def edit_reminders(
        self, interaction: Interaction, event: Event, reminders: str | None, nudge: int | None
    ) -> None:
        """`/event edit event reminders:… nudge:…`: change only these, without the form."""
        now = self.clock.now()
        if event.status_at(now) != "upcoming":
            raise InvalidInput(
                f"**{event.title}** has already started, so its reminders and nudge can't change; nothing was changed."
            )
        setting = await self.reminders.get_setting(event.id)
        offsets = parse_event_reminders(reminders) if reminders is not None else setting.reminder_offsets
        if nudge is not None:
            ensure_in_range("The nudge", nudge, NUDGE_MINUTES.bounds, NUDGE_MINUTES.unit)
            if event.role_id is None:
                raise InvalidInput(
                    f"**{event.title}** has no role, so there is nobody to nudge: a nudge DMs the members of the "
                    "event's role who have not answered. Nothing was changed."
                )
        new_nudge = nudge if nudge is not None else setting.nudge_minutes
        await self.reminders.set_setting(ReminderSetting(event.id, offsets, new_nudge))
        await self.plan_event_timers(event)
        shown = offsets if offsets is not None else await self.effective_offsets(event)
        text = f"Saved for **{shorten(event.title, 100)}**: {describe_offsets(shown)}"
        if new_nudge is not None:
            text += f"; a nudge {new_nudge} min before the start"
        text += "."
        passed = [minutes for minutes in shown if event.starts_at - timedelta(minutes=minutes) <= now]
        if passed:
            times = ", ".join(str(minutes) for minutes in passed)
            text += f"\nNote: the {times} min reminder time has already passed; it won't be sent."
        if nudge is not None and event.starts_at - timedelta(minutes=nudge) <= now:
            text += "\nNote: the nudge time has already passed, so nobody will be nudged."
        await send_reply(interaction, text)
        await self.delivery.post_log(
            event.guild_id,
            f"✏️ {interaction.user.mention} changed the reminders of event #{event.id} "
            f"**{shorten(event.title, 80)}**: {describe_offsets(shown)}"
            + (f", nudge {new_nudge} min before." if new_nudge is not None else "."),
        )

    # ---- running ---------------------------------------------------------------------------

    async def run_timer(self, timer_id: int, now: datetime) -> None:
        timer = await self.reminders.get(timer_id)
        if timer is None or timer.fired_at is not None:
            return
        if timer.due_at > now:
            # Moved later by an edit after this job was made.
            self.jobs.schedule_at(TIMER_JOB, timer.id, timer.due_at)
            return
        event = await self.events.get(timer.event_id)
        if event is None or not await self.reminders.claim(timer.id, now=now):
            return
        if event.cancelled_at is not None:
            await self.reminders.record_outcome(timer.id, "dropped: cancelled")
            return
        if timer.kind in BEFORE_START and now >= event.starts_at:
            log.info(
                "Dropped %s %s of event %s: it started before the bot could run it", timer.kind, timer.id, event.id
            )
            await self.reminders.record_outcome(timer.id, "dropped: the event had started")
            return
        if timer.kind == "reminder":
            outcome = await self._remind(event, timer)
        elif timer.kind == "nudge":
            outcome = await self._nudge(event)
        elif timer.kind == "missed":
            outcome = await self._tell_missed(event)
        else:
            # start / end: the post's status and buttons come from the rows and the clock, so a
            # refresh is all a flip needs; it is coalesced and rebuilt after a restart like any other.
            await self.refresh_post(event.id)
            outcome = "post refreshed"
        await self.reminders.record_outcome(timer.id, outcome)

    async def _dm_each(self, user_ids: Sequence[int], text: str, event: Event, what: str) -> DmCount:
        count = DmCount(closed_ids=[])
        for user_id in user_ids:
            sent = await self.delivery.dm(user_id, text)
            if sent.delivered:
                count.told += 1
            elif sent.outcome is Outcome.DMS_CLOSED:
                count.dms_closed += 1
                assert count.closed_ids is not None
                count.closed_ids.append(user_id)
            else:
                count.failed += 1
                log.info("%s DM for event %s to %s not delivered: %s", what, event.id, user_id, sent.explain())
        return count

    async def _log_line(self, guild_id: int, text: str) -> None:
        """The log channel, or the admin channel when the guild has no log channel."""
        logged = await self.delivery.post_log(guild_id, text)
        if logged.outcome is Outcome.NOT_CONFIGURED:
            fallback = await self.delivery.send(Target.admins(guild_id), text)
            if not fallback.delivered and fallback.outcome is not Outcome.NOT_CONFIGURED:
                log.info("Log line for guild %s not posted: %s", guild_id, fallback.explain())

    @staticmethod
    def _where(event: Event) -> str:
        parts = []
        if event.location:
            parts.append(f"📍 {event.location}")
        link = event_link(event)
        if link:
            parts.append(link)
        return ("\n" + "\n".join(parts)) if parts else ""

    async def _remind(self, event: Event, timer: EventTimer) -> str:
        title = shorten(event.title, 100)
        starts = f"{discord_timestamp(event.starts_at, 'F')} ({discord_timestamp(event.starts_at, 'R')})"
        dm_text = f"⏰ Reminder: **{title}** starts {starts}.{self._where(event)}"
        going = await self.reminders.list_going_to_remind(event.id, event.guild_id)
        count = await self._dm_each(going, dm_text, event, "Reminder")
        posted = await self.delivery.send(
            Target.channel(event.channel_id), f"⏰ **{title}** starts {starts}.{self._where(event)}"
        )
        if not posted.delivered:
            log.info("Reminder for event %s not posted in its channel: %s", event.id, posted.explain())
        summary = count.describe("reminded")
        await self._log_line(
            event.guild_id,
            f"⏰ Reminder for event #{event.id} **{shorten(event.title, 80)}** "
            f"({timer.offset_minutes} min before the start): {summary}.",
        )
        return summary

    async def _nudge(self, event: Event) -> str:
        guild = self.bot.get_guild(event.guild_id)
        role = guild.get_role(event.role_id) if guild is not None and event.role_id is not None else None
        if role is None:
            return "nobody: the event's role is gone"
        answered = await self.reminders.list_answered(event.id)
        waiting = [member.id for member in role.members if not member.bot and member.id not in answered]
        title = shorten(event.title, 100)
        starts = f"{discord_timestamp(event.starts_at, 'F')} ({discord_timestamp(event.starts_at, 'R')})"
        text = (
            f"👋 You haven't answered **{title}** yet ({starts}). Going, interested or not going: "
            f"the buttons are on the event's post.{self._where(event)}"
        )
        count = await self._dm_each(waiting, text, event, "Nudge")
        head = f"👋 Still no answer for **{title}** ({starts}) from:"
        for chunk, ids in mention_chunks(head, count.closed_ids or []):
            posted = await self.delivery.send(Target.channel(event.channel_id), chunk, mentions=ids)
            if not posted.delivered:
                log.info("Nudge mentions for event %s not posted: %s", event.id, posted.explain())
        summary = count.describe("nudged")
        await self._log_line(
            event.guild_id, f"👋 Nudge for event #{event.id} **{shorten(event.title, 80)}**: {summary}."
        )
        return summary

    async def _tell_missed(self, event: Event) -> str:
        if not (await self.configs.get(event.guild_id)).missed_attendance_notice:
            return "off"
        absent = await self.reminders.list_going_absent(event.id)
        text = (
            f"📭 We missed you at **{shorten(event.title, 100)}** ({discord_timestamp(event.starts_at, 'F')}). "
            "If you were there, ask an organizer to mark your attendance."
        )
        count = await self._dm_each(absent, text, event, "Missed-attendance")
        summary = count.describe("told")
        if absent:
            await self._log_line(
                event.guild_id,
                f"📭 Missed-attendance notice for event #{event.id} **{shorten(event.title, 80)}**: {summary}.",
            )
        return summary
