"""Delivering messages to Discord, with a result that says what happened.

Every feature sends through here, so a closed DM, a missing permission (named) or a deleted
channel is told the same way everywhere, and a send never raises for a Discord failure.

* `send(target, ...)` tries once and answers with a `Result`. Retrying within that one attempt
  is discord.py's job: its HTTP client already retries 500/502/504/524 and connection resets
  (five tries with growing sleeps) and waits out rate limits, so nothing here sleeps.
* What the bot owes someone (a close report, a notice) is a row in the outbox until Discord has
  taken it. `deliver_owed(id)` tries the row's targets in order: a permanent refusal (missing
  permission, gone channel, closed DMs) falls through to the next target; a transient failure
  (5xx, network) stops and schedules a retry with backoff through the scheduler, so the wait
  is a row's `due_at` against the injected clock, not a sleep, and it survives a restart
  (`reconcile`). After `MAX_ATTEMPTS`, or when no target is left, the row is recorded
  undeliverable with a WARNING. The row is marked delivered right after the send succeeded:
  a crash in between sends it again (at least once), never twice otherwise.
* `refresh_post` keeps a tracked post (a message whose id is stored on a row) up to date: it
  edits the message and posts it again when it was deleted.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

import aiohttp
import discord
from discord.utils import MISSING

from bot.clock import Clock
from bot.errors import permissions_in_words
from bot.scheduler import JobScheduler
from storage.guild_config import GuildConfigRepository
from storage.outbox import DELIVERED, PENDING, UNDELIVERABLE, NewOwed, OutboxRepository, OwedMessage

log = logging.getLogger(__name__)

DELIVER_JOB = "delivery.owed"
TEXT_KIND = "text"
CONTENT_LIMIT = 2000  # Discord refuses message content longer than this (400 / 50035)
OVERFLOW_FILENAME = "message.txt"
# One attempt may take this long (discord.py's own retries and rate-limit waits included)
# before another may take the row over.
CLAIM_SECONDS = 120
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
MAX_ATTEMPTS = 12  # with the backoff above, about five hours of trying

DMS_CLOSED_CODES = frozenset({50007, 50278})  # cannot DM this user / shares no server with the bot
MISSING_ACCESS = 50001
UNKNOWN_MESSAGE = 10008
GONE_WHAT = {10003: "channel", 10008: "message", 10013: "user", 10007: "member", 10004: "server"}
# Failures that say nothing about the message or the target: the same send may work later.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    discord.DiscordServerError,
    discord.RateLimited,
    aiohttp.ClientError,
    OSError,
    asyncio.TimeoutError,
)
DELIVERY_ERRORS: tuple[type[BaseException], ...] = (discord.HTTPException, *TRANSIENT_ERRORS)


class Outcome(StrEnum):
    DELIVERED = "delivered"
    DMS_CLOSED = "dms closed"
    MISSING_PERMISSION = "missing permission"
    GONE = "gone"
    NOT_CONFIGURED = "not configured"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a message goes. Admin and log channels are looked up in the guild's settings at
    send time, so a report owed before an admin channel was set still finds it."""

    kind: Literal["channel", "dm", "admin_channel", "log_channel"]
    id: int

    @classmethod
    def channel(cls, channel_id: int) -> Target:
        return cls("channel", channel_id)

    @classmethod
    def dm(cls, user_id: int) -> Target:
        return cls("dm", user_id)

    @classmethod
    def admins(cls, guild_id: int) -> Target:
        return cls("admin_channel", guild_id)

    @classmethod
    def log_channel(cls, guild_id: int) -> Target:
        return cls("log_channel", guild_id)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def from_key(cls, key: str) -> Target:
        kind, _, raw_id = key.partition(":")
        if kind not in ("channel", "dm", "admin_channel", "log_channel"):
            raise ValueError(f"unknown delivery target {key!r}")
        return cls(kind, int(raw_id))  # type: ignore[arg-type]

    def describe(self) -> str:
        if self.kind == "channel":
            return f"<#{self.id}>"
        if self.kind == "dm":
            return f"<@{self.id}> by DM"
        return "the admin channel" if self.kind == "admin_channel" else "the log channel"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    target: Target
    channel_id: int | None = None
    message_id: int | None = None
    missing: tuple[str, ...] = ()
    code: int | None = None
    detail: str = ""

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED

    @property
    def transient(self) -> bool:
        return self.outcome is Outcome.FAILED

    def explain(self) -> str:
        """One sentence for people: what went wrong and, where known, how to fix it."""
        where = f"<#{self.channel_id}>" if self.channel_id else self.target.describe()
        if self.outcome is Outcome.DELIVERED:
            return f"Delivered to {where}."
        if self.outcome is Outcome.DMS_CLOSED:
            return f"<@{self.target.id}> does not accept DMs from me."
        if self.outcome is Outcome.MISSING_PERMISSION:
            if self.missing:
                names = permissions_in_words(self.missing)
                return f"I'm missing {names} in {where}: give my role that in the channel's permissions."
            return f"Discord refused me access to {where}: check my role's permissions there."
        if self.outcome is Outcome.GONE:
            return f"The {self.detail or 'target'} is gone ({where})."
        if self.outcome is Outcome.NOT_CONFIGURED:
            return f"There is no {self.target.describe().removeprefix('the ')} set (`/config set`)."
        if self.outcome is Outcome.REFUSED:
            return f"Discord refused the message for {where} (error {self.code})."
        return f"Discord could not be reached for {where} ({self.detail}); it is worth trying again."


