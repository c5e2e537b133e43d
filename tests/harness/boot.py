"""Starting and stopping a bot inside the fake Discord, and seeding the server's members."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import discord
import discord.ext.test as dpytest
from discord.http import HTTPClient, Route

from bot.clock import Clock
from config import Settings
from tests.harness import gateway, private
from tests.harness.driver import Harness
from tests.harness.faults import not_found
from tests.harness.routes import FakeDiscord
from tests.harness.world import APP_ID, BOT_USER_ID, UserSpec, World


class FakeDiscordHttp(HTTPClient):
    """The bot's REST client, answered by `FakeDiscord` instead of the network."""

    def __init__(self, discord_side: FakeDiscord, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.discord_side = discord_side
        self.token = "test-token"

    async def request(
        self,
        route: Route,
        *,
        files: Sequence[discord.File] | None = None,
        form: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        return await self.discord_side.http_request(route, files, form, kwargs)

    async def get_from_cdn(self, url: str) -> bytes:
        try:
            return self.discord_side.cdn[url]
        except KeyError:
            raise not_found(0, "404: Not Found") from None

    async def close(self) -> None:
        return None


async def boot_bot(
    settings: Settings,
    discord_side: FakeDiscord,
    world: World,
    clock: Clock,
    *,
    bot_class: type[discord.Client] | None = None,
    prepare: Callable[[discord.Client], None] | None = None,
) -> tuple[discord.Client, Harness]:
    """Build a bot with `create_bot` and start it against the fake Discord.

    Order matters: discord.py's async setup first, then dpytest (which replaces the
    connection state), then relink the command tree and install our HTTP client, then the
    bot's own setup_hook, so cogs and persistent items register in the final state. As with
    Discord, setup_hook runs after login (the bot's user and application id are known) on an
    empty cache; only then does the gateway send READY and the server's GUILD_CREATE.

    `bot_class` builds the bot instead of `create_bot`: dpytest refuses an `AutoShardedBot`, so
    shard tests boot the unsharded class with the shard settings, whose job filter is the same.
    `prepare` runs on the new bot first, as `main.run` prepares the process's one bot (the
    benches pass `bot.heap.freeze_heap_at_ready`)."""
    from bot import create_bot

    bot = bot_class(settings, clock=clock) if bot_class is not None else create_bot(settings, clock=clock)  # type: ignore[call-arg]
    if prepare is not None:
        prepare(bot)
    await private.run_library_setup(bot)
    dpytest.configure(bot, guilds=0, text_channels=0, voice_channels=0, members=0)
    state = private.connection_state(bot)
    private.link_command_tree(bot, bot.tree)
    state.application_id = APP_ID
    bot_user = gateway.user_payload(UserSpec("Rollcall", BOT_USER_ID), bot=True)
    state.user = discord.ClientUser(state=state, data=bot_user)  # type: ignore[arg-type]
    http = FakeDiscordHttp(discord_side, asyncio.get_running_loop())
    private.install_http(bot, bot.tree, http)
    discord_side.state = state
    discord_side.world = world
    await bot.setup_hook()
    guild = await gateway.connect(bot, world)
    return bot, Harness(bot, discord_side, guild)


async def shutdown_bot(bot: discord.Client) -> None:
    """Close the bot as a restart or crash would end it; dpytest's fake socket has no real one."""
    private.forget_gateway(bot)
    await bot.close()


async def crash_bot(bot: discord.Client) -> None:
    """End the bot as a crash would: no cog is unloaded and nothing is tidied on the way out;
    only the test's own resources (the socket, the scheduler, the database handle) are let go."""
    private.forget_gateway(bot)
    jobs = getattr(bot, "jobs", None)
    if jobs is not None:
        await jobs.stop()
    # discord.Client's own close, past commands.Bot's: that one would unload every cog.
    await discord.Client.close(bot)
    db = getattr(bot, "db", None)
    if db is not None:
        await db.close()
