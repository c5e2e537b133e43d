"""The driver: `Harness` feeds payloads to discord.py's own
`ConnectionState.parse_interaction_create` and waits for what the bot does with them."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext.test import factories as dpy_factories

from tests.harness import gateway, private, voice
from tests.harness.payloads import InteractionPayloads, OptionValue
from tests.harness.sent import Choice, InteractionResult, JsonObject, Sent
from tests.harness.submits import SelectValue
from tests.harness.waits import IDLE_TIMEOUT_SECONDS, until_idle
from tests.harness.world import UserSpec


class Harness(InteractionPayloads):
    """One running bot in the fake Discord: send it interactions and gateway events, and wait
    for what it does with them."""

    def add_member(
        self, name: str, *, roles: tuple[str, ...] = (), display_name: str | None = None, bot: bool = False
    ) -> discord.Member:
        """A member who has been in the server all along: in the world (a restart meets them
        again) and in the bot's cache, with no join event."""
        spec = UserSpec(name, self.discord.next_id(), roles, display_name, bot=bot)
        return gateway.add_member(private.connection_state(self.bot), self.discord.world, spec)

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

    async def member_join(self, name: str, *, roles: tuple[str, ...] = ()) -> discord.Member:
        """A member joining now: GUILD_MEMBER_ADD through discord.py's parser, so on_member_join
        runs. A bot without the members intent would never hear of it, so that fails the test."""
        gateway.require_intent(self.bot.intents, "GUILD_MEMBER_ADD")
        spec = UserSpec(name, self.discord.next_id(), roles, joined_at=datetime.now(UTC))
        self.discord.world.join(spec)
        member = gateway.member_add(private.connection_state(self.bot), self.discord.world, spec, dispatch=True)
        await self.idle()
        return member

    async def member_leave(self, member: discord.Member) -> None:
        """A member leaving the server of their own accord (GUILD_MEMBER_REMOVE)."""
        spec = self.discord.world.member(member.id)
        assert spec is not None, f"{member} is not in the server"
        self.discord.world.leave(member.id)
        gateway.member_remove(private.connection_state(self.bot), spec)
        await self.idle()

    # ---- voice (tests/harness/voice.py) ---------------------------------------------------

    def _voice_member(self, who: discord.abc.Snowflake | str) -> UserSpec:
        world = self.discord.world
        spec = world.user_named(who) if isinstance(who, str) else world.member(who.id)
        assert spec is not None, f"{who} is not in the server"
        return spec

    async def voice_join(
        self, who: discord.abc.Snowflake | str, channel: discord.abc.Snowflake | str, *, speaker: bool = False
    ) -> None:
        """A member joins a voice or stage channel, or is moved into it from another (by themself
        or a moderator: the same one event). On a stage they are audience unless `speaker`."""
        state = private.connection_state(self.bot)
        voice.set_voice_state(state, self.discord.world, self._voice_member(who), channel, speaker=speaker)
        await self.idle()

    async def voice_leave(self, who: discord.abc.Snowflake | str) -> None:
        """A member leaves voice altogether (or is disconnected by a moderator)."""
        voice.set_voice_state(private.connection_state(self.bot), self.discord.world, self._voice_member(who), None)
        await self.idle()

    def voice_seed(
        self, who: discord.abc.Snowflake | str, channel: discord.abc.Snowflake | str, *, speaker: bool = False
    ) -> None:
        """A member who sat in `channel` before the bot looked: world and cache, no event."""
        state = private.connection_state(self.bot)
        voice.set_voice_state(
            state, self.discord.world, self._voice_member(who), channel, speaker=speaker, dispatch=False
        )

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

    async def dm_click(
        self, message: JsonObject | Sent, custom_id: str, *, user: discord.Member | str
    ) -> InteractionResult:
        """Click a button on a message the bot sent the member by DM."""
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(self.dm_component_payload(message, custom_id, user=user))

    async def dm_submit_modal(
        self, modal: JsonObject, values: dict[str, str], *, user: discord.Member | str
    ) -> InteractionResult:
        """Submit a modal the bot opened in the member's DM."""
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(self.dm_modal_payload(modal, values, user=user))
