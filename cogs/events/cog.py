"""The Events cog's core: the RSVP clicks, /event attend, and the coalesced refresh of event
posts (a click only marks the post stale; one scheduled job per event re-renders it from rows at
most every `REFRESH_GAP`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.delivery import Outcome, Result, Target
from bot.errors import NotAllowed, NotFound
from bot.replies import send_reply
from bot.tracked_post import TrackedPost
from bot.types import Interaction
from cogs.events.group import event_group
from cogs.events.listing import EventListCommands, find_event
from cogs.events.post import post_view, render_post
from storage.events import Event, RsvpChange, RsvpStatus
from utils.text import shorten
from utils.timefmt import discord_timestamp

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.delivery import Delivery
    from bot.scheduler import JobScheduler
    from bot.tracked_post import TrackedPosts
    from storage.event_reviews import ReviewRepository
    from storage.event_slots import EventSlotRepository, LeftAs
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository

log = logging.getLogger(__name__)

REFRESH_JOB = "events.refresh_post"
# At most one edit of a post per this gap, however many clicks come in (Discord rate-limits edits).
REFRESH_GAP = timedelta(seconds=2)
# After a network failure the post is tried again this much later.
REFRESH_RETRY = timedelta(seconds=30)


class EventCoreCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py); the cog's constructor sets these."""

    bot: Rollcall
    events: EventRepository
    configs: GuildConfigRepository
    delivery: Delivery
    tracked_posts: TrackedPosts
    jobs: JobScheduler
    clock: Clock
    event_reviews: ReviewRepository
    event_slots: EventSlotRepository
    # From the slot mixin (cogs/events/slot_signup.py).
    ask_for_slot: Callable[[Interaction, Event], Awaitable[None]]
    slot_leave: Callable[..., Awaitable[object]]

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
