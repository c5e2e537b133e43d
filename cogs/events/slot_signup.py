"""Slot sign-up on events made from a preset: picking, switching and leaving a slot from the
post's select, a full slot's waitlist, Going / Interested / Not going on a slotted event, and the
organizer's `/event slot event member slot`.

Every decision is one storage call (storage/event_slots.py) deciding from committed rows; this
module checks who may ask (the event open for sign-ups, its role, the slot's role) and answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.checks import AUDIENCE_ORGANIZER, staff_autocomplete, staff_only
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.replies import send_reply
from bot.tree import RollcallView
from cogs.events.group import event_group
from cogs.events.listing import event_autocomplete, find_event
from cogs.events.slots import SlotSelect, SlotWaitButton
from storage.event_slots import LeftAs, SlotChange
from storage.events import Event
from storage.presets import Slot
from utils.slots import name_key
from utils.text import echo, shorten

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.delivery import Delivery
    from bot.types import Interaction
    from storage.event_slots import EventSlotRepository
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository


def _name(slot: Slot) -> str:
    return f"**{discord.utils.escape_markdown(slot.name)}**"


class EventSlotCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py); the core mixin provides the checks
    and the post refresh."""

    events: EventRepository
    event_slots: EventSlotRepository
    configs: GuildConfigRepository
    delivery: Delivery
    clock: Clock
    _event_for_member: Callable[[Interaction, int], Awaitable[Event]]
    ensure_open_for_signup: Callable[[Interaction, Event, datetime], None]
    schedule_refresh: Callable[[Event, datetime], None]
    refresh_post: Callable[[int], Awaitable[None]]
    _tell_promoted: Callable[[Event, tuple[int, ...]], Awaitable[None]]

    async def _slot_or_refuse(self, event: Event, position: int) -> Slot:
        slot = await self.event_slots.get_slot(event.id, position)
        if slot is None:
            raise NotFound(f"**{event.title}** has no such slot any more. Pick one from the post's menu.")
        return slot

    @staticmethod
    def _ensure_slot_role(interaction: Interaction, slot: Slot) -> None:
        if slot.role_id is None:
            return
        member = interaction.user
        if not isinstance(member, discord.Member) or member.get_role(slot.role_id) is None:
            raise NotAllowed(f"Only members with <@&{slot.role_id}> can take {_name(slot)}. Pick another slot.")

    async def _after_change(self, event: Event, change: SlotChange, now: datetime) -> None:
        if change.changed or change.promoted:
            self.schedule_refresh(event, now)
        if change.promoted:
            await self._tell_promoted(event, change.promoted)

    @staticmethod
    def _refused_cancelled(event: Event, change: SlotChange) -> None:
        if change.refused == "cancelled":
            raise NotAllowed(f"**{event.title}** was cancelled, so it takes no sign-ups.")
        if change.refused == "no_slot":
            raise NotFound(f"**{event.title}** has no such slot any more. Pick one from the post's menu.")

    # ---- the select and the waitlist button ----------------------------------------------

    async def slot_pick(self, interaction: Interaction, event_id: int, position: int | None) -> None:
        event = await self._event_for_member(interaction, event_id)
        now = self.clock.now()
        self.ensure_open_for_signup(interaction, event, now)
        if position is None:
            await self.slot_leave(interaction, event, "not_going")
            return
        slot = await self._slot_or_refuse(event, position)
        self._ensure_slot_role(interaction, slot)
        change = await self.event_slots.take(event.id, interaction.user.id, position, now=now)
        self._refused_cancelled(event, change)
        if change.refused == "full":
            await self._offer_waitlist(interaction, event, slot, change)
            return
        await send_reply(interaction, await self._taken_text(event, slot, change))
        await self._after_change(event, change, now)

    async def _offer_waitlist(self, interaction: Interaction, event: Event, slot: Slot, change: SlotChange) -> None:
        if change.queue_position is not None:
            await send_reply(
                interaction,
                f"{_name(slot)} is still full: you're #{change.queue_position} on its waitlist for "
                f"**{event.title}**. I'll DM you when a seat frees up.",
            )
            return
        held = change.before if change.before is not None else None
        text = f"{_name(slot)} is full ({slot.seats}/{slot.seats}) for **{event.title}**."
        label = f"Wait for a {shorten(slot.name, 40)} seat"
        if held is not None and held.status == "seated":
            current = await self.event_slots.get_slot(event.id, held.position)
            held_name = current.name if current else "your slot"
            text += (
                f" You keep your **{discord.utils.escape_markdown(held_name)}** seat, or join the waitlist below: "
                "that gives your seat up."
            )
            label = f"Leave {shorten(held_name, 25)}, wait for {shorten(slot.name, 25)}"
        else:
            text += " Join its waitlist below: seats go in order as they free up, and I'll DM you."
        view = RollcallView(timeout=None)
        view.add_item(SlotWaitButton(event.id, slot.position, label=label))
        await send_reply(interaction, text, view=view)

    async def slot_wait(self, interaction: Interaction, event_id: int, position: int) -> None:
        event = await self._event_for_member(interaction, event_id)
        now = self.clock.now()
        self.ensure_open_for_signup(interaction, event, now)
        slot = await self._slot_or_refuse(event, position)
        self._ensure_slot_role(interaction, slot)
        change = await self.event_slots.wait(event.id, interaction.user.id, position, now=now)
        self._refused_cancelled(event, change)
        if change.after_status == "seated":
            text = await self._taken_text(event, slot, change)
        else:
            text = (
                f"You're #{change.queue_position} on the {_name(slot)} waitlist for **{event.title}**. "
                "I'll DM you when a seat frees up."
            )
        await send_reply(interaction, text)
        await self._after_change(event, change, now)

    async def _taken_text(self, event: Event, slot: Slot, change: SlotChange) -> str:
        before = change.before
        if before is not None and before.position == slot.position and before.status == "seated":
            return f"You're already in {_name(slot)} for **{event.title}**. Pick another slot to switch."
        if before is not None and before.position != slot.position:
            old = await self.event_slots.get_slot(event.id, before.position)
            was = f"**{discord.utils.escape_markdown(old.name)}**" if old else "your old slot"
            verb = "left the waitlist of" if before.status == "waitlist" else "gave up"
            return f"✅ Switched: you're now {_name(slot)} for **{event.title}** (you {verb} {was})."
        return f"✅ You're going to **{event.title}** as {_name(slot)}."

    # ---- the RSVP buttons on a slotted event ---------------------------------------------

    async def ask_for_slot(self, interaction: Interaction, event: Event) -> None:
        """Going on a slotted event: the slot is the answer, so offer the slots."""
        board = await self.event_slots.board(event.id)
        mine = await self.event_slots.get_signup(event.id, interaction.user.id)
        if mine is not None:
            slot = next((view.slot for view in board if view.slot.position == mine.position), None)
            held = _name(slot) if slot else "a slot"
            where = "going as" if mine.status == "seated" else "on the waitlist of"
            text = f"You're {where} {held} for **{event.title}**. Pick another slot below to switch."
        else:
            text = f"**{event.title}** has slots: pick yours below to be going."
        view = RollcallView(timeout=None)
        view.add_item(SlotSelect(event.id, board))
        await send_reply(interaction, text, view=view)

    async def slot_leave(
        self, interaction: Interaction, event: Event, answer: LeftAs, *, set_by: discord.Member | None = None
    ) -> SlotChange:
        """Interested, Not going or "Leave my slot" on a slotted event: the seat (or the place on
        a waitlist) is given up in the same transaction as the new answer."""
        now = self.clock.now()
        user_id = interaction.user.id if set_by is None else set_by.id
        actor = interaction.user.id if set_by is not None else None
        change = await self.event_slots.leave(event.id, user_id, answer, now=now, set_by=actor)
        self._refused_cancelled(event, change)
        if set_by is None:
            left = ""
            if change.before is not None:
                slot = await self.event_slots.get_slot(event.id, change.before.position)
                what = "the waitlist of " if change.before.status == "waitlist" else ""
                left = f"You left {what}{_name(slot) if slot else 'your slot'}. "
            state = "⭐ Interested in" if answer == "interested" else "You're not going to"
            await send_reply(interaction, f"{left}{state} **{event.title}**.")
        if change.before is not None or change.rsvp_before != answer:
            self.schedule_refresh(event, now)
        if change.promoted:
            await self._tell_promoted(event, change.promoted)
        return change

    async def slotted_rsvp(self, interaction: Interaction, event: Event, member: discord.Member, wanted: str) -> bool:
        """`/event rsvp` on a slotted event: Going needs a slot (`/event slot`), the other answers
        give up the member's slot. False when the event has no slots."""
        if not await self.event_slots.has_slots(event.id):
            return False
        if wanted not in ("interested", "not_going"):
            raise InvalidInput(
                f"**{event.title}** has slots, so going means holding one: put {member.mention} in a slot with "
                "`/event slot`. Nothing was changed."
            )
        change = await self.slot_leave(interaction, event, wanted, set_by=member)  # type: ignore[arg-type]
        was = "no slot"
        if change.before is not None:
            slot = await self.event_slots.get_slot(event.id, change.before.position)
            was = f"{_name(slot)}" if slot else "a slot"
        words = "interested" if wanted == "interested" else "not going"
        text = f"{member.mention} is now **{words}** for **{event.title}** (had {was})."
        if change.promoted:
            text += " " + ", ".join(f"<@{user_id}>" for user_id in change.promoted) + " moved up and will get a DM."
        await send_reply(interaction, text)
        await self.delivery.post_log(
            event.guild_id,
            f"✏️ {interaction.user.mention} set {member.mention} {words} for event #{event.id} (had {was}).",
        )
        return True

    # ---- /event slot ---------------------------------------------------------------------

    @staff_autocomplete
    async def event_slot_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        """The slots of the event chosen in the `event` option, with their seats taken."""
        event_id = getattr(interaction.namespace, "event", None)
        if not isinstance(event_id, int) or interaction.guild_id is None:
            return []
        event = await self.events.get_in_guild(interaction.guild_id, event_id)
        if event is None:
            return []
        wanted = name_key(current)
        return [
            app_commands.Choice(
                name=shorten(f"{view.slot.name} ({len(view.seated)}/{view.slot.seats})", 100),
                value=view.slot.position,
            )
            for view in await self.event_slots.board(event.id)
            if wanted in name_key(view.slot.name)
        ][:25]

    @event_group.command(
        name="slot",
        description="Put a member in a slot of an event, or move them",
        extras={"audience": AUDIENCE_ORGANIZER},
    )
    @app_commands.describe(
        event="The event (start typing its title)",
        member="The member to place",
        slot="The slot (pick from the list once the event is chosen)",
    )
    @app_commands.autocomplete(event=event_autocomplete, slot=event_slot_autocomplete)
    @staff_only()
    async def event_slot(self, interaction: Interaction, event: int, member: discord.User, slot: int) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        if member.bot:
            raise InvalidInput(f"{member.mention} is a bot; bots don't take slots. Nothing was changed.")
        if not isinstance(member, discord.Member):
            raise InvalidInput(f"{member.mention} is not a member of this server; nothing was changed.")
        if found.cancelled_at is not None:
            raise InvalidInput(f"**{found.title}** was cancelled; nothing was changed.")
        if not await self.event_slots.has_slots(found.id):
            raise InvalidInput(
                f"**{found.title}** has no slots (it wasn't made from a preset); use `/event rsvp`. "
                "Nothing was changed."
            )
        chosen = await self.event_slots.get_slot(found.id, slot)
        if chosen is None:
            raise InvalidInput(
                f"**{found.title}** has no slot `{echo(slot)}`. Pick one from the `slot` list. Nothing was changed."
            )
        change = await self.event_slots.take(
            found.id, member.id, slot, now=self.clock.now(), set_by=interaction.user.id
        )
        self._refused_cancelled(found, change)
        if change.refused == "full":
            raise InvalidInput(
                f"{_name(chosen)} is full ({chosen.seats}/{chosen.seats}): move someone out of it first. "
                "Nothing was changed."
            )
        if not change.changed:
            raise InvalidInput(f"{member.mention} is already in {_name(chosen)}; nothing was changed.")
        await self.refresh_post(found.id)
        was = "no slot"
        if change.before is not None:
            old = await self.event_slots.get_slot(found.id, change.before.position)
            was = _name(old) if old else "a slot"
            if change.before.status == "waitlist":
                was = f"the waitlist of {was}"
        text = f"{member.mention} is now in {_name(chosen)} for **{found.title}** (was {was})."
        if change.promoted:
            text += " " + ", ".join(f"<@{user_id}>" for user_id in change.promoted) + " moved up and will get a DM."
        if chosen.role_id is not None and member.get_role(chosen.role_id) is None:
            text += f"\nNote: they don't have <@&{chosen.role_id}>, which this slot asks for; placed by hand anyway."
        await send_reply(interaction, text)
        if change.promoted:
            await self._tell_promoted(found, change.promoted)
        await self.delivery.post_log(
            found.guild_id,
            f"✏️ {interaction.user.mention} put {member.mention} in slot {shorten(chosen.name, 40)} "
            f"of event #{found.id} (was {was}).",
        )
