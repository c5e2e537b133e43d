"""/event create: the slash options (channel, capacity, role, cutoff, reminders, nudge, repeat,
preset), then a modal for the title, times and location, then the row, the post and its timers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.checks import AUDIENCE_ORGANIZER, ensure_in_range, staff_autocomplete, staff_only
from bot.delivery import Target
from bot.errors import InvalidInput, permissions_in_words
from bot.replies import send_reply
from bot.tracked_post import EMBED_POST_PERMISSIONS
from bot.tree import RollcallModal
from bot.types import Interaction
from cogs.events.group import event_group
from cogs.events.manage_views import EditForm, typed_block
from cogs.events.post import post_view
from cogs.events.reminders import describe_offsets, parse_event_reminders
from cogs.events.series import REPEAT_CHOICES, RepeatPlan, read_repeat
from cogs.presets.lookup import find_preset, preset_choices
from storage.event_reminders import ReminderSetting
from storage.events import Event
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
    from bot.delivery import Delivery
    from storage.event_reminders import EventReminderRepository, EventTimer
    from storage.event_slots import EventSlotRepository
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository
    from storage.presets import PresetRepository

START_PLACEHOLDER = "2027-03-14 19:00 · tomorrow 19:00 · next friday 18:30 · in 2h"
END_PLACEHOLDER = "21:00 (the start's day) · 2h (after the start) · 2027-03-14 21:00"


def post_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def typed_back(title: str, description: str, start: str, end: str, location: str) -> str:
    """Everything typed in the modal, for a refusal: a modal's text is lost once it closes."""
    return "Nothing was created. What you typed, to paste back:\n" + typed_block(
        EditForm(title, description, start, end, location)
    )


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

    def __init__(self, cog: EventCreateCommands, options: CreateOptions) -> None:
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


class EventCreateCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py); the cog's constructor sets these."""

    events: EventRepository
    configs: GuildConfigRepository
    delivery: Delivery
    clock: Clock
    reminders: EventReminderRepository
    event_slots: EventSlotRepository
    presets: PresetRepository
    # From the core, reminder, series and mirror mixins.
    render: Callable[..., Awaitable[discord.Embed]]
    plan_event_timers: Callable[[Event], Awaitable[tuple[EventTimer, ...]]]
    start_series: Callable[..., Awaitable[object]]
    repeat_refusal: Callable[[RepeatPlan | None, datetime, str], str | None]
    mirror_scheduled_event: Callable[[int], Awaitable[None]]

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
