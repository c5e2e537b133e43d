"""Recurring events: the `repeat` options of /event create, the job that creates the next
occurrence when the latest one ends, and the series question of /event cancel.

The series' rows drive everything (storage/event_series.py): the job `events.series_next:<series
id>` is due at the end of the series' latest occurrence and is rebuilt from the rows at start-up.
Its runner claims the next place in one transaction, so a restart or a second run never creates
an occurrence twice; the new occurrence is posted like any event post (TrackedPosts), and a post
Discord did not take is tried again by `events.series_post:<event id>`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands

from bot.checks import ensure_in_range
from bot.errors import InvalidInput
from bot.tree import RollcallView
from cogs.events.creator import ensure_may_manage
from cogs.events.listing import find_event
from cogs.events.post import post_view
from storage.event_series import Series
from storage.events import Event
from utils.limits import SERIES_COUNT, SERIES_EVERY_DAYS
from utils.recurrence import SERIES_RULES, NextOccurrence, SeriesOver, SeriesRule, plan_next, rule_text
from utils.text import echo
from utils.timefmt import discord_timestamp
from utils.when import TimeRefused, parse_day

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.clock import Clock
    from bot.scheduler import JobScheduler
    from bot.tracked_post import TrackedPost, TrackedPosts
    from bot.types import Interaction
    from storage.event_reminders import EventReminderRepository
    from storage.event_series import SeriesRepository
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository

log = logging.getLogger(__name__)

SERIES_JOB = "events.series_next"
SERIES_POST_JOB = "events.series_post"
# A new occurrence's post that Discord did not take (a network failure) is tried again this much later.
SERIES_POST_RETRY = timedelta(seconds=30)
CONFIRM_TIMEOUT_SECONDS = 300

REPEAT_CHOICES = [
    app_commands.Choice(name="daily", value="daily"),
    app_commands.Choice(name="weekly", value="weekly"),
    app_commands.Choice(name="weekdays (Monday to Friday)", value="weekdays"),
    app_commands.Choice(name="every N days (set repeat_every_days)", value="every_n_days"),
]


@dataclass(frozen=True, slots=True)
class RepeatPlan:
    """The `repeat` options of /event create, checked before the form opens."""

    rule: SeriesRule
    every_days: int | None
    until_day: date | None
    max_count: int | None

    def describe(self) -> str:
        text = f"Repeats {rule_text(self.rule, self.every_days)}"
        if self.until_day is not None:
            text += f" until {self.until_day.isoformat()}"
        if self.max_count is not None:
            text += f", {self.max_count} times in all"
        return text + "; the next one is posted when this one ends."


def read_repeat(
    repeat: str | None,
    every_days: int | None,
    until: str | None,
    count: int | None,
    *,
    timezone: str,
    now: datetime,
) -> RepeatPlan | None:
    """The repeat options as a plan, or None for a one-off event; refused with how to fix it."""
    if repeat is None:
        if every_days is not None or until is not None or count is not None:
            raise InvalidInput(
                "`repeat_every_days`, `repeat_until` and `repeat_count` only go with `repeat`: pick how the "
                "event repeats (daily, weekly, weekdays or every N days), or leave them out."
            )
        return None
    if repeat not in SERIES_RULES:
        raise InvalidInput(f"`{echo(repeat)}` is not a way to repeat: pick daily, weekly, weekdays or every N days.")
    rule: SeriesRule = repeat  # type: ignore[assignment]
    if rule == "every_n_days":
        if every_days is None:
            raise InvalidInput("`repeat: every N days` needs `repeat_every_days` (like 14 for every two weeks).")
        ensure_in_range("`repeat_every_days`", every_days, SERIES_EVERY_DAYS.bounds, SERIES_EVERY_DAYS.unit)
    elif every_days is not None:
        raise InvalidInput(
            f"`repeat_every_days` goes with `repeat: every N days`, not with `{rule}`: leave it out, or pick "
            "every N days."
        )
    if until is not None and count is not None:
        raise InvalidInput("Give `repeat_until` or `repeat_count`, not both: the series ends at whichever you pick.")
    if count is not None:
        ensure_in_range("`repeat_count`", count, SERIES_COUNT.bounds, SERIES_COUNT.unit)
    until_day = None
    if until is not None:
        try:
            until_day = parse_day(until, zone_name=timezone, now=now, what="`repeat_until` day")
        except TimeRefused as refused:
            raise InvalidInput(refused.message) from None
        today = now.astimezone(ZoneInfo(timezone)).date()
        if until_day < today:
            raise InvalidInput(
                f"`repeat_until` ({echo(until)}, {until_day.isoformat()}) has already passed: give the last day "
                "the event may happen on, like `2027-06-30`."
            )
    return RepeatPlan(rule, every_days if rule == "every_n_days" else None, until_day, count)


def plan_for(series: Series, latest: Event, now: datetime) -> NextOccurrence | SeriesOver:
    return plan_next(
        rule=series.rule,
        every_days=series.every_days,
        last_index=series.last_index,
        last_day=series.latest_day,
        local_start=series.start_time,
        duration=series.duration,
        zone_name=series.timezone,
        until_day=series.until,
        max_count=series.max_count,
        now=now,
    )


class EventSeriesCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py): recurring events. The cog's
    constructor sets these; the core provides `render` and `_tracked`, the mirror
    `mirror_scheduled_event`, and manage.py `confirm_cancel`."""

    events: EventRepository
    event_series: SeriesRepository
    configs: GuildConfigRepository
    tracked_posts: TrackedPosts
    jobs: JobScheduler
    clock: Clock
    render: Callable[..., Awaitable[discord.Embed]]
    _tracked: Callable[[Event], TrackedPost]
    mirror_scheduled_event: Callable[[int], Awaitable[None]]
    confirm_cancel: Callable[..., Awaitable[None]]
    # From the reminders mixin (cogs/events/reminders.py).
    reminders: EventReminderRepository
    plan_event_timers: Callable[[Event], Awaitable[object]]

    # ---- starting a series -------------------------------------------------------------

    async def start_series(self, first: Event, plan: RepeatPlan, *, timezone: str, now: datetime) -> Series:
        local = first.starts_at.astimezone(ZoneInfo(timezone))
        series = await self.event_series.start(
            first,
            rule=plan.rule,
            every_days=plan.every_days,
            until_day=plan.until_day,
            max_count=plan.max_count,
            timezone=timezone,
            local_start=local.time().replace(second=0, microsecond=0),
            first_day=local.date(),
            now=now,
        )
        self.jobs.schedule_at(SERIES_JOB, series.id, first.ends_at)
        return series

    @staticmethod
    def repeat_refusal(plan: RepeatPlan | None, starts_at: datetime, timezone: str) -> str | None:
        """Why the typed start does not fit the repeat options, or None."""
        if plan is None or plan.until_day is None:
            return None
        first_day = starts_at.astimezone(ZoneInfo(timezone)).date()
        if plan.until_day < first_day:
            return (
                f"`repeat_until` ({plan.until_day.isoformat()}) is before the first occurrence "
                f"({first_day.isoformat()}): give a later last day, or a start before it."
            )
        return None

    # ---- the jobs ----------------------------------------------------------------------

    async def series_when_due(self, series_id: int, now: datetime) -> None:
        """Create and post the next occurrence of a series whose latest one has ended; it keeps
        the latest occurrence's own reminder offsets and nudge, and gets its timeline planned."""
        before = await self.event_series.get(series_id)
        step = await self.event_series.create_next(series_id, now=now, plan=plan_for)
        if step.finished is not None:
            log.info("Event series %s is over (%s)", series_id, step.finished)
            return
        if step.event is None:
            # Not due (the latest occurrence was moved later) or finished meanwhile.
            await self._reschedule_series(series_id, now)
            return
        if step.note:
            log.info("Event series %s, event %s: %s", series_id, step.event.id, step.note)
        if step.skipped:
            log.warning(
                "Event series %s: %d occurrence(s) passed while nothing could create them; event %s is next",
                series_id,
                step.skipped,
                step.event.id,
            )
        self.jobs.schedule_at(SERIES_JOB, series_id, step.event.ends_at)
        if before is not None and before.last_event_id is not None:
            setting = await self.reminders.get_setting(before.last_event_id)
            if setting.reminder_offsets is not None or setting.nudge_minutes is not None:
                await self.reminders.set_setting(replace(setting, event_id=step.event.id))
        await self.plan_event_timers(step.event)
        await self.publish_occurrence(step.event, now)

    async def _reschedule_series(self, series_id: int, now: datetime) -> None:
        series = await self.event_series.get(series_id)
        if series is None or not series.open or series.last_event_id is None:
            return
        latest = await self.events.get(series.last_event_id)
        if latest is not None:
            self.jobs.schedule_at(SERIES_JOB, series_id, max(latest.ends_at, now))

    async def publish_occurrence(self, event: Event, now: datetime) -> None:
        """Post a new occurrence (the same post as /event create's) and mirror it."""
        embed = await self.render(event, now)
        shown = await self.tracked_posts.refresh(
            self._tracked(event), embed=embed, view=post_view(event, now, await self.event_slots.board(event.id))
        )
        if shown.transient:
            self.jobs.schedule_at(SERIES_POST_JOB, event.id, now + SERIES_POST_RETRY)
            return
        if shown.delivered:
            await self.mirror_scheduled_event(event.id)

    async def series_post_when_due(self, event_id: int, now: datetime) -> None:
        event = await self.events.get(event_id)
        if event is None or event.message_id is not None or event.cancelled_at is not None or event.ends_at <= now:
            return
        await self.publish_occurrence(event, now)

    async def reschedule_series(self) -> None:
        """At start-up: every open series wakes at its latest occurrence's end (at once when that
        passed while the bot was down), and every occurrence still without a post gets one."""
        now = self.clock.now()
        for series, due_at in await self.event_series.list_open():
            # Another shard process runs its own servers' series.
            if self.jobs.owns_guild(series.guild_id):
                self.jobs.schedule_at(SERIES_JOB, series.id, due_at)
        for event in await self.event_series.list_unposted(now=now):
            if self.jobs.owns_guild(event.guild_id):
                self.jobs.schedule_at(SERIES_POST_JOB, event.id, now)

    def series_event_moved(self, event: Event) -> None:
        """An organizer moved an occurrence: its series is now due at the new end."""
        if event.series_id is not None:
            self.jobs.schedule_at(SERIES_JOB, event.series_id, event.ends_at)

    # ---- /event cancel on a series -----------------------------------------------------

    async def open_series(self, event: Event) -> Series | None:
        if event.series_id is None:
            return None
        series = await self.event_series.get(event.series_id)
        return series if series is not None and series.open else None

    async def confirm_series_cancel(self, interaction: Interaction, event_id: int, *, whole: bool) -> None:
        """A click on the series question: this occurrence (the usual cancel), or the whole series
        (no more occurrences, and this one cancelled too unless it already is)."""
        event = await find_event(self.events, interaction.guild_id, event_id)
        await ensure_may_manage(interaction, self.configs, event, "cancel")
        if not whole:
            await self.confirm_cancel(interaction, event_id)
            return
        series = await self.open_series(event)
        if series is None:
            raise InvalidInput(f"The series of **{event.title}** has already ended; nothing was changed.")
        now = self.clock.now()
        if event.cancelled_at is None and event.status_at(now) != "ended":
            # The occurrence's own cancel runs its checks first, so a refusal leaves the series open.
            await self.confirm_cancel(
                interaction, event_id, before_cancel=lambda: self._end_series(series, interaction.user.id, now)
            )
            return
        await self._end_series(series, interaction.user.id, now)
        await interaction.response.edit_message(
            content=f"Ended the series of **{event.title}**: no more occurrences will be created.", view=None
        )

    async def _end_series(self, series: Series, actor_id: int, now: datetime) -> str:
        ended = await self.event_series.cancel(series.id, actor_id=actor_id, now=now)
        self.jobs.cancel(SERIES_JOB, series.id)
        return " The whole series is cancelled: no more occurrences will be created." if ended else ""

    def series_cancel_view(self, event: Event) -> SeriesCancelView:
        return SeriesCancelView(self, event.id, occurrence_open=event.cancelled_at is None)

    @staticmethod
    def series_question(event: Event, series: Series, expected: int) -> str:
        return (
            f"**{event.title}** ({discord_timestamp(event.starts_at, 'F')}) repeats "
            f"{rule_text(series.rule, series.every_days)}. Cancel only this occurrence (the next one is still "
            f"posted when it would have ended), or the whole series? {expected} going or waitlisted "
            f"member{'s' if expected != 1 else ''} of this occurrence will get a DM. This can't be undone."
        )


class SeriesCancelView(RollcallView):
    """The series question, sent ephemerally to the organizer who asked."""

    def __init__(self, handler: EventSeriesCommands, event_id: int, *, occurrence_open: bool) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_SECONDS)
        self.handler = handler
        self.event_id = event_id
        if not occurrence_open:
            self.remove_item(self.only_this)

    @discord.ui.button(label="Cancel this occurrence", style=discord.ButtonStyle.danger)
    async def only_this(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await self.handler.confirm_series_cancel(interaction, self.event_id, whole=False)

    @discord.ui.button(label="Cancel the whole series", style=discord.ButtonStyle.danger)
    async def whole_series(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await self.handler.confirm_series_cancel(interaction, self.event_id, whole=True)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Kept: nothing was changed.", view=None)
