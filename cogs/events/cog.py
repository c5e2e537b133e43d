"""The Events cog's core: /event create (a modal), the RSVP clicks, /event attend, and the
coalesced refresh of event posts (a click only marks the post stale; one scheduled job per
event re-renders it from rows at most every `REFRESH_GAP`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.checks import AUDIENCE_ORGANIZER, ensure_in_range, staff_autocomplete, staff_only
from bot.delivery import Outcome, Result, Target
from bot.errors import InvalidInput, NotAllowed, NotFound, permissions_in_words
from bot.replies import send_reply
from bot.tracked_post import EMBED_POST_PERMISSIONS, TrackedPost
from bot.tree import RollcallModal
from bot.types import Interaction
from cogs.events.group import event_group
from cogs.events.listing import EventListCommands, find_event
from cogs.events.post import post_view, render_post
from cogs.events.reminders import describe_offsets, parse_event_reminders
from cogs.events.series import REPEAT_CHOICES, RepeatPlan, read_repeat
from cogs.presets.lookup import find_preset, preset_choices
from storage.event_reminders import ReminderSetting
from storage.events import Event, RsvpChange, RsvpStatus
from storage.presets import Slot
from utils.limits import (
    EVENT_CAPACITY,
    EVENT_DESCRIPTION,
    EVENT_LOCATION,
    EVENT_TITLE,
    NUDGE_MINUTES,
    SERIES_COUNT,
    SERIES_EVERY_DAYS,
    SIGNUP_CUTOFF,
)
from utils.text import shorten
from utils.timefmt import discord_timestamp
from utils.when import MAX_TEXT, TimeRefused, parse_time, parse_window

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.delivery import Delivery
    from bot.scheduler import JobScheduler
    from bot.tracked_post import TrackedPosts
    from storage.event_reminders import EventReminderRepository, EventTimer
    from storage.event_reviews import ReviewRepository
    from storage.event_slots import EventSlotRepository, LeftAs
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository
    from storage.presets import PresetRepository

log = logging.getLogger(__name__)

REFRESH_JOB = "events.refresh_post"
# At most one edit of a post per this gap, however many clicks come in (Discord rate-limits edits).
REFRESH_GAP = timedelta(seconds=2)
# After a network failure the post is tried again this much later.
REFRESH_RETRY = timedelta(seconds=30)
# How much of a long description a refusal gives back (a message holds 2,000 characters).
ECHO_DESCRIPTION = 1_000
START_PLACEHOLDER = "2027-03-14 19:00 · tomorrow 19:00 · next friday 18:30 · in 2h"
END_PLACEHOLDER = "21:00 (the start's day) · 2h (after the start) · 2027-03-14 21:00"


def post_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def typed_back(title: str, description: str, start: str, end: str, location: str) -> str:
    """Everything typed in the modal, for a refusal: a modal's text is lost once it closes."""

    def clean(text: str, limit: int) -> str:
        return shorten(text.replace("`", "'"), limit)

    lines = [
        f"Title: {clean(title, EVENT_TITLE.high)}",
        f"Start: {clean(start, MAX_TEXT)}",
        f"End: {clean(end, MAX_TEXT)}",
        f"Location: {clean(location, EVENT_LOCATION.high)}",
        f"Description: {clean(description, ECHO_DESCRIPTION)}",
    ]
    return "Nothing was created. What you typed, to paste back:\n```\n" + "\n".join(lines) + "\n```"


@dataclass(frozen=True, slots=True)
class CreateOptions:
    """The slash options of /event create, carried into the modal."""

    channel: discord.TextChannel
    capacity: int | None
    role: discord.Role | None
    signup_cutoff: str | None
    # The event's own reminder offsets (None: the guild's; empty: none) and nudge, minutes before the start.
    reminders: tuple[int, ...] | None = None
    nudge: int | None = None
    repeat: RepeatPlan | None = None
    # A preset's slots, copied when the command ran: the event keeps this copy.
    slots: tuple[Slot, ...] = ()


