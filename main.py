"""Entry point: settings, logging, then run the bot until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import discord

from bot import Rollcall, create_bot
from bot.heap import freeze_heap_at_ready
from bot.heartbeat import STALE_AFTER, heartbeat_age, heartbeat_path
from config import ConfigError, Settings
from storage.backup import BackupFailed, backup_sqlite_file
from storage.copy import CopyMismatch, CopyRefused, copy_sqlite_to_postgres
from storage.database import Database, DatabaseOpenError, MigrationFailed, open_database
from storage.postgres import redact_url

EXIT_CONFIG_ERROR = 2
# The gateway's close code for a token it does not accept.
GATEWAY_AUTHENTICATION_FAILED = 4004
TOKEN_REJECTED = "DISCORD_BOT_TOKEN was rejected by Discord: reset it in the developer portal (Bot -> Reset Token)."


def setup_logging(settings: Settings) -> None:
    """discord.py's formatter on stderr, plus a rotating file when LOG_FILE is set.

    Raises `ConfigError` when LOG_FILE cannot be written; nothing is configured then."""
    file_handler: logging.Handler | None = None
    if settings.log_file is not None:
        try:
            settings.log_file.parent.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                settings.log_file, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
        except OSError as error:
            raise ConfigError(
                f"LOG_FILE={str(settings.log_file)!r} cannot be written ({error.strerror or error}): point it at "
                "a file in a folder the bot may write to, or leave LOG_FILE empty."
            ) from None
        file_handler.setFormatter(
            logging.Formatter("[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")
        )
    discord.utils.setup_logging(level=settings.log_level_number, root=True)
    if file_handler is not None:
        logging.getLogger().addHandler(file_handler)


async def serve_until_signalled(start: Awaitable[None], close: Callable[[], Awaitable[None]]) -> None:
    """Run `start` until it ends or SIGINT/SIGTERM arrives; on a signal, `close` and let it finish."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stopping.set)
    try:
        runner = asyncio.ensure_future(start)
        stopper = asyncio.create_task(stopping.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            logging.getLogger("rollcall").info("Shutting down")
            await close()
        else:
            stopper.cancel()
        await runner
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


async def run(bot: Rollcall) -> None:
    """Open the database, then log in and serve until the bot stops or a signal arrives.

    Storage comes first so that a bad DATABASE_PATH is reported before Discord is contacted."""
    freeze_heap_at_ready(bot)
    async with bot:
        await bot.open_storage()
        await serve_until_signalled(bot.start(bot.settings.token), bot.close)


def fail(message: str, status: int) -> int:
    print(f"rollcall: {message}", file=sys.stderr)
    return status


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Run the Rollcall bot (no command) or a maintenance task."
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    backup = commands.add_parser("backup", help="write an online, consistent copy of the SQLite database to PATH")
    backup.add_argument("path", type=Path, metavar="PATH")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    commands.add_parser(
        "migrate-to-postgres",
        help="copy the SQLite database at DATABASE_PATH into the empty PostgreSQL database at DATABASE_URL",
    )
    commands.add_parser("healthcheck", help="exit 0 when the running bot's heartbeat is fresh (Docker HEALTHCHECK)")
    return parser.parse_args(argv)


async def backup(settings: Settings, target: Path, *, force: bool) -> int:
    if settings.database_url is not None:
        return fail(
            "DATABASE_URL is set, so the data is in PostgreSQL: back it up with pg_dump -Fc "
            "(see the README's Backups), not with main.py backup.",
            EXIT_CONFIG_ERROR,
        )
    if target.is_dir():
        return fail(
            f"{target} is a directory: give the backup's file name, such as {target / 'rollcall.db'}.",
            EXIT_CONFIG_ERROR,
        )
    if target.exists() and not force:
        return fail(
            f"{target} already exists: choose a new file name, or add --force to replace it.", EXIT_CONFIG_ERROR
        )
    try:
        size = await backup_sqlite_file(settings.database_path, target)
    except BackupFailed as error:
        return fail(f"backup failed: {error}.", 1)
    print(f"Backed up {settings.database_path} to {target} ({size:,} bytes, integrity ok).")
    return 0


async def migrate_to_postgres(settings: Settings) -> int:
    if settings.database_url is None:
        return fail(
            "migrate-to-postgres needs DATABASE_URL: set it to the empty PostgreSQL database to copy into, "
            "such as postgresql://rollcall:PASSWORD@localhost:5432/rollcall.",
            EXIT_CONFIG_ERROR,
        )
    source_path = settings.database_path
    shown_url = redact_url(settings.database_url)
    if not source_path.is_file():
        return fail(
            f"DATABASE_PATH={str(source_path)!r} does not exist: point it at the SQLite database to copy.",
            EXIT_CONFIG_ERROR,
        )
    source = await open_migrated(str(source_path), f"DATABASE_PATH={str(source_path)!r}")
    try:
        target = await open_migrated(settings.database_url, f"DATABASE_URL={shown_url!r}")
        try:
            report = await copy_sqlite_to_postgres(source, target)
        except CopyRefused as error:
            return fail(f"not copied into DATABASE_URL={shown_url!r}: {error}. Nothing was written.", EXIT_CONFIG_ERROR)
        except CopyMismatch as error:
            return fail(f"the copy does not match: {error}.", 1)
        finally:
            await target.close()
    finally:
        await source.close()
    for line in report:
        print(f"{line.table}: {line.source_rows} rows in SQLite, {line.target_rows} in PostgreSQL")
    total = sum(line.target_rows for line in report)
    print(
        f"Copied {len(report)} tables ({total} rows) from {source_path} to {shown_url}; every row count matches. "
        "Set DATABASE_URL for the bot from now on."
    )
    return 0


async def open_migrated(location: str, named: str) -> Database:
    """Open and migrate one side of the copy, or raise `ConfigError` naming its setting."""
    try:
        database = await open_database(location)
    except DatabaseOpenError as error:
        raise ConfigError(f"{named} cannot be opened ({' '.join(error.reason.split())}).") from None
    try:
        await database.migrate()
    except MigrationFailed as error:
        await database.close()
        raise ConfigError(f"{named} is not a Rollcall database ({' '.join(str(error).split())}).") from None
    return database


def healthcheck(settings: Settings) -> int:
    path = heartbeat_path(settings)
    age = heartbeat_age(path, datetime.now(UTC))
    if age is None:
        return fail(f"no heartbeat at {path} yet: the bot is starting, or not running.", 1)
    seconds = int(age.total_seconds())
    if age > STALE_AFTER:
        return fail(f"the heartbeat at {path} is {seconds} s old: the bot is stuck or stopped.", 1)
    print(f"healthy: the heartbeat at {path} is {max(seconds, 0)} s old.")
    return 0


def main(argv: Sequence[str] = ()) -> int:
    """`argv` are the command-line arguments after the script's name; none runs the bot."""
    arguments = parse_arguments(argv)
    try:
        settings = Settings.from_env()
        if arguments.command == "healthcheck":
            return healthcheck(settings)
        if arguments.command == "migrate-to-postgres":
            return asyncio.run(migrate_to_postgres(settings))
        if arguments.command == "backup":
            return asyncio.run(backup(settings, arguments.path, force=arguments.force))
        setup_logging(settings)
        asyncio.run(run(create_bot(settings)))
    except ConfigError as error:
        return fail(str(error), EXIT_CONFIG_ERROR)
    except discord.LoginFailure:
        return fail(TOKEN_REJECTED, EXIT_CONFIG_ERROR)
    except discord.PrivilegedIntentsRequired:
        return fail(
            "enable the Server Members intent (developer portal -> Bot -> Privileged Gateway Intents).",
            EXIT_CONFIG_ERROR,
        )
    except discord.ConnectionClosed as error:
        if error.code == GATEWAY_AUTHENTICATION_FAILED:
            return fail(TOKEN_REJECTED, EXIT_CONFIG_ERROR)
        return fail(f"Discord closed the connection (code {error.code}); try again later.", 1)
    except (aiohttp.ClientError, OSError, discord.GatewayNotFound, discord.DiscordServerError) as error:
        return fail(f"cannot reach Discord ({type(error).__name__}); check the network and try again.", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
