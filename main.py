"""Entry point: settings, logging, then run the bot until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import signal
import sys
from collections.abc import Awaitable, Callable

import aiohttp
import discord

from bot import create_bot
from config import ConfigError, Settings

EXIT_CONFIG_ERROR = 2


def setup_logging(settings: Settings) -> None:
    discord.utils.setup_logging(level=settings.log_level_number, root=True)
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            settings.log_file, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(
            logging.Formatter("[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")
        )
        logging.getLogger().addHandler(handler)


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


async def run(settings: Settings) -> None:
    bot = create_bot(settings)
    async with bot:
        await serve_until_signalled(bot.start(settings.token), bot.close)


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"rollcall: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    setup_logging(settings)
    try:
        asyncio.run(run(settings))
    except discord.LoginFailure:
        print("rollcall: DISCORD_BOT_TOKEN was rejected by Discord: reset it in the developer portal.", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except (aiohttp.ClientError, OSError) as error:
        print(
            f"rollcall: cannot reach Discord ({type(error).__name__}); check the network and try again.",
            file=sys.stderr,
        )
        return 1
    except discord.PrivilegedIntentsRequired:
        print(
            "rollcall: enable the Server Members intent (developer portal -> Bot -> Privileged Gateway Intents).",
            file=sys.stderr,
        )
        return EXIT_CONFIG_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