@dataclass(frozen=True, slots=True)
class Parcel:
    """A rendered message and where it may go, in order of preference."""

    targets: tuple[Target, ...]
    content: str = ""
    files: tuple[tuple[str, bytes], ...] = ()
    embed: discord.Embed | None = None


@dataclass(frozen=True, slots=True)
class Handover:
    """What became of an owed message: `status` is delivered, pending (a retry is scheduled) or
    undeliverable; `results` are the attempts of this round, the last one first to read."""

    status: str
    results: tuple[Result, ...] = ()

    @property
    def last(self) -> Result | None:
        return self.results[-1] if self.results else None


Renderer = Callable[[OwedMessage], Awaitable[Parcel | None]]


def fit_content(content: str, files: Sequence[tuple[str, bytes]]) -> tuple[str, tuple[tuple[str, bytes], ...]]:
    """Content Discord accepts: over the limit, the full text moves into an attached file and
    the message keeps as many whole lines as fit."""
    if len(content) <= CONTENT_LIMIT:
        return content, tuple(files)
    note = f"\n… (the full text is in {OVERFLOW_FILENAME})"
    head = content[: CONTENT_LIMIT - len(note)]
    if "\n" in head:
        head = head[: head.rindex("\n")]
    return head + note, (*files, (OVERFLOW_FILENAME, content.encode("utf-8")))


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, ... at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def _needed_permissions(*, posting: bool, embed: bool, files: bool) -> list[str]:
    needed = ["view_channel"]
    if posting:
        needed.append("send_messages")
    if embed:
        needed.append("embed_links")
    if files:
        needed.append("attach_files")
    return needed


def _missing_permissions(channel: discord.abc.GuildChannel, needed: list[str]) -> tuple[str, ...]:
    """The permissions to grant, root first: without View Channel nothing else counts, and
    without Send Messages Discord also withholds Embed Links and Attach Files."""
    granted = channel.permissions_for(channel.guild.me)
    missing = [name for name in needed if not getattr(granted, name)]
    for root in ("view_channel", "send_messages"):
        if root in missing:
            return (root,)
    return tuple(missing)


