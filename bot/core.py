"""The Bot subclass: start-up order, scheduler wiring, command sync and shutdown."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import discord
from discord.ext import commands

from bot.clock import Clock, SystemClock
from bot.delivery import Delivery
from bot.heartbeat import HEARTBEAT_JOB, HEARTBEAT_SECONDS, heartbeat_path, write_heartbeat
from bot.scheduler import JobScheduler
from bot.shards import ShardSet
from bot.tracked_post import TrackedPosts
from bot.tree import RollcallTree
from config import ConfigError, Settings
from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.database import Database, DatabaseOpenError, MigrationFailed, open_database
from storage.event_reminders import EventReminderRepository
from storage.event_reviews import ReviewRepository
from storage.event_series import SeriesRepository
from storage.event_slots import EventSlotRepository
from storage.events import EventRepository
from storage.group_commit import BatchWriter
from storage.guild_config import GuildConfigRepository
from storage.meta import MetaRepository
from storage.outbox import OutboxRepository
from storage.postgres import redact_url
from storage.presets import PresetRepository
from storage.reports import ReportRepository
from storage.verification import VerificationRepository
from storage.voice_presence import VoicePresenceRepository

log = logging.getLogger(__name__)

# The collector's thresholds while connected; see `on_ready`.

EXTENSIONS = (
    "cogs.config",
    "cogs.help",
    "cogs.attendance",
    "cogs.events",
    "cogs.me",
    "cogs.presets",
    "cogs.verification",
    "cogs.reports",
)

# Discord answers a command sync for a server the application is not in with 403 / 50001.
MISSING_ACCESS = 50001


def _one_line(text: str) -> str:
    # PostgreSQL's messages may carry a DETAIL or HINT on further lines; start-up errors are one line.
    return " ".join(text.split())


def build_intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True  # privileged: needed to see joins for verification
    intents.voice_states = True
    return intents


class Rollcall(commands.Bot):
    """The bot of one unsharded process (`ShardedRollcall` below runs a share of the shards)."""

    db: Database
    audit: AuditRepository
    guild_configs: GuildConfigRepository
    meta: MetaRepository
    attendance: AttendanceRepository
    voice_presence: VoicePresenceRepository
    events: EventRepository
    event_reminders: EventReminderRepository
    event_series: SeriesRepository
    event_reviews: ReviewRepository
    event_slots: EventSlotRepository
    presets: PresetRepository
    outbox: OutboxRepository
    delivery: Delivery
    tracked_posts: TrackedPosts
    verification: VerificationRepository
    # Who hears voice-state updates at parse time (see `dispatch`): the attendance cog's presence
    # watch while it is loaded.
    voice_state_watch: Callable[[discord.Member, discord.VoiceState, discord.VoiceState], None] | None = None

    def __init__(self, settings: Settings, *, clock: Clock | None = None, **client_options: Any) -> None:
        # discord.py's own switches for its start-up notice about missing voice libraries:
        # Rollcall never joins a voice channel, so the warning would only mislead.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=build_intents(),
            tree_cls=RollcallTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
            **client_options,
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.jobs = JobScheduler(self.clock, live=clock is None, shards=ShardSet.from_settings(settings))

    async def open_storage(self) -> None:
        """Open and migrate the database: PostgreSQL when DATABASE_URL is set, else the SQLite
        file at DATABASE_PATH. main.py calls this before logging in, so a bad setting is
        reported before Discord is contacted; setup_hook then finds it open."""
        if hasattr(self, "db"):
            return
        if self.settings.database_url is not None:
            db = await self._open_postgres(self.settings.database_url)
        else:
            db = await self._open_sqlite()
        self.db = db
        self.audit = AuditRepository(self.db)
        self.guild_configs = GuildConfigRepository(self.db, self.audit)
        self.meta = MetaRepository(self.db)
        self.outbox = OutboxRepository(self.db)
        # One group-commit writer for the database: answers, voice events and verification
        # attempts that arrive together share each window's transaction (storage/group_commit.py).
        writer = BatchWriter(self.db)
        self.attendance = AttendanceRepository(self.db, self.audit, self.outbox, writer)
        self.voice_presence = VoicePresenceRepository(self.db, writer)
        self.events = EventRepository(self.db, self.audit)
        self.event_reminders = EventReminderRepository(self.db)
        self.event_series = SeriesRepository(self.db, self.audit)
        self.event_reviews = ReviewRepository(self.db)
        self.event_slots = EventSlotRepository(self.db, self.audit)
        self.presets = PresetRepository(self.db, self.audit)
        self.verification = VerificationRepository(self.db, self.audit, writer)
        self.reports = ReportRepository(self.db)
        self.delivery = Delivery(self, self.outbox, self.guild_configs, self.jobs, self.clock)
        self.tracked_posts = TrackedPosts(self.delivery)

    async def _open_sqlite(self) -> Database:
        path = self.settings.database_path
        try:
            db = await open_database(path)
        except DatabaseOpenError as error:
            if error.not_a_database:
                raise ConfigError(
                    f"DATABASE_PATH={str(path)!r} is not an SQLite database ({error.reason}): point it at a new "
                    "file such as data/rollcall.db, or restore the right one."
                ) from None
            raise ConfigError(
                f"DATABASE_PATH={str(path)!r} cannot be opened ({error.reason}): point it at a file in a folder "
                "the bot may write to, such as data/rollcall.db."
            ) from None
        try:
            await db.migrate()
        except MigrationFailed as error:
            await db.close()
            raise ConfigError(
                f"DATABASE_PATH={str(path)!r} is not a Rollcall database ({error}): point it at a new file "
                "such as data/rollcall.db, or restore the right one."
            ) from None
        return db

    async def _open_postgres(self, url: str) -> Database:
        shown = redact_url(url)
        try:
            db = await open_database(url)
        except DatabaseOpenError as error:
            raise ConfigError(
                f"DATABASE_URL={shown!r} cannot be reached ({_one_line(error.reason)}): start PostgreSQL, or fix "
                "the host, port, user, password and database name in DATABASE_URL."
            ) from None
        try:
            await db.migrate()
        except MigrationFailed as error:
            await db.close()
            raise ConfigError(
                f"DATABASE_URL={shown!r} is not a Rollcall database ({_one_line(str(error))}): point it at an "
                "empty database, or restore the right one."
            ) from None
        return db

    async def setup_hook(self) -> None:
        await self.open_storage()

        for extension in EXTENSIONS:
            # Imported once per process and set up on this bot: `load_extension` would execute the
            # module again for every bot built (each test, each restart test), which is most of the
            # cost of a boot. Rollcall never reloads a cog at run time.
            await importlib.import_module(extension).setup(self)
        for cog in self.cogs.values():
            self.add_dynamic_items(*getattr(cog, "dynamic_items", ()))

        self.jobs.start()
        for cog in self.cogs.values():
            reconcile = getattr(cog, "reconcile", None)
            if reconcile is not None:
                await reconcile()
        await self.delivery.reconcile()
        self.jobs.register(HEARTBEAT_JOB, self._beat)
        now = self.clock.now()
        self.jobs.schedule_every(HEARTBEAT_JOB, 0, HEARTBEAT_SECONDS, now, first_run=now)
        # The application's commands are one set for every shard: one process syncs them.
        if self.jobs.shards.holds_first_shard:
            await self.sync_commands()
        else:
            log.info("Not syncing commands: the process holding shard 0 does")

    async def _beat(self, _row_id: int, now: datetime) -> None:
        if self.is_ready() and not self.is_closed():
            await asyncio.to_thread(write_heartbeat, heartbeat_path(self.settings), now)

    def command_tree_hash(self, guild: discord.abc.Snowflake | None) -> str:
        # The application id is part of the hash: the same database behind another application
        # (a new token for a test bot, say) must sync that application's commands too.
        tree_payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        payload = {"application_id": self.application_id, "commands": tree_payload}
        encoded = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()

    async def sync_commands(self) -> bool:
        """Sync only when the tree changed since the last sync, to spare Discord's rate limit."""
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        scope = f"guild:{guild.id}" if guild else "global"
        key = f"command_tree_hash:{scope}"
        current = self.command_tree_hash(guild)
        if await self.meta.get(key) == current:
            log.info("Command tree unchanged since the last sync (%s); not syncing", scope)
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.Forbidden as error:
            if guild is None or error.code != MISSING_ACCESS:
                raise
            raise ConfigError(
                f"DEV_GUILD_ID={guild.id} is a server this bot is not in (Discord refused the command sync): "
                "invite the bot there with the applications.commands scope, or leave DEV_GUILD_ID empty."
            ) from None
        await self.meta.set(key, current)
        log.info("Synced %d commands (%s)", len(synced), scope)
        return True

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        if event_name == "voice_state_update" and self.voice_state_watch is not None:
            # Now, while discord.py parses the event, not in a listener task: discord.py updates
            # the cached `after` in place on the member's next event, so a listener run after a
            # burst of events sees only each member's last state (bench/here_burst.py --voice
            # lost every join followed by a leave that way), and a lecture hall's hundreds of
            # events cost no task each.
            try:
                self.voice_state_watch(*args)
            except Exception:
                log.exception("Voice state update of member %s not handled", getattr(args[0], "id", "?"))
        super().dispatch(event_name, *args, **kwargs)

    async def on_ready(self) -> None:
        log.info("Connected as %s (%s) to %d guilds", self.user, self.user.id if self.user else "?", len(self.guilds))
        self.jobs.resume()

    async def run_due_jobs(self) -> None:
        """Run, once, every scheduled action due at the clock's now (the scheduler's own path)."""
        await self.jobs.run_due()

    async def close(self) -> None:
        await self.jobs.stop()
        await super().close()
        if hasattr(self, "db"):
            await self.db.close()


class ShardedRollcall(Rollcall, commands.AutoShardedBot):
    """One of several shard processes: discord.py's `AutoShardedBot` opens a gateway connection
    for each shard in `SHARD_IDS` of `SHARD_COUNT`, and Discord sends each guild's events on
    shard `(guild_id >> 22) % SHARD_COUNT`."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        shards = ShardSet.from_settings(settings)
        super().__init__(settings, clock=clock, shard_count=shards.count, shard_ids=list(shards.ids))
