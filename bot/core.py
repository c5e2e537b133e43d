"""The Bot subclass: start-up order, scheduler wiring, command sync and shutdown."""

from __future__ import annotations

import gc
import hashlib
import json
import logging

import discord
from discord.ext import commands

from bot.clock import Clock, SystemClock
from bot.delivery import Delivery
from bot.scheduler import JobScheduler
from bot.tracked_post import TrackedPosts
from bot.tree import RollcallTree
from config import ConfigError, Settings
from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.database import Database, DatabaseOpenError, MigrationFailed, open_database
from storage.events import EventRepository
from storage.guild_config import GuildConfigRepository
from storage.meta import MetaRepository
from storage.outbox import OutboxRepository
from storage.verification import VerificationRepository

log = logging.getLogger(__name__)

# The collector's thresholds while connected; see `on_ready`.
GC_THRESHOLDS = (2_000, 5, 100)

EXTENSIONS = (
    "cogs.config",
    "cogs.help",
    "cogs.attendance",
    "cogs.events",
    "cogs.verification",
)

# Discord answers a command sync for a server the application is not in with 403 / 50001.
MISSING_ACCESS = 50001


def build_intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True  # privileged: needed to see joins for verification
    intents.voice_states = True
    return intents


class Rollcall(commands.Bot):
    db: Database
    audit: AuditRepository
    guild_configs: GuildConfigRepository
    meta: MetaRepository
    attendance: AttendanceRepository
    events: EventRepository
    outbox: OutboxRepository
    delivery: Delivery
    tracked_posts: TrackedPosts
    verification: VerificationRepository

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
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
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.jobs = JobScheduler(self.clock, live=clock is None)

    async def open_storage(self) -> None:
        """Open and migrate the database. main.py calls this before logging in, so a bad
        DATABASE_PATH is reported before Discord is contacted; setup_hook then finds it open."""
        if hasattr(self, "db"):
            return
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
        self.db = db
        self.audit = AuditRepository(self.db)
        self.guild_configs = GuildConfigRepository(self.db, self.audit)
        self.meta = MetaRepository(self.db)
        self.outbox = OutboxRepository(self.db)
        self.attendance = AttendanceRepository(self.db, self.audit, self.outbox)
        self.events = EventRepository(self.db, self.audit)
        self.delivery = Delivery(self, self.outbox, self.guild_configs, self.jobs, self.clock)
        self.tracked_posts = TrackedPosts(self.delivery)
        self.verification = VerificationRepository(self.db, self.audit)

    async def setup_hook(self) -> None:
        await self.open_storage()

        for extension in EXTENSIONS:
            await self.load_extension(extension)
        for cog in self.cogs.values():
            self.add_dynamic_items(*getattr(cog, "dynamic_items", ()))

        self.jobs.start()
        for cog in self.cogs.values():
            reconcile = getattr(cog, "reconcile", None)
            if reconcile is not None:
                await reconcile()
        await self.delivery.reconcile()
        await self.sync_commands()

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

    async def on_ready(self) -> None:
        log.info("Connected as %s (%s) to %d guilds", self.user, self.user.id if self.user else "?", len(self.guilds))
        self.jobs.resume()
        # The guilds, channels and members cached by now live as long as the connection (a
        # hall of 20,000 members is most of the heap). Frozen, they are no longer rescanned by
        # every full collection during a burst. A new READY replaces the cache: unfreeze first
        # so the old one can be collected.
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        # Each /here in flight keeps ~35 tracked objects alive until it is answered, so a burst
        # grows the heap faster than CPython's default (700, 10, 10) expects: a 20,000-member hall
        # then paid 5 full collections (1.4 s, up to 400 ms each) during the burst. With these it
        # pays none, and young collections stay under ~5 ms (bench/here_burst.py).
        gc.set_threshold(*GC_THRESHOLDS)

    async def run_due_jobs(self) -> None:
        """Run, once, every scheduled action due at the clock's now (the scheduler's own path)."""
        await self.jobs.run_due()

    async def close(self) -> None:
        self.jobs.shutdown()
        await self.jobs.drain()
        await super().close()
        if hasattr(self, "db"):
            await self.db.close()