class Delivery:
    def __init__(
        self,
        client: discord.Client,
        outbox: OutboxRepository,
        configs: GuildConfigRepository,
        jobs: JobScheduler,
        clock: Clock,
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._configs = configs
        self._jobs = jobs
        self._clock = clock
        self._renderers: dict[str, Renderer] = {TEXT_KIND: self._render_text}
        jobs.register(DELIVER_JOB, self.deliver_when_due)

    def register(self, kind: str, renderer: Renderer) -> None:
        """A feature's owed messages of `kind` are rendered by `renderer` at each attempt."""
        self._renderers[kind] = renderer

    # ---- one attempt ------------------------------------------------------------------------

    async def send(
        self,
        target: Target,
        content: str = "",
        *,
        embed: discord.Embed | None = None,
        files: Sequence[tuple[str, bytes]] = (),
        view: discord.ui.View | None = None,
        mentions: Sequence[int] = (),
    ) -> Result:
        """`mentions`: the members this message may ping (none otherwise)."""
        content, attached = fit_content(content, files)
        needed = _needed_permissions(posting=True, embed=embed is not None, files=bool(attached))
        channel: discord.abc.Messageable | None = None
        try:
            channel, unresolved = await self._resolve(target)
            if channel is None:
                assert unresolved is not None
                return unresolved
            message = await channel.send(
                content or None,
                embed=embed or MISSING,
                files=[discord.File(io.BytesIO(data), filename=name) for name, data in attached] or MISSING,
                view=view or MISSING,
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[discord.Object(user_id) for user_id in mentions]
                ),
            )
        except DELIVERY_ERRORS as error:
            return self._failure(error, target, channel, needed)
        return Result(Outcome.DELIVERED, target, channel_id=message.channel.id, message_id=message.id)

    async def dm(self, user_id: int, content: str, *, files: Sequence[tuple[str, bytes]] = ()) -> Result:
        return await self.send(Target.dm(user_id), content, files=files)

    async def post_log(self, guild_id: int, content: str) -> Result:
        """A line in the log channel. Not owed: the audit log is the durable record it mirrors."""
        result = await self.send(Target.log_channel(guild_id), content)
        if not result.delivered and result.outcome is not Outcome.NOT_CONFIGURED:
            log.info("Log line for guild %s not posted: %s", guild_id, result.explain())
        return result

    async def edit(
        self, channel_id: int, message_id: int, *, embed: discord.Embed, view: discord.ui.View | None = MISSING
    ) -> Result:
        """`view` None removes the message's components; left out, they stay as they are."""
        target = Target.channel(channel_id)
        channel = self._client.get_channel(channel_id)
        try:
            message = await self._partial(channel_id).get_partial_message(message_id).edit(embed=embed, view=view)
        except DELIVERY_ERRORS as error:
            needed = _needed_permissions(posting=False, embed=True, files=False)
            return self._failure(error, target, channel or self._partial(channel_id), needed)
        return Result(Outcome.DELIVERED, target, channel_id=channel_id, message_id=message.id)

    async def refresh_post(
        self,
        channel_id: int,
        message_id: int | None,
        *,
        embed: discord.Embed,
        view: discord.ui.View | None = MISSING,
    ) -> Result:
        """Edit a tracked post, or post it again when it was deleted (or never posted): the
        result's `message_id` is the live message, which the caller stores when it changed."""
        if message_id is not None:
            edited = await self.edit(channel_id, message_id, embed=embed, view=view)
            if not (edited.outcome is Outcome.GONE and edited.code == UNKNOWN_MESSAGE):
                return edited
            log.info("Tracked message %s in channel %s was deleted; posting it again", message_id, channel_id)
        return await self.send(Target.channel(channel_id), embed=embed, view=view or None)

    def _partial(self, channel_id: int) -> discord.PartialMessageable:
        return self._client.get_partial_messageable(channel_id)

    async def _resolve(self, target: Target) -> tuple[discord.abc.Messageable | None, Result | None]:
        if target.kind == "dm":
            return await self._client.create_dm(discord.Object(target.id)), None
        channel_id: int | None = target.id
        if target.kind in ("admin_channel", "log_channel"):
            config = await self._configs.get(target.id)
            channel_id = config.admin_channel_id if target.kind == "admin_channel" else config.log_channel_id
        if channel_id is None:
            return None, Result(Outcome.NOT_CONFIGURED, target)
        channel = self._client.get_channel(channel_id)
        if isinstance(channel, discord.abc.Messageable):
            return channel, None
        # Not in the cache: Discord itself says whether it still exists.
        return self._partial(channel_id), None

    def _failure(
        self,
        error: BaseException,
        target: Target,
        channel: object,
        needed: list[str],
    ) -> Result:
        channel_id = getattr(channel, "id", None) if not isinstance(channel, discord.DMChannel) else None
        code = getattr(error, "code", None)
        if isinstance(error, discord.Forbidden):
            if code in DMS_CLOSED_CODES:
                return Result(Outcome.DMS_CLOSED, target, code=code)
            missing: tuple[str, ...] = ()
            if isinstance(channel, discord.abc.GuildChannel):
                missing = _missing_permissions(channel, needed)
            if not missing and code == MISSING_ACCESS:
                missing = ("view_channel",)
            log.info("Missing permission for %s (%s): %s", target.key, code, ", ".join(missing) or "unknown")
            return Result(Outcome.MISSING_PERMISSION, target, channel_id=channel_id, missing=missing, code=code)
        if isinstance(error, discord.NotFound):
            what = GONE_WHAT.get(code or 0, "target")
            log.info("Delivery to %s: the %s is gone (%s)", target.key, what, code)
            return Result(Outcome.GONE, target, channel_id=channel_id, code=code, detail=what)
        if isinstance(error, TRANSIENT_ERRORS):
            detail = f"{type(error).__name__}: {error}"
            log.info("Delivery to %s failed for now: %s", target.key, detail)
            return Result(Outcome.FAILED, target, channel_id=channel_id, code=code, detail=detail)
        log.warning("Discord refused a message for %s: %s", target.key, error)
        return Result(Outcome.REFUSED, target, channel_id=channel_id, code=code, detail=str(error))

    # ---- owed messages ----------------------------------------------------------------------

    async def owe_text(self, guild_id: int | None, targets: Sequence[Target], content: str) -> Handover:
        """Owe a plain message to the first target that takes it, and try it now."""
        payload = {"targets": [target.key for target in targets], "content": content}
        owed_id = await self._outbox.create(NewOwed(TEXT_KIND, guild_id, payload=payload), now=self._clock.now())
        return await self.deliver_owed(owed_id)

    async def notify_admins(self, guild_id: int, content: str, *, fallback_user_id: int | None = None) -> Handover:
        """An owed notice for the guild's admins: the admin channel, else `fallback_user_id` by DM."""
        targets = [Target.admins(guild_id)]
        if fallback_user_id is not None:
            targets.append(Target.dm(fallback_user_id))
        return await self.owe_text(guild_id, targets, content)

    async def deliver_owed(self, owed_id: int) -> Handover:
        """Try an owed message now, unless it is finished or another attempt holds it."""
        now = self._clock.now()
        owed = await self._outbox.claim(owed_id, now=now, until=now + timedelta(seconds=CLAIM_SECONDS))
        if owed is None:
            current = await self._outbox.get(owed_id)
            return Handover(current.status if current else UNDELIVERABLE)
        return await self._attempt(owed)

    async def deliver_when_due(self, owed_id: int, now: datetime) -> None:
        """Scheduled: try the owed message when its retry is due and no live attempt holds it."""
        owed = await self._outbox.get(owed_id)
        if owed is None or owed.status != PENDING:
            return
        if owed.due_at > now:
            self._jobs.schedule_at(DELIVER_JOB, owed.id, owed.due_at)
            return
        claimed = await self._outbox.claim(owed_id, now=now, until=now + timedelta(seconds=CLAIM_SECONDS))
        if claimed is not None:
            await self._attempt(claimed)

    async def reconcile(self) -> None:
        """At start-up: a job for every owed message of this process's guilds (see bot/shards.py),
        at its retry time (or when a claim left by a crash runs out)."""
        for owed in await self._outbox.list_pending():
            if not self._jobs.owns_guild(owed.guild_id):
                continue
            when = max(owed.due_at, owed.claimed_until or owed.due_at)
            self._jobs.schedule_at(DELIVER_JOB, owed.id, when)

    async def _attempt(self, owed: OwedMessage) -> Handover:
        claimed_at = self._clock.now()
        # Should this attempt die with the process, the job wakes when its claim runs out.
        self._jobs.schedule_at(DELIVER_JOB, owed.id, claimed_at + timedelta(seconds=CLAIM_SECONDS))
        renderer = self._renderers.get(owed.kind)
        if renderer is None:
            return await self._retry_or_give_up(owed, (), f"nothing renders kind {owed.kind!r}")
        try:
            parcel = await renderer(owed)
        except Exception:
            log.exception("Rendering owed message %s (%s) failed", owed.id, owed.kind)
            return await self._retry_or_give_up(owed, (), "rendering failed")
        if parcel is None:
            await self._finish_undeliverable(owed, (), "what it was about no longer exists")
            return Handover(UNDELIVERABLE)
        results: list[Result] = []
        for target in parcel.targets:
            result = await self.send(target, parcel.content, embed=parcel.embed, files=parcel.files)
            results.append(result)
            if result.delivered:
                await self._outbox.mark_delivered(owed.id, now=self._clock.now(), delivered_to=target.key)
                self._jobs.cancel(DELIVER_JOB, owed.id)
                return Handover(DELIVERED, tuple(results))
            if result.transient:
                break
        reason = " ".join(result.explain() for result in results) or "it has no target"
        if results and results[-1].transient:
            return await self._retry_or_give_up(owed, tuple(results), reason)
        await self._finish_undeliverable(owed, tuple(results), reason)
        return Handover(UNDELIVERABLE, tuple(results))

    async def _retry_or_give_up(self, owed: OwedMessage, results: tuple[Result, ...], reason: str) -> Handover:
        if owed.attempts >= MAX_ATTEMPTS:
            await self._finish_undeliverable(owed, results, f"{reason} (after {owed.attempts} attempts)")
            return Handover(UNDELIVERABLE, results)
        due = self._clock.now() + backoff(owed.attempts)
        await self._outbox.retry_at(owed.id, due_at=due, error=reason)
        self._jobs.schedule_at(DELIVER_JOB, owed.id, due)
        log.info("Owed message %s (%s) not delivered yet; retrying at %s: %s", owed.id, owed.kind, due, reason)
        return Handover(PENDING, results)

    async def _finish_undeliverable(self, owed: OwedMessage, results: tuple[Result, ...], reason: str) -> None:
        await self._outbox.give_up(owed.id, now=self._clock.now(), error=reason)
        self._jobs.cancel(DELIVER_JOB, owed.id)
        log.warning(
            "Gave up delivering owed message %s (%s, guild %s, subject %s): %s",
            owed.id,
            owed.kind,
            owed.guild_id,
            owed.subject_id,
            reason,
        )

    async def _render_text(self, owed: OwedMessage) -> Parcel:
        targets = tuple(Target.from_key(key) for key in owed.payload["targets"])
        return Parcel(targets=targets, content=owed.payload["content"])
