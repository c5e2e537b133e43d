"""The verification gate: what happens when a member joins, verifies, leaves or runs out of time.

Verification is on in a server once a member role is set (`/config set member_role`). A member
who joins then gets a deadline row (the guild's timeout) and a DM with the Verify button; a
member whose DMs are closed uses the verification channel's panel or `/verify me`. The kick job
(`verification.kick:<deadline id>`) re-reads its row, claims it, DMs the member why and how to
come back, then kicks: a restart re-schedules every row, and a claimed row is not kicked twice.
Members who were in the server before are never given a deadline unless an admin runs
`/verify enforce_existing`. Nothing here logs an e-mail address or a token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.delivery import TRANSIENT_ERRORS, Outcome, Result, Target
from bot.errors import NotAllowed, NotFound, permission_label
from bot.replies import send_reply
from bot.tracked_post import TrackedPost
from cogs.verification.views import VerifyModal, panel_embed, prompt_text, verify_view
from storage.verification import Attempt, AttemptResult, VerificationRepository
from storage.verification import Outcome as AttemptOutcome
from utils.roster import normalize_email
from utils.timefmt import discord_timestamp
from utils.tokens import token_digest

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.delivery import Delivery
    from bot.scheduler import JobScheduler
    from bot.tracked_post import TrackedPosts
    from bot.types import Interaction
    from storage.guild_config import GuildConfig, GuildConfigRepository

log = logging.getLogger(__name__)

KICK_JOB = "verification.kick"
PANEL_JOB = "verification.panel"
# One kick attempt may take this long before another run may take the row over.
CLAIM = timedelta(minutes=2)
# A kick Discord refused (a missing permission) is tried again this much later.
KICK_RETRY = timedelta(hours=1)
# A kick that failed on the network is tried again this much later.
KICK_NETWORK_RETRY = timedelta(minutes=1)

PERMISSION_FIXES = {
    "manage_roles": (
        f"I'm missing **{permission_label('manage_roles')}**, so I can't give the member role. "
        "Fix: Server Settings → Roles → my role → enable Manage Roles."
    ),
    "kick_members": (
        f"I'm missing **{permission_label('kick_members')}**, so I can't remove members who don't verify in time. "
        "Fix: Server Settings → Roles → my role → enable Kick Members."
    ),
    "member_role_above": (
        "The member role is at or above my highest role, so I can't give it. "
        "Fix: Server Settings → Roles → drag my role above the member role."
    ),
    "member_role_missing": (
        "The member role set with `/config set member_role` no longer exists. Fix: set another one."
    ),
}


def permission_problems(guild: discord.Guild, config: GuildConfig) -> list[str]:
    me = guild.me
    granted = me.guild_permissions
    problems = [name for name in ("manage_roles", "kick_members") if not getattr(granted, name)]
    role = guild.get_role(config.member_role_id or 0)
    if role is None:
        problems.append("member_role_missing")
    elif role >= me.top_role:
        problems.append("member_role_above")
    return problems


def attempt_message(result: AttemptResult, guild: discord.Guild, role_name: str) -> str:
    outcome = result.outcome
    if outcome is AttemptOutcome.VERIFIED:
        return f"✅ You're verified in **{guild.name}**: you now have the **{role_name}** role. Welcome!"
    if outcome is AttemptOutcome.USED:
        when = discord_timestamp(result.when, "R") if result.when else "before"
        return (
            f"You already verified with this token {when}, so there is nothing more to do: "
            f"you have the **{role_name}** role in **{guild.name}**."
        )
    if outcome is AttemptOutcome.WRONG:
        return (
            "❌ That e-mail address and token don't match the roster. Check both against the message you were "
            "sent (the token looks like `ABCD-EFGH-JKMN-PQRS`) and try again. After 5 failed tries you have to "
            "wait 15 minutes."
        )
    if outcome is AttemptOutcome.EXPIRED:
        when = discord_timestamp(result.when, "R") if result.when else "already"
        return (
            f"⌛ Your token expired {when}. Ask a server admin for a new one (they can send it with `/verify refresh`)."
        )
    if outcome is AttemptOutcome.OTHER_MEMBER:
        return (
            "⛔ That roster entry belongs to another Discord account, so I can't link it to you. If that's a mistake, "
            "ask a server admin."
        )
    when = discord_timestamp(result.when, "R") if result.when else "in 15 minutes"
    return f"🔒 Too many failed attempts. You can try again {when}."


def kick_text(guild: discord.Guild, timeout_minutes: int) -> str:
    return (
        f"You were removed from **{guild.name}** because you did not verify within {timeout_minutes} minutes of "
        "joining. You're welcome back: rejoin with an invite link, then press **Verify** in my message (or in the "
        "server's verification channel, or type `/verify me`) and enter your e-mail address and token. If your "
        "token expired or got lost, ask the server's admins for a new one."
    )


class Gatekeeper:
    def __init__(
        self,
        client: discord.Client,
        repo: VerificationRepository,
        configs: GuildConfigRepository,
        delivery: Delivery,
        tracked_posts: TrackedPosts,
        jobs: JobScheduler,
        clock: Clock,
    ) -> None:
        self.client = client
        self.repo = repo
        self.configs = configs
        self.delivery = delivery
        self.tracked_posts = tracked_posts
        self.jobs = jobs
        self.clock = clock
        jobs.register(KICK_JOB, self.kick_when_due)
        jobs.register(PANEL_JOB, self.refresh_panel_job)

    async def reconcile(self) -> None:
        """At start-up: every deadline gets its job back (overdue ones run as soon as the gateway
        is ready), and every panel is checked, so one deleted while the bot was down comes back."""
        for deadline in await self.repo.list_deadlines():
            wake = max(deadline.due_at, deadline.claimed_until or deadline.due_at)
            self.jobs.schedule_at(KICK_JOB, deadline.id, wake)
        now = self.clock.now()
        for state in await self.repo.panels():
            self.jobs.schedule_at(PANEL_JOB, state.guild_id, now)

    # ---- joins and leaves --------------------------------------------------------------

    async def member_joined(self, member: discord.Member) -> None:
        if member.bot:
            return
        guild = member.guild
        config = await self.configs.get(guild.id)
        if config.member_role_id is None:
            return
        await self.report_permissions(guild, config)
        if await self.repo.get_verified(guild.id, member.id) is not None:
            # Verified before and came back: no new token needed.
            await self._give_role(member, config, reason="Verified before leaving; rejoined")
            await self.delivery.dm(member.id, f"Welcome back to **{guild.name}**: you're still verified.")
            log.info("Member %s rejoined guild %s and was verified before", member.id, guild.id)
            return
        await self.add_deadlines(guild, config, [member])

    async def add_deadlines(self, guild: discord.Guild, config: GuildConfig, members: Sequence[discord.Member]) -> int:
        """Deadlines for `members` and the DM with the Verify button; returns how many DMs were closed."""
        now = self.clock.now()
        due_at = now + timedelta(minutes=config.verification_timeout_minutes)
        closed = 0
        for member in members:
            deadline = await self.repo.add_deadline(guild.id, member.id, due_at=due_at, now=now)
            self.jobs.schedule_at(KICK_JOB, deadline.id, deadline.due_at)
            sent = await self.delivery.send(
                Target.dm(member.id), prompt_text(guild, deadline.due_at), view=verify_view(guild.id)
            )
            if sent.outcome is Outcome.DMS_CLOSED:
                closed += 1
            log.info(
                "Member %s of guild %s must verify by %s (deadline %s; DM %s)",
                member.id,
                guild.id,
                deadline.due_at.isoformat(),
                deadline.id,
                sent.outcome,
            )
        if closed:
            # The panel is how these members verify: make sure it is there (posted again if deleted).
            await self.refresh_panel(guild.id)
        return closed

    async def member_left(self, guild_id: int, user_id: int) -> None:
        deadline_id = await self.repo.remove_deadline(guild_id, user_id)
        if deadline_id is not None:
            self.jobs.cancel(KICK_JOB, deadline_id)
            log.info("Member %s left guild %s before verifying; deadline %s dropped", user_id, guild_id, deadline_id)

    # ---- the kick at the deadline -------------------------------------------------------

    async def kick_when_due(self, deadline_id: int, now: datetime) -> None:
        deadline = await self.repo.get_deadline(deadline_id)
        if deadline is None:
            return
        if deadline.due_at > now:
            self.jobs.schedule_at(KICK_JOB, deadline.id, deadline.due_at)
            return
        claimed = await self.repo.claim_deadline(deadline_id, now=now, until=now + CLAIM)
        if claimed is None:
            if deadline.claimed_until is not None:
                self.jobs.schedule_at(KICK_JOB, deadline.id, deadline.claimed_until)
            return
        # Should this run die with the process, the job wakes again when the claim runs out.
        self.jobs.schedule_at(KICK_JOB, deadline.id, now + CLAIM)
        guild = self.client.get_guild(claimed.guild_id)
        member = guild.get_member(claimed.user_id) if guild else None
        if guild is None or member is None:
            await self._finish(claimed.id)
            return
        config = await self.configs.get(guild.id)
        if config.member_role_id is not None and member.get_role(config.member_role_id) is not None:
            # Given the role by hand meanwhile: nothing to enforce.
            await self._finish(claimed.id)
            return
        if not guild.me.guild_permissions.kick_members:
            await self.report_permissions(guild, config)
            await self.repo.postpone_deadline(claimed.id, due_at=now + KICK_RETRY)
            self.jobs.schedule_at(KICK_JOB, claimed.id, now + KICK_RETRY)
            return
        if member.id == guild.owner_id or member.top_role >= guild.me.top_role:
            log.info("Member %s of guild %s is above my role; not removing them", member.id, guild.id)
            await self._finish(claimed.id)
            return
        told = await self.delivery.dm(member.id, kick_text(guild, config.verification_timeout_minutes))
        try:
            await member.kick(reason=f"Did not verify within {config.verification_timeout_minutes} minutes")
        except discord.NotFound:
            pass
        except discord.Forbidden:
            await self.report_permissions(guild, config)
            await self.repo.postpone_deadline(claimed.id, due_at=now + KICK_RETRY)
            self.jobs.schedule_at(KICK_JOB, claimed.id, now + KICK_RETRY)
            return
        except TRANSIENT_ERRORS as error:
            log.warning("Kicking member %s of guild %s failed for now (%s); retrying", member.id, guild.id, error)
            await self.repo.postpone_deadline(claimed.id, due_at=now + KICK_NETWORK_RETRY)
            self.jobs.schedule_at(KICK_JOB, claimed.id, now + KICK_NETWORK_RETRY)
            return
        await self._finish(claimed.id)
        log.info(
            "Removed member %s from guild %s: not verified by the deadline (told by DM: %s)",
            member.id,
            guild.id,
            told.outcome,
        )

    async def _finish(self, deadline_id: int) -> None:
        await self.repo.finish_deadline(deadline_id)
        self.jobs.cancel(KICK_JOB, deadline_id)

    # ---- the modal ------------------------------------------------------------------------

    async def open_modal(self, interaction: Interaction, guild_id: int) -> None:
        if interaction.guild_id is not None and interaction.guild_id != guild_id:
            raise NotFound("This Verify button belongs to another server.")
        guild = self.client.get_guild(guild_id)
        if guild is None:
            raise NotFound("I'm no longer in that server, so there is nothing to verify for.")
        member = guild.get_member(interaction.user.id)
        if member is None:
            raise NotAllowed(
                f"You're not a member of **{guild.name}** any more. Rejoin it with an invite link, then verify."
            )
        config = await self.configs.get(guild.id)
        if config.member_role_id is None:
            raise NotAllowed(f"Verification isn't set up in **{guild.name}** yet. Ask a server admin.")
        if member.get_role(config.member_role_id) is not None:
            await send_reply(interaction, f"You're already verified in **{guild.name}**.")
            return
        locked_until = await self.repo.lockout_until(guild.id, member.id, self.clock.now())
        if locked_until is not None:
            await send_reply(
                interaction, f"🔒 Too many failed attempts. You can try again {discord_timestamp(locked_until, 'R')}."
            )
            return
        await interaction.response.send_modal(VerifyModal(guild.id, guild.name, interaction.id))

    async def submit(self, interaction: Interaction, guild_id: int, email: str, token: str) -> None:
        guild = self.client.get_guild(guild_id)
        if guild is None:
            raise NotFound("I'm no longer in that server, so there is nothing to verify for.")
        member = guild.get_member(interaction.user.id)
        if member is None:
            raise NotAllowed(
                f"You're not a member of **{guild.name}** any more. Rejoin it with an invite link, then verify."
            )
        config = await self.configs.get(guild.id)
        if config.member_role_id is None:
            raise NotAllowed(f"Verification isn't set up in **{guild.name}** yet. Ask a server admin.")
        key = await self.repo.token_key()
        attempt = Attempt(
            attempt_id=interaction.id,
            guild_id=guild.id,
            user_id=member.id,
            user_name=member.name,
            email=normalize_email(email),
            digest=token_digest(key, guild.id, token),
            now=self.clock.now(),
        )
        result = await self.repo.attempt(attempt)
        role = guild.get_role(config.member_role_id)
        role_name = role.name if role else "member"
        if result.outcome not in (AttemptOutcome.VERIFIED, AttemptOutcome.USED):
            log.info("Verification attempt by member %s in guild %s failed: %s", member.id, guild.id, result.outcome)
            await send_reply(interaction, attempt_message(result, guild, role_name))
            return
        log.info("Member %s verified in guild %s (%s)", member.id, guild.id, result.outcome)
        not_given = (
            f"✅ You're verified in **{guild.name}**, but I couldn't give you the **{role_name}** role. "
            "The server's admins have been told how to fix it; you'll get it then."
        )
        if role is None or not self._can_give(guild, role):
            await self.report_permissions(guild, config)
            await send_reply(interaction, not_given)
            return
        # The commit is the verification; the answer goes first so a burst of members is not
        # kept waiting on Discord's role endpoint, and a refusal there is told as a follow-up.
        await send_reply(interaction, attempt_message(result, guild, role_name))
        # Members verified in the same commit get their answers before anyone's role call.
        await asyncio.sleep(0)
        if not await self._give_role(member, config, reason="Verified with a roster token"):
            await send_reply(interaction, not_given)

    @staticmethod
    def _can_give(guild: discord.Guild, role: discord.Role) -> bool:
        return guild.me.guild_permissions.manage_roles and role < guild.me.top_role

    async def force(self, guild: discord.Guild, member: discord.Member, config: GuildConfig, actor_id: int) -> bool:
        """Verified by an admin's word; returns whether the role could be given."""
        await self.repo.force(guild.id, member.id, actor_id=actor_id, now=self.clock.now())
        deadline_id = await self.repo.remove_deadline(guild.id, member.id)
        if deadline_id is not None:
            self.jobs.cancel(KICK_JOB, deadline_id)
        return await self._give_role(member, config, reason=f"Verified by an admin ({actor_id})")

    async def _give_role(self, member: discord.Member, config: GuildConfig, *, reason: str) -> bool:
        if config.member_role_id is None:
            return False
        if member.get_role(config.member_role_id) is not None:
            return True
        try:
            await member.add_roles(discord.Object(config.member_role_id), reason=reason)
        except (discord.Forbidden, discord.NotFound):
            await self.report_permissions(member.guild, config)
            return False
        return True

    # ---- missing permissions, told once -------------------------------------------------

    async def report_permissions(self, guild: discord.Guild, config: GuildConfig) -> None:
        """Tell the admins what stops verification, once: again only when the problems change."""
        problems = permission_problems(guild, config)
        notice = ",".join(problems)
        before = await self.repo.swap_permission_notice(guild.id, notice)
        if not problems or notice == before:
            return
        lines = "\n".join(f"• {PERMISSION_FIXES[name]}" for name in problems)
        log.warning("Verification in guild %s is blocked: %s", guild.id, notice)
        await self.delivery.notify_admins(
            guild.id,
            f"⚠️ Verification can't work fully in this server:\n{lines}",
            fallback_user_id=guild.owner_id,
        )

    # ---- the panel ----------------------------------------------------------------------

    async def post_panel(self, guild_id: int, channel_id: int) -> Result | None:
        state = await self.repo.guild_state(guild_id)
        message_id = state.panel_message_id if state.panel_channel_id == channel_id else None
        await self.repo.set_panel(guild_id, channel_id, message_id)
        return await self.refresh_panel(guild_id)

    async def refresh_panel(self, guild_id: int) -> Result | None:
        """Show the panel in the verification channel, posting it again if it was deleted."""
        state = await self.repo.guild_state(guild_id)
        channel_id = state.panel_channel_id
        if channel_id is None:
            return None
        guild = self.client.get_guild(guild_id)

        async def store(message_id: int) -> None:
            await self.repo.set_panel(guild_id, channel_id, message_id)

        post = TrackedPost(
            key=f"verification:{guild_id}",
            guild_id=guild_id,
            channel_id=channel_id,
            message_id=state.panel_message_id,
            subject="the Verify button",
            store=store,
            fallback_user_id=guild.owner_id if guild else None,
        )
        return await self.tracked_posts.refresh(post, embed=panel_embed(guild), view=verify_view(guild_id))

    async def refresh_panel_job(self, guild_id: int, now: datetime) -> None:
        await self.refresh_panel(guild_id)
