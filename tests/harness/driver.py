"""The driver: `Harness` feeds payloads to discord.py's own
`ConnectionState.parse_interaction_create` and waits for what the bot does with them."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Any

import discord
import discord.ext.test as dpytest
from discord.ext.test import backend as dpy_backend
from discord.ext.test import factories as dpy_factories

from tests.harness import private
from tests.harness.payloads import InteractionPayloads, OptionValue
from tests.harness.sent import Choice, InteractionResult, JsonObject, Sent
from tests.harness.submits import SelectValue
from tests.harness.waits import IDLE_TIMEOUT_SECONDS, until_idle
from tests.harness.world import UserSpec, add_member


class Harness(InteractionPayloads):
    """One running bot in the fake Discord: send it interactions and gateway events, and wait
    for what it does with them."""

    def add_member(self, name: str, *, roles: tuple[str, ...] = (), display_name: str | None = None) -> discord.Member:
        spec = UserSpec(name, self.discord.next_id(), roles, display_name)
        return add_member(private.connection_state(self.bot), self.guild, spec)

    def set_channel_overwrite(
        self,
        channel: discord.TextChannel,
        target: discord.Role | discord.Member,
        overwrite: discord.PermissionOverwrite,
    ) -> None:
        """What an admin editing a channel's permissions does (a CHANNEL_UPDATE from the gateway).
        dpytest's own helper writes the overwrite type as text, which discord.py 2 ignores."""
        data = dpy_factories.dict_from_channel(channel)
        kept = [
            {"id": str(target_id), "type": target_type, "allow": str(allowed), "deny": str(denied)}
            for target_id, target_type, allowed, denied in private.channel_overwrites(channel)
            if target_id != target.id
        ]
        allow, deny = overwrite.pair()
        kind = 0 if isinstance(target, discord.Role) else 1
        kept.append({"id": str(target.id), "type": kind, "allow": str(allow.value), "deny": str(deny.value)})
        data["permission_overwrites"] = kept
        private.parse_channel_update(private.connection_state(self.bot), data)

    async def member_join(self, name: str) -> discord.Member:
        """A member joining, through the gateway event (dpytest), so on_member_join runs."""
        user = dpy_backend.make_user(name, "0001", id_num=self.discord.next_id())
        member = await dpytest.member_join(self.guild, user)
        await self.idle()
        return member

    # ---- dispatch -----------------------------------------------------------------------

    def dispatch_nowait(self, payload: JsonObject) -> None:
        """Discord creates the interaction now, on the bot's injected clock: its 3-second and
        15-minute deadlines count from here."""
        self.discord.ledger.dispatched(int(payload["id"]), getattr(self.bot, "clock", None))
        private.parse_interaction_create(private.connection_state(self.bot), payload)

    async def dispatch(self, payload: JsonObject) -> InteractionResult:
        mark = len(self.discord.sent)
        before = asyncio.all_tasks()
        self.dispatch_nowait(payload)
        await self.idle(exclude=before)
        return InteractionResult(int(payload["id"]), self.discord.since(mark))

    async def idle(self, exclude: Collection[asyncio.Task[Any]] = (), *, timeout: float = IDLE_TIMEOUT_SECONDS) -> None:
        """Wait until the bot has finished everything it started: discord.py's event and
        interaction tasks, the bot's own (a group commit flush) and running scheduler jobs.
        `exclude` names tasks that were running before and are not waited for; a task still
        pending after `timeout` fails the test with its name and where it waits."""
        await until_idle(exclude, timeout=timeout)

    # Tests written before `idle` existed call it by this name.
    settle = idle

    async def command(
        self,
        qualified_name: str,
        *,
        user: discord.Member | str,
        channel: discord.abc.GuildChannel | str | None = None,
        options: dict[str, OptionValue | None] | None = None,
        **more_options: OptionValue | None,
    ) -> InteractionResult:
        """Run a slash command. Options go as keywords; `options=` carries names that clash with
        the harness's own (an option called `channel` or `user`)."""
        user = self.member(user) if isinstance(user, str) else user
        channel = self.channel(channel) if isinstance(channel, str) else channel
        merged = {**(options or {}), **more_options}
        return await self.dispatch(self.command_payload(qualified_name, user=user, channel=channel, options=merged))

    async def autocomplete(
        self,
        qualified_name: str,
        focused: str,
        *,
        user: discord.Member | str,
        channel: discord.abc.GuildChannel | str | None = None,
        options: dict[str, OptionValue | None] | None = None,
        **more_options: OptionValue | None,
    ) -> list[Choice]:
        user = self.member(user) if isinstance(user, str) else user
        channel = self.channel(channel) if isinstance(channel, str) else channel
        merged = {**(options or {}), **more_options}
        payload = self.command_payload(qualified_name, user=user, channel=channel, focused=focused, options=merged)
        return (await self.dispatch(payload)).choices

    async def click(
        self, message: JsonObject | Sent, custom_id: str, *, user: discord.Member | str
    ) -> InteractionResult:
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(self.component_payload(message, custom_id, user=user))

    async def select(
        self,
        message: JsonObject | Sent,
        custom_id: str,
        values: Sequence[SelectValue],
        *,
        user: discord.Member | str,
    ) -> InteractionResult:
        """Choose in a select: a string select's option values, or the members, roles and
        channels a user, role, mentionable or channel select offers."""
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(self.component_payload(message, custom_id, user=user, values=values))

    async def submit_modal(
        self,
        modal: JsonObject,
        values: dict[str, str],
        *,
        user: discord.Member | str,
        channel: discord.abc.GuildChannel | str | None = None,
    ) -> InteractionResult:
        user = self.member(user) if isinstance(user, str) else user
        channel = self.channel(channel) if isinstance(channel, str) else channel
        return await self.dispatch(self.modal_payload(modal, values, user=user, channel=channel))

    async def dm_command(self, qualified_name: str, *, user: discord.Member | str) -> InteractionResult:
        """Run a slash command in the member's DM with the bot."""
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(self.dm_command_payload(qualified_name, user=user))