class EventModal(RollcallModal, title="New event"):
    event_title: discord.ui.TextInput = discord.ui.TextInput(
        label="Title", custom_id="event_title", min_length=max(EVENT_TITLE.low, 1), max_length=EVENT_TITLE.high
    )
    description: discord.ui.TextInput = discord.ui.TextInput(
        label="Description",
        custom_id="event_description",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=EVENT_DESCRIPTION.high,
    )
    start: discord.ui.TextInput = discord.ui.TextInput(
        label="Start (server time zone)", custom_id="event_start", placeholder=START_PLACEHOLDER, max_length=MAX_TEXT
    )
    end: discord.ui.TextInput = discord.ui.TextInput(
        label="End", custom_id="event_end", placeholder=END_PLACEHOLDER, max_length=MAX_TEXT
    )
    location: discord.ui.TextInput = discord.ui.TextInput(
        label="Location", custom_id="event_location", required=False, max_length=EVENT_LOCATION.high
    )

    def __init__(self, cog: EventCoreCommands, options: CreateOptions) -> None:
        super().__init__()
        self.cog = cog
        self.options = options

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        await self.cog.create_from_modal(
            interaction,
            self.options,
            title=self.event_title.value.strip(),
            description=self.description.value.strip(),
            start=self.start.value,
            end=self.end.value,
            location=self.location.value.strip(),
        )


class EventCoreCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py); the cog's constructor sets these."""

    bot: Rollcall
    events: EventRepository
    configs: GuildConfigRepository
    delivery: Delivery
    tracked_posts: TrackedPosts
    jobs: JobScheduler
    clock: Clock
    reminders: EventReminderRepository
    plan_event_timers: Callable[[Event], Awaitable[tuple[EventTimer, ...]]]
    event_reviews: ReviewRepository
    # From the series and mirror mixins (cogs/events/series.py, cogs/events/scheduled.py).
    start_series: Callable[..., Awaitable[object]]
    repeat_refusal: Callable[[RepeatPlan | None, datetime, str], str | None]
    mirror_scheduled_event: Callable[[int], Awaitable[None]]
    event_slots: EventSlotRepository
    presets: PresetRepository
    # From the slot mixin (cogs/events/slot_signup.py).
    ask_for_slot: Callable[[Interaction, Event], Awaitable[None]]
    slot_leave: Callable[..., Awaitable[object]]

    @staff_autocomplete
    async def create_preset_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await preset_choices(self.presets, interaction.guild_id, current)

    # ---- /event create ---------------------------------------------------------------------

    @event_group.command(
        name="create", description="Create an event with RSVP buttons", extras={"audience": AUDIENCE_ORGANIZER}
    )
    @app_commands.describe(
        preset="A preset whose slots members sign up for (the seats add up to the capacity)",
        channel="Where the event is posted (default: this channel)",
        capacity=f"Seats, {EVENT_CAPACITY.low} to {EVENT_CAPACITY.high}; Going beyond it joins a waitlist",
        role="Only members with this role may RSVP and attend",
        signup_cutoff="Minutes before the start when RSVPs close (like 60), or a time (like tomorrow 18:00)",
        reminders="Minutes before the start to remind Going members, like 60,10 (default: the server's), or off",
        nudge="Minutes before the start to DM role members who have not answered (needs `role`)",
        repeat="Repeat the event: the next one is posted when this one ends",
        repeat_every_days=f"With repeat every N days: days between events ({SERIES_EVERY_DAYS.low} to "
        f"{SERIES_EVERY_DAYS.high})",
        repeat_until="Last day the event may repeat on, in the server's time zone (like 2027-06-30)",
        repeat_count=f"How many events in all, this one included ({SERIES_COUNT.low} to {SERIES_COUNT.high})",
    )
    @app_commands.choices(repeat=REPEAT_CHOICES)
    @app_commands.autocomplete(preset=create_preset_autocomplete)
    @staff_only()
    async def event_create(
        self,
        interaction: Interaction,
        preset: app_commands.Range[str, 1, 100] | None = None,
        channel: discord.TextChannel | None = None,
        capacity: app_commands.Range[int, EVENT_CAPACITY.low, EVENT_CAPACITY.high] | None = None,
        role: discord.Role | None = None,
        signup_cutoff: app_commands.Range[str, 1, MAX_TEXT] | None = None,
        reminders: app_commands.Range[str, 1, MAX_TEXT] | None = None,
        nudge: app_commands.Range[int, NUDGE_MINUTES.low, NUDGE_MINUTES.high] | None = None,
        repeat: app_commands.Choice[str] | None = None,
        repeat_every_days: app_commands.Range[int, SERIES_EVERY_DAYS.low, SERIES_EVERY_DAYS.high] | None = None,
        repeat_until: app_commands.Range[str, 1, MAX_TEXT] | None = None,
        repeat_count: app_commands.Range[int, SERIES_COUNT.low, SERIES_COUNT.high] | None = None,
    ) -> None:
        if channel is None:
            if not isinstance(interaction.channel, discord.TextChannel):
                raise InvalidInput("Pick a `channel` for the event post: this one can't hold it.")
            channel = interaction.channel
        if capacity is not None:
            ensure_in_range("The capacity", capacity, EVENT_CAPACITY.bounds, EVENT_CAPACITY.unit)
        if role is not None and role.is_default():
            raise InvalidInput("@everyone can't be the event's role: leave `role` empty to let everyone RSVP.")
        # Checked before the modal so a typo here does not cost the organizer the whole form.
        config = await self.configs.get(interaction.guild_id)
        if signup_cutoff is not None:
            self._cutoff_minutes_or_time(signup_cutoff, zone_name=config.timezone, now=self.clock.now())
        offsets = parse_event_reminders(reminders) if reminders is not None else None
        if nudge is not None:
            ensure_in_range("The nudge", nudge, NUDGE_MINUTES.bounds, NUDGE_MINUTES.unit)
            if role is None:
                raise InvalidInput(
                    "A `nudge` needs a `role`: it DMs the members of the event's role who have not answered."
                )
        plan = read_repeat(
            repeat.value if repeat is not None else None,
            repeat_every_days,
            repeat_until,
            repeat_count,
            timezone=config.timezone,
            now=self.clock.now(),
        )
        granted = channel.permissions_for(channel.guild.me)
        missing = [name for name in EMBED_POST_PERMISSIONS if not getattr(granted, name)]
        if missing:
            raise InvalidInput(f"I can't post the event in {channel.mention}. {permissions_in_words(missing)}")
        slots: tuple[Slot, ...] = ()
        if preset is not None:
            chosen = await find_preset(self.presets, interaction.guild_id, preset)
            if capacity is not None and capacity != chosen.total:
                raise InvalidInput(
                    f"The preset **{discord.utils.escape_markdown(chosen.name)}** has {chosen.total} seats in its "
                    f"slots, which is the event's capacity: leave `capacity` out (you gave {capacity})."
                )
            slots = chosen.slots
        options = CreateOptions(
            channel=channel,
            capacity=capacity,
            role=role,
            signup_cutoff=signup_cutoff,
            reminders=offsets,
            nudge=nudge,
            repeat=plan,
            slots=slots,
        )
        await interaction.response.send_modal(EventModal(self, options))

    @staticmethod
    def _cutoff_minutes_or_time(text: str, *, zone_name: str, now: datetime) -> int | datetime:
        typed = text.strip()
        if typed.isdigit():
            minutes = int(typed)
            ensure_in_range("The sign-up cutoff", minutes, SIGNUP_CUTOFF.bounds, SIGNUP_CUTOFF.unit)
            return minutes
        try:
            return parse_time(typed, zone_name=zone_name, now=now, what="sign-up cutoff").moment
        except TimeRefused as refused:
            raise InvalidInput(f"{refused.message} Or give a number of minutes before the start, like `60`.") from None

    async def create_from_modal(
        self,
        interaction: Interaction,
        options: CreateOptions,
        *,
        title: str,
        description: str,
        start: str,
        end: str,
        location: str,
    ) -> None:
        typed = typed_back(title, description, start, end, location)
        config = await self.configs.get(interaction.guild_id)
        now = self.clock.now()
        try:
            window = parse_window(start, end, zone_name=config.timezone, now=now)
        except TimeRefused as refused:
            raise InvalidInput(f"{refused.message}\n{typed}") from None
        if not title:
            raise InvalidInput(f"The title can't be only spaces.\n{typed}")
        repeat_refused = self.repeat_refusal(options.repeat, window.starts_at, config.timezone)
        if repeat_refused is not None:
            raise InvalidInput(f"{repeat_refused}\n{typed}")
        cutoff_at: datetime | None = None
        if options.signup_cutoff is not None:
            try:
                cutoff = self._cutoff_minutes_or_time(options.signup_cutoff, zone_name=config.timezone, now=now)
            except InvalidInput as refused:
                raise InvalidInput(f"{refused}\n{typed}") from None
            cutoff_at = window.starts_at - timedelta(minutes=cutoff) if isinstance(cutoff, int) else cutoff
            if cutoff_at >= window.starts_at:
                raise InvalidInput(
                    f"The sign-up cutoff {discord_timestamp(cutoff_at, 'f')} must be before the start "
                    f"{discord_timestamp(window.starts_at, 'f')}.\n{typed}"
                )
            if cutoff_at <= now:
                raise InvalidInput(
                    f"The sign-up cutoff {discord_timestamp(cutoff_at, 'f')} has already passed, so nobody could "
                    f"RSVP: pick fewer minutes or a later time.\n{typed}"
                )
        # The row and the post take longer than the 3 seconds an interaction may wait unanswered.
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel = options.channel
        event = await self.events.create(
            guild_id=interaction.guild_id,
            channel_id=channel.id,
            created_by=interaction.user.id,
            now=now,
            title=title,
            description=description,
            location=location,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            capacity=sum(slot.seats for slot in options.slots) if options.slots else options.capacity,
            role_id=options.role.id if options.role else None,
            signup_cutoff_at=cutoff_at,
            slots=options.slots,
        )
        board = await self.event_slots.board(event.id)
        embed = await self.render(event, now, timezone=config.timezone)
        posted = await self.delivery.send(Target.channel(channel.id), embed=embed, view=post_view(event, now, board))
        if not posted.delivered or posted.message_id is None:
            await self.events.delete_unposted(event.id)
            raise InvalidInput(f"I couldn't post the event in {channel.mention}: {posted.explain()}\n{typed}")
        await self.events.set_message(event.id, posted.message_id)
        if options.reminders is not None or options.nudge is not None:
            await self.reminders.set_setting(ReminderSetting(event.id, options.reminders, options.nudge))
        await self.plan_event_timers(event)
        offsets = options.reminders if options.reminders is not None else config.reminder_offsets
        notes = "".join(f"\nNote: {note}" for note in window.notes)
        if options.nudge is not None and window.starts_at - timedelta(minutes=options.nudge) <= now:
            notes += "\nNote: the nudge time has already passed, so nobody will be nudged."
        if options.repeat is not None:
            await self.start_series(event, options.repeat, timezone=config.timezone, now=now)
            notes += f"\n{options.repeat.describe()}"

        await send_reply(
            interaction,
            f"Event **{shorten(title, EVENT_TITLE.high)}** is posted: "
            f"{post_link(event.guild_id, channel.id, posted.message_id)}\n"
            f"Starts {discord_timestamp(window.starts_at, 'F')} ({discord_timestamp(window.starts_at, 'R')}); "
            f"{describe_offsets(offsets)}.{notes}",
        )
        await self.mirror_scheduled_event(event.id)

    # ---- the post ----------------------------------------------------------------------

    async def render(self, event: Event, now: datetime, *, timezone: str | None = None) -> discord.Embed:
        """The post's embed from the event's rows as they are now."""
        if timezone is None:
            timezone = (await self.configs.get(event.guild_id)).timezone
        counts = await self.events.count_rsvps(event.id)
        going = [f"<@{rsvp.user_id}>" for rsvp in await self.events.list_rsvps(event.id, "going")]
        reviews = await self.event_reviews.summary(event.id)
        slots = await self.event_slots.board(event.id)
        return render_post(event, counts, going, now, timezone, reviews=reviews, slots=slots)

    def _tracked(self, event: Event) -> TrackedPost:
        async def store(message_id: int) -> None:
            await self.events.set_message(event.id, message_id)

        return TrackedPost(
            key=f"event:{event.id}",
            guild_id=event.guild_id,
            channel_id=event.channel_id,
            message_id=event.message_id,
            subject=f"the post of event **{shorten(event.title, 80)}** (#{event.id})",
            store=store,
            fallback_user_id=event.created_by,
        )

    def schedule_refresh(self, event: Event, now: datetime) -> None:
        """Wake the post's refresh no sooner than `REFRESH_GAP` after its last edit, unless one
        is already pending: that one will read every change made until it runs."""
        if self.jobs.pending(REFRESH_JOB, event.id):
            return
        when = now if event.post_refreshed_at is None else max(now, event.post_refreshed_at + REFRESH_GAP)
        self.jobs.schedule_at(REFRESH_JOB, event.id, when)

    async def refresh_post(self, event_id: int) -> None:
        """Mark the event's post stale and schedule its coalesced refresh (for any change the
        post shows: an edit, a cancel, an organizer's RSVP)."""
        now = self.clock.now()
        await self.events.mark_post_stale(event_id, now=now)
        event = await self.events.get(event_id)
        if event is not None:
            self.schedule_refresh(event, now)

    async def refresh_when_due(self, event_id: int, now: datetime) -> None:
        """The job: show the rows as they are, then clear the stale mark unless a change came in
        meanwhile (then go again after the gap)."""
        event = await self.events.get(event_id)
        if event is None or event.message_id is None or event.post_stale_since is None:
            return
        stale_since = event.post_stale_since
        embed = await self.render(event, now)
        view = post_view(event, now, await self.event_slots.board(event.id))
        shown = await self.tracked_posts.refresh(self._tracked(event), embed=embed, view=view)
        if shown.transient:
            self.jobs.schedule_at(REFRESH_JOB, event.id, now + REFRESH_RETRY)
            return
        # A refused or deleted channel was reported once by TrackedPosts; the next change tries again.
        await self.events.mark_post_refreshed(event.id, stale_since=stale_since, now=now)
        after = await self.events.get(event.id)
        if after is not None and after.post_stale_since is not None:
            self.schedule_refresh(after, now)

    async def reschedule_stale_posts(self) -> None:
        now = self.clock.now()
        for event in await self.events.list_stale_posts():
            # Another shard process refreshes its own servers' posts.
            if self.jobs.owns_guild(event.guild_id):
                self.schedule_refresh(event, now)

    # ---- RSVP clicks ---------------------------------------------------------------------

    async def _event_for_member(self, interaction: Interaction, event_id: int) -> Event:
        # get_in_guild: a forged custom id naming another guild's event reads as no event at all.
        event = await self.events.get_in_guild(interaction.guild_id or 0, event_id)
        if event is None:
            raise NotFound("This event no longer exists.")
        return event

    @staticmethod
    def _ensure_role(interaction: Interaction, event: Event, doing: str) -> None:
        if event.role_id is None:
            return
        member = interaction.user
        if not isinstance(member, discord.Member) or member.get_role(event.role_id) is None:
            raise NotAllowed(f"Only members with <@&{event.role_id}> can {doing} **{event.title}**.")

    def ensure_open_for_signup(self, interaction: Interaction, event: Event, now: datetime) -> None:
        """RSVPs and slot sign-ups alike: refused on a cancelled or ended event, to members
        without the event's role, and from the cutoff on."""
        status = event.status_at(now)
        if status == "cancelled":
            raise NotAllowed(f"**{event.title}** was cancelled, so it takes no RSVPs.")
        if status == "ended":
            raise NotAllowed(f"**{event.title}** ended {discord_timestamp(event.ends_at, 'R')}.")
        self._ensure_role(interaction, event, "RSVP to")
        if event.signups_closed_at(now):
            closed = event.signup_cutoff_at or event.starts_at
            raise NotAllowed(f"Sign-ups for **{event.title}** closed {discord_timestamp(closed, 'R')}.")

    async def rsvp_click(self, interaction: Interaction, event_id: int, wanted: RsvpStatus) -> None:
        event = await self._event_for_member(interaction, event_id)
        now = self.clock.now()
        self.ensure_open_for_signup(interaction, event, now)
        if await self.event_slots.has_slots(event.id):
            # On a slotted event a seat is a slot: Going asks which, the others give it up.
            if wanted == "going":
                await self.ask_for_slot(interaction, event)
            else:
                left_as: LeftAs = "interested" if wanted == "interested" else "not_going"
                await self.slot_leave(interaction, event, left_as)
            return
        change = await self.events.set_rsvp(event.id, interaction.user.id, wanted, now=now)
        if change.refused is not None:
            raise NotAllowed(f"**{event.title}** was cancelled, so it takes no RSVPs.")
        await send_reply(interaction, self._rsvp_answer(event, change))
        if change.changed:
            self.schedule_refresh(event, now)
        if change.promoted:
            await self._tell_promoted(event, change.promoted)

    @staticmethod
    def _rsvp_answer(event: Event, change: RsvpChange) -> str:
        title = f"**{event.title}**"
        if change.after == "going":
            return f"✅ You're going to {title}."
        if change.after == "waitlist":
            return (
                f"The event is full: you're #{change.position} on the waitlist for {title}. "
                "I'll DM you if a seat frees up."
            )
        if change.after == "interested":
            return f"⭐ Interested in {title}."
        return f"You're not going to {title}."

    async def _tell_promoted(self, event: Event, promoted: tuple[int, ...]) -> None:
        """A DM to each member seated from the waitlist; those whose DMs are closed are named in
        one message in the event's channel instead. A failure here never reaches the clicker."""
        text = f"🎟️ A seat freed up: you're now going to **{event.title}** ({discord_timestamp(event.starts_at, 'F')})."
        unreached: list[int] = []
        for user_id in promoted:
            sent: Result = await self.delivery.dm(user_id, text)
            if not sent.delivered:
                log.info("Promotion DM to %s for event %s not delivered: %s", user_id, event.id, sent.explain())
                if sent.outcome is Outcome.DMS_CLOSED:
                    unreached.append(user_id)
        if unreached:
            mentions = " ".join(f"<@{user_id}>" for user_id in unreached)
            posted = await self.delivery.send(
                Target.channel(event.channel_id),
                f"{mentions}: a seat freed up, you're now going to **{event.title}**.",
                mentions=unreached,
            )
            if not posted.delivered:
                log.info("Promotion notice for event %s not posted: %s", event.id, posted.explain())

    # ---- /event attend -------------------------------------------------------------------

    @event_group.command(name="attend", description="Mark yourself as attending an event that is happening now")
    @app_commands.describe(event="The event (start typing its title)")
    @app_commands.autocomplete(event=EventListCommands.event_autocomplete)
    async def event_attend(self, interaction: Interaction, event: int) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        now = self.clock.now()
        status = found.status_at(now)
        if status == "cancelled":
            raise NotAllowed(f"**{found.title}** was cancelled.")
        if status == "upcoming":
            raise NotAllowed(
                f"**{found.title}** starts {discord_timestamp(found.starts_at, 'R')}: attendance opens then."
            )
        if status == "ended":
            raise NotAllowed(f"**{found.title}** ended {discord_timestamp(found.ends_at, 'R')}.")
        self._ensure_role(interaction, found, "attend")
        first = await self.events.record_attendance(found.id, interaction.user.id, now=now, source="command")
        if first:
            await send_reply(interaction, f"✅ You're marked as attending **{found.title}**.")
        else:
            await send_reply(interaction, f"Your attendance at **{found.title}** was already recorded.")
