"""Events and RSVP (SPEC section 4, first half).

How the package fits together:

- `Events` is the one cog. It is assembled from mixins, each in its own module, whose commands
  are subcommands of the single `/event` group from cogs/events/group.py:
  - `EventCoreCommands` (cogs/events/cog.py): /event attend, the RSVP clicks and the
    coalesced post refresh;
  - `EventCreateCommands` (cogs/events/create.py): /event create (slash options, then a modal);
  - `EventManageCommands` (cogs/events/manage.py): /event info, attendees, edit, cancel, rsvp;
  - `EventListCommands` (cogs/events/listing.py): /event list, and `event_autocomplete`, the
    one autocomplete every `event` option uses;
  - `EventReminderCommands` (cogs/events/reminders.py): the event's scheduled moments
    (reminders, nudge, status flips, missed-attendance notice), planned by `plan_event_timers`
    after a create or an edit and closed by `drop_event_timers` after a cancel.
  - `EventSeriesCommands` (cogs/events/series.py): recurring events (the `repeat` options of
    /event create, the job creating each next occurrence, the series question of /event cancel);
  - `EventReviewCommands` (cogs/events/reviews.py): /event review;
  - `EventCalendarCommands` (cogs/events/calendar.py): /event ics;
  - `EventScheduledMirror` (cogs/events/scheduled.py): the Discord scheduled event of each event.
  - `EventSlotCommands` (cogs/events/slot_signup.py): slot sign-up on events made from a preset
    (the post's select menu, its waitlist button, Going on a slotted event) and /event slot.
- A mixin defines its commands as methods decorated with `@event_group.command(...)` (import
  `event_group` from cogs.events.group). discord.py collects them from the cog's MRO and binds
  `self` to the Events instance, so a mixin uses the attributes the constructor sets below
  (`bot`, `events`, `configs`, `delivery`, `tracked_posts`, `jobs`, `clock`) and the core's
  helpers: `await self.refresh_post(event_id)` after any change the post shows (marks it stale
  and schedules the coalesced refresh), `await self.render(event, now)` for the post's embed.
  Organizer subcommands carry `extras={"audience": AUDIENCE_ORGANIZER}` and `@staff_only()`
  (the group itself has no audience: /event attend is for everyone).
- cogs/events/post.py renders the post (`render_post`, `post_view`); cogs/events/buttons.py
  holds its persistent RSVP buttons (DynamicItems, listed in `dynamic_items` below).
- A mixin with its own persistent buttons adds them to `dynamic_items` here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from bot.clock import Clock
from bot.delivery import Delivery
from bot.scheduler import JobScheduler
from bot.tracked_post import TrackedPosts
from cogs.events.buttons import RSVP_BUTTONS
from cogs.events.calendar import EventCalendarCommands
from cogs.events.cog import REFRESH_JOB, EventCoreCommands
from cogs.events.create import EventCreateCommands
from cogs.events.group import event_group
from cogs.events.listing import EventListCommands, EventsPageButton
from cogs.events.manage import EventManageCommands
from cogs.events.reminders import TIMER_JOB, EventReminderCommands
from cogs.events.reviews import EventReviewCommands
from cogs.events.scheduled import EventScheduledMirror
from cogs.events.series import SERIES_JOB, SERIES_POST_JOB, EventSeriesCommands
from cogs.events.slot_signup import EventSlotCommands
from cogs.events.slots import SLOT_ITEMS
from storage.event_reminders import EventReminderRepository
from storage.event_reviews import ReviewRepository
from storage.event_series import SeriesRepository
from storage.event_slots import EventSlotRepository
from storage.events import EventRepository
from storage.guild_config import GuildConfigRepository
from storage.presets import PresetRepository

if TYPE_CHECKING:
    from bot.core import Rollcall


class Events(
    EventCoreCommands,
    EventCreateCommands,
    EventManageCommands,
    EventListCommands,
    EventSlotCommands,
    EventReminderCommands,
    EventSeriesCommands,
    EventReviewCommands,
    EventCalendarCommands,
    EventScheduledMirror,
    commands.Cog,
):
    event_group = event_group
    dynamic_items = (*RSVP_BUTTONS, EventsPageButton, *SLOT_ITEMS)

    def __init__(
        self,
        bot: Rollcall,
        *,
        events: EventRepository,
        reminders: EventReminderRepository,
        event_series: SeriesRepository,
        event_reviews: ReviewRepository,
        configs: GuildConfigRepository,
        delivery: Delivery,
        tracked_posts: TrackedPosts,
        jobs: JobScheduler,
        clock: Clock,
        event_slots: EventSlotRepository,
        presets: PresetRepository,
    ) -> None:
        self.bot = bot
        self.events = events
        self.reminders = reminders
        self.event_series = event_series
        self.event_reviews = event_reviews
        self.configs = configs
        self.delivery = delivery
        self.tracked_posts = tracked_posts
        self.jobs = jobs
        self.clock = clock
        self.event_slots = event_slots
        self.presets = presets
        jobs.register(REFRESH_JOB, self.refresh_when_due)
        jobs.register(TIMER_JOB, self.run_timer)
        jobs.register(SERIES_JOB, self.series_when_due)
        jobs.register(SERIES_POST_JOB, self.series_post_when_due)

    async def reconcile(self) -> None:
        """Rows are the truth: every post left stale by the last run gets its refresh back."""
        await self.reschedule_stale_posts()
        await self.reconcile_timers()
        await self.reschedule_series()


async def setup(bot: Rollcall) -> None:
    await bot.add_cog(
        Events(
            bot,
            events=bot.events,
            reminders=bot.event_reminders,
            event_series=bot.event_series,
            event_reviews=bot.event_reviews,
            configs=bot.guild_configs,
            delivery=bot.delivery,
            tracked_posts=bot.tracked_posts,
            jobs=bot.jobs,
            clock=bot.clock,
            event_slots=bot.event_slots,
            presets=bot.presets,
        )
    )
