"""Organizer commands on one event: /event attendees, edit, cancel and rsvp.

Who may act: admins (Manage Server) and the organizer role through bot/checks.py, in the admin
channel when one is set; the member who created an event may also edit and cancel it, from any
channel (cogs/events/creator.py). The check runs as the command's own check and again on every modal submit and confirm
click, which come later and may find the role gone. An event is always looked up in the guild
the interaction came from (`find_event`), so another server's event id reads as a missing one."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.checks import AUDIENCE_ORGANIZER, staff_only
from bot.delivery import Outcome
from bot.errors import InvalidInput
from bot.members import display_names
from bot.replies import send_files, send_reply
from cogs.events.creator import creator_or_staff, ensure_may_manage
from cogs.events.group import event_group
from cogs.events.listing import event_autocomplete, event_link, find_event, managed_event_autocomplete
from cogs.events.manage_attendees import attendee_lists, attendees_csv, attendees_csv_name
from cogs.events.manage_views import CancelConfirmView, EditAgainView, EditEventModal, EditForm
from storage.events import Event, RsvpChange
from utils.limits import EVENT_DESCRIPTION, EVENT_LOCATION, EVENT_TITLE, NUDGE_MINUTES
from utils.text import shorten
from utils.timefmt import discord_timestamp, local_text
from utils.when import MAX_TEXT, TimeRefused, parse_window

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.delivery import Delivery
    from bot.types import Interaction
    from storage.event_series import Series
    from storage.event_slots import EventSlotRepository
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository

log = logging.getLogger(__name__)

CHOSEN_STATUS_CHOICES = [
    app_commands.Choice(name="going", value="going"),
    app_commands.Choice(name="interested", value="interested"),
    app_commands.Choice(name="not going", value="not_going"),
]
STATUS_WORDS = {"going": "going", "waitlist": "on the waitlist", "interested": "interested", "not_going": "not going"}


@dataclass(frozen=True, slots=True)
class NoticeCount:
    """What became of the DMs about one change: told, DMs closed, and other failures."""

    told: int = 0
    dms_closed: int = 0
    failed: int = 0

    def describe(self) -> str:
        if not (self.told or self.dms_closed or self.failed):
            return "nobody was going or waiting, so nobody needed a DM"
        text = f"told {self.told}, DMs closed {self.dms_closed}"
        if self.failed:
            text += f", {self.failed} not reachable right now"
        return text


def same_text(typed: str, shown: str) -> bool:
    return " ".join(typed.split()) == " ".join(shown.split())


class EventManageCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py); the cog's constructor sets these,
    and the core mixin provides `refresh_post` and `_tell_promoted`."""

    events: EventRepository
    configs: GuildConfigRepository
    delivery: Delivery
    clock: Clock
    refresh_post: Callable[[int], Awaitable[None]]
    plan_event_timers: Callable[[Event], Awaitable[object]]
    drop_event_timers: Callable[[Event], Awaitable[None]]
    edit_reminders: Callable[[Interaction, Event, str | None, int | None], Awaitable[None]]
    _tell_promoted: Callable[[Event, tuple[int, ...]], Awaitable[None]]
    # From the series and mirror mixins (cogs/events/series.py, cogs/events/scheduled.py).
    open_series: Callable[[Event], Awaitable[Series | None]]
    series_question: Callable[[Event, Series, int], str]
    series_cancel_view: Callable[[Event], discord.ui.View]
    series_event_moved: Callable[[Event], None]
    mirror_scheduled_event: Callable[[int], Awaitable[None]]
    # From the slot mixin (cogs/events/slot_signup.py): a slotted event's RSVPs go through its slots.
    slotted_rsvp: Callable[[Interaction, Event, discord.Member, str], Awaitable[bool]]
    event_slots: EventSlotRepository

    # ---- /event attendees --------------------------------------------------------------

    @event_group.command(
        name="attendees",
        description="Who is going, interested, not going, waiting and attended (CSV when long)",
        extras={"audience": AUDIENCE_ORGANIZER},
    )
    @app_commands.describe(event="The event (start typing its title)")
    @app_commands.autocomplete(event=event_autocomplete)
    @staff_only()
    async def event_attendees(self, interaction: Interaction, event: int) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        await interaction.response.defer(ephemeral=True, thinking=True)
        rsvps = await self.events.list_rsvps(found.id)
        attendance = await self.events.list_attendance(found.id)
        lists = attendee_lists(found, rsvps, attendance)
        if not lists.cut:
            await send_reply(interaction, embed=lists.embed)
            return
        config = await self.configs.get(found.guild_id)
        slots = await self.event_slots.slot_names_by_user(found.id)
        data = attendees_csv(rsvps, attendance, config.timezone, display_names(interaction.guild), slots)
        await send_files(
            interaction,
            "Too many to name here: everyone is in the attached CSV.",
            [(attendees_csv_name(found), data)],
            embed=lists.embed,
        )

    # ---- /event edit -------------------------------------------------------------------

    @event_group.command(
        name="edit",
        description="Change an event's title, description, time or location",
        extras={"audience": AUDIENCE_ORGANIZER},
    )
    @app_commands.describe(
        event="The event (start typing its title)",
        reminders="Only change its reminders: minutes before the start like 60,10, or off (no form opens)",
        nudge="Only change its nudge: minutes before the start to DM role members who have not answered",
    )
    @app_commands.autocomplete(event=managed_event_autocomplete)
    @creator_or_staff("edit")
    async def event_edit(
        self,
        interaction: Interaction,
        event: int,
        reminders: app_commands.Range[str, 1, MAX_TEXT] | None = None,
        nudge: app_commands.Range[int, NUDGE_MINUTES.low, NUDGE_MINUTES.high] | None = None,
    ) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        if found.cancelled_at is not None:
            raise InvalidInput(f"**{found.title}** was cancelled, so it can't be edited.")
        if reminders is not None or nudge is not None:
            await self.edit_reminders(interaction, found, reminders, nudge)
            return
        config = await self.configs.get(found.guild_id)
        prefilled = EditForm(
            title=found.title,
            description=found.description,
            start=local_text(found.starts_at, config.timezone),
            end=local_text(found.ends_at, config.timezone),
            location=found.location,
        )
        await interaction.response.send_modal(EditEventModal(self, found.id, prefilled, prefilled))

    async def apply_edit(self, interaction: Interaction, event_id: int, prefilled: EditForm, typed: EditForm) -> None:
        event = await find_event(self.events, interaction.guild_id, event_id)
        await ensure_may_manage(interaction, self.configs, event, "edit")
        if event.cancelled_at is not None:
            raise InvalidInput(
                f"**{event.title}** was cancelled meanwhile, so it can't be edited.\n{typed.typed_back()}"
            )
        config = await self.configs.get(event.guild_id)
        now = self.clock.now()

        async def refuse(reason: str) -> None:
            view = EditAgainView(self, event.id, prefilled, typed)
            await send_reply(interaction, f"{reason}\n{typed.typed_back()}", view=view)

        title = " ".join(typed.title.split())
        description = typed.description.strip()
        location = typed.location.strip()
        if not title:
            await refuse("The title can't be only spaces.")
            return
        for label, value, limit in (
            ("title", title, EVENT_TITLE.high),
            ("description", description, EVENT_DESCRIPTION.high),
            ("location", location, EVENT_LOCATION.high),
        ):
            if len(value) > limit:
                await refuse(f"The {label} is {len(value)} characters long; at most {limit} fit.")
                return
        try:
            starts_at, ends_at, notes = self._edited_window(event, prefilled, typed, config.timezone, now)
        except TimeRefused as refused:
            await refuse(refused.message)
            return
        if (title, description, location, starts_at, ends_at) == (
            event.title,
            event.description,
            event.location,
            event.starts_at,
            event.ends_at,
        ):
            await send_reply(interaction, f"Nothing to change: **{event.title}** already reads like that.")
            return
        # The notices below may take a while for a big event; the interaction must be answered in 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        updated = await self.events.update_details(
            event,
            actor_id=interaction.user.id,
            now=now,
            title=title,
            description=description,
            location=location,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        if updated is None:
            raise InvalidInput(f"**{event.title}** was cancelled meanwhile, so nothing was changed.")
        await self.refresh_post(updated.id)
        await self.plan_event_timers(updated)
        self.series_event_moved(updated)
        await self.mirror_scheduled_event(updated.id)
        text = f"Saved **{shorten(updated.title, 100)}**."
        moved = (starts_at, ends_at) != (event.starts_at, event.ends_at)
        if moved:
            count = await self.notify_expected(updated, self._moved_notice(event, updated), skip=interaction.user.id)
            text += (
                f" It now runs {discord_timestamp(starts_at, 'F')} – {discord_timestamp(ends_at, 'F')}. "
                f"Going and waitlisted members: {count.describe()}."
            )
        text += "".join(f"\nNote: {note}" for note in notes)
        await send_reply(interaction, text)
        what = "moved" if moved else "edited"
        await self.delivery.post_log(
            updated.guild_id,
            f"✏️ {interaction.user.mention} {what} event #{updated.id} **{shorten(updated.title, 80)}**.",
        )

    @staticmethod
    def _edited_window(
        event: Event, prefilled: EditForm, typed: EditForm, timezone: str, now: datetime
    ) -> tuple[datetime, datetime, tuple[str, ...]]:
        """The new start and end. A start left as it was is kept as it was, even when it has
        passed (an event under way keeps its start); a start typed anew is validated like at
        creation, so it can't be moved into the past. A changed end must still be ahead."""
        start_kept = same_text(typed.start, prefilled.start)
        if start_kept and same_text(typed.end, prefilled.end):
            return event.starts_at, event.ends_at, ()
        if not start_kept:
            window = parse_window(typed.start, typed.end, zone_name=timezone, now=now)
            return window.starts_at, window.ends_at, window.notes
        # Reading the kept start as of just before it lets parse_window read the end relative to it.
        before_start = min(now, event.starts_at - timedelta(minutes=1))
        window = parse_window(typed.start, typed.end, zone_name=timezone, now=before_start)
        if window.ends_at <= now:
            shown = " ".join(typed.end.split()).replace("`", "'")
            raise TimeRefused(
                f"I couldn't use `{shorten(shown, 100)}` as the end: that time has already passed. "
                "Type an end that is still ahead, like `21:00` or `2h`."
            )
        if window.ends_at <= event.starts_at:
            raise TimeRefused("The end must come after the start.")
        return event.starts_at, window.ends_at, window.notes

    @staticmethod
    def _moved_notice(before: Event, after: Event) -> str:
        link = event_link(after)
        where = f"\n{link}" if link else ""
        return (
            f"🕒 **{after.title}** has a new time: {discord_timestamp(after.starts_at, 'F')} – "
            f"{discord_timestamp(after.ends_at, 'F')} ({discord_timestamp(after.starts_at, 'R')}). "
            f"It was {discord_timestamp(before.starts_at, 'F')}.{where}"
        )

    async def notify_expected(self, event: Event, text: str, *, skip: int | None = None) -> NoticeCount:
        """One DM to each Going and waitlisted member (not the organizer acting), counted."""
        told = closed = failed = 0
        for user_id in await self.events.list_expected(event.id):
            if user_id == skip:
                continue
            sent = await self.delivery.dm(user_id, text)
            if sent.delivered:
                told += 1
            elif sent.outcome is Outcome.DMS_CLOSED:
                closed += 1
            else:
                failed += 1
                log.info("Notice for event %s to %s not delivered: %s", event.id, user_id, sent.explain())
        return NoticeCount(told, closed, failed)

    # ---- /event cancel -----------------------------------------------------------------

    @event_group.command(
        name="cancel",
        description="Cancel an event and tell the members who are going",
        extras={"audience": AUDIENCE_ORGANIZER},
    )
    @app_commands.describe(event="The event (start typing its title)")
    @app_commands.autocomplete(event=managed_event_autocomplete)
    @creator_or_staff("cancel")
    async def event_cancel(self, interaction: Interaction, event: int) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        if found.cancelled_at is None or await self.open_series(found) is None:
            # A cancelled occurrence of a running series still offers to end the series.
            self._ensure_cancellable(found)
        counts = await self.events.count_rsvps(found.id)
        expected = counts["going"] + counts["waitlist"]
        series = await self.open_series(found)
        if series is not None:
            await send_reply(
                interaction, self.series_question(found, series, expected), view=self.series_cancel_view(found)
            )
            return
        await send_reply(
            interaction,
            f"Cancel **{found.title}** ({discord_timestamp(found.starts_at, 'F')})? The post will show it cancelled "
            f"and {expected} going or waitlisted member{'s' if expected != 1 else ''} will get a DM. "
            "This can't be undone.",
            view=CancelConfirmView(self, found.id),
        )

    def _ensure_cancellable(self, event: Event) -> None:
        if event.cancelled_at is not None:
            raise InvalidInput(
                f"**{event.title}** is already cancelled (since {discord_timestamp(event.cancelled_at, 'f')})."
            )
        if event.status_at(self.clock.now()) == "ended":
            raise InvalidInput(f"**{event.title}** already ended {discord_timestamp(event.ends_at, 'R')}.")

    async def confirm_cancel(
        self,
        interaction: Interaction,
        event_id: int,
        *,
        before_cancel: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        """`before_cancel` (the whole series' end) runs once the checks passed; its text is added
        to the reply."""
        event = await find_event(self.events, interaction.guild_id, event_id)
        await ensure_may_manage(interaction, self.configs, event, "cancel")
        self._ensure_cancellable(event)
        await interaction.response.edit_message(content=f"Cancelling **{event.title}**…", view=None)
        extra = await before_cancel() if before_cancel is not None else ""
        if not await self.events.cancel(event, actor_id=interaction.user.id, now=self.clock.now()):
            await interaction.edit_original_response(content=f"**{event.title}** was already cancelled.{extra}")
            return
        await self.refresh_post(event.id)
        await self.drop_event_timers(event)
        await self.mirror_scheduled_event(event.id)
        notice = (
            f"❌ **{event.title}** ({discord_timestamp(event.starts_at, 'F')}) was cancelled by the organizers. "
            "You don't need to do anything."
        )
        count = await self.notify_expected(event, notice, skip=interaction.user.id)
        await interaction.edit_original_response(
            content=f"Cancelled **{event.title}**. Going and waitlisted members: {count.describe()}.{extra}"
        )
        await self.delivery.post_log(
            event.guild_id,
            f"❌ {interaction.user.mention} cancelled event #{event.id} **{shorten(event.title, 80)}**.",
        )

    # ---- /event rsvp -------------------------------------------------------------------

    @event_group.command(
        name="rsvp", description="Set a member's RSVP by hand", extras={"audience": AUDIENCE_ORGANIZER}
    )
    @app_commands.describe(
        event="The event (start typing its title)",
        member="The member whose answer to set",
        status="going, interested or not going",
        over_capacity="Seat them even when the event is full (default: full means the waitlist)",
    )
    @app_commands.choices(status=CHOSEN_STATUS_CHOICES)
    @app_commands.autocomplete(event=event_autocomplete)
    @staff_only()
    async def event_rsvp(
        self,
        interaction: Interaction,
        event: int,
        member: discord.User,
        status: app_commands.Choice[str],
        over_capacity: bool = False,
    ) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        if member.bot:
            raise InvalidInput(f"{member.mention} is a bot; bots don't RSVP. Nothing was changed.")
        # Typed User so that someone outside the server gets this sentence, not Discord's refusal.
        if not isinstance(member, discord.Member):
            raise InvalidInput(
                f"{member.mention} is not a member of this server, so they can't RSVP; nothing was changed."
            )
        if found.cancelled_at is not None:
            raise InvalidInput(f"**{found.title}** was cancelled, so it takes no RSVPs; nothing was changed.")
        if await self.slotted_rsvp(interaction, found, member, status.value):
            return
        now = self.clock.now()
        wanted = status.value
        current = await self.events.get_rsvp(found.id, member.id)
        seat_anyway = over_capacity and wanted == "going"
        unchanged = current is not None and (
            current.status == wanted or (wanted == "going" and current.status == "waitlist" and not seat_anyway)
        )
        if unchanged:
            assert current is not None
            raise InvalidInput(
                f"{member.mention} is already {STATUS_WORDS[current.status]} for **{found.title}**; "
                "nothing was changed."
            )
        if seat_anyway:
            change = await self.events.seat_over_capacity(found.id, member.id, now=now, set_by=interaction.user.id)
        else:
            change = await self.events.set_rsvp(
                found.id,
                member.id,
                wanted,
                now=now,
                set_by=interaction.user.id,  # type: ignore[arg-type]
            )
        if change.refused is not None:
            raise InvalidInput(f"**{found.title}** was cancelled, so it takes no RSVPs; nothing was changed.")
        await self.refresh_post(found.id)
        await send_reply(interaction, await self._rsvp_set_text(found, member, change))
        if change.promoted:
            await self._tell_promoted(found, change.promoted)
        await self.delivery.post_log(
            found.guild_id,
            f"✏️ {interaction.user.mention} set {member.mention} {STATUS_WORDS[change.after]} for event #{found.id} "
            f"(was {STATUS_WORDS.get(change.before or '', 'no answer')}).",
        )

    async def _rsvp_set_text(self, event: Event, member: discord.Member, change: RsvpChange) -> str:
        was = STATUS_WORDS.get(change.before or "", "no answer")
        text = f"{member.mention} is now **{STATUS_WORDS[change.after]}** for **{event.title}** (was {was})."
        counts = await self.events.count_rsvps(event.id)
        if change.after == "waitlist":
            position = await self.events.waitlist_position(event.id, member.id)
            text += (
                f" The event is full ({counts['going']}/{event.capacity}), so they are #{position} on the waitlist. "
                "Run it again with `over_capacity: True` to seat them anyway."
            )
        elif change.after == "going" and event.capacity is not None and counts["going"] > event.capacity:
            text += f" Seated over capacity: {counts['going']}/{event.capacity} going."
        if change.promoted:
            text += f" {self._mentions(change.promoted)} moved up from the waitlist and will get a DM."
        if event.role_id is not None and member.get_role(event.role_id) is None:
            text += f"\nNote: they don't have <@&{event.role_id}>, which this event asks for; set by hand anyway."
        return text

    @staticmethod
    def _mentions(user_ids: Sequence[int]) -> str:
        return ", ".join(f"<@{user_id}>" for user_id in user_ids)
