"""Every discord.py and dpytest internal the harness relies on, each behind one named function.

None of these are public API, so an upgrade may move any of them. `tests/test_harness_canary.py`
checks each one against the pinned versions; when an upgrade breaks one, that test names it,
instead of every test failing in boot or dispatch with a confusing AttributeError."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypedDict

import discord
from discord.abc import GuildChannel
from discord.app_commands import CommandTree
from discord.ext.test.state import FakeState
from discord.http import HTTPClient, Route
from discord.state import ConnectionState
from discord.webhook.async_ import AsyncWebhookAdapter


class WebhookBody(TypedDict):
    """What the webhook adapter was asked to send: JSON, or multipart parts with a payload_json."""

    payload: dict[str, Any] | None
    multipart: list[dict[str, Any]] | None


WebhookHandler = Callable[[Route, Sequence[discord.File] | None, WebhookBody], Awaitable[Any]]

# The coroutine a view with a timeout sleeps in until it expires (name-mangled in the class).
VIEW_TIMEOUT_WAIT = "BaseView.__timeout_task_impl"


# ---- the client and its connection state ------------------------------------------------


def connection_state(client: discord.Client) -> ConnectionState[Any]:
    return client._connection


async def run_library_setup(client: discord.Client) -> None:
    """discord.py's own setup (`Client._async_setup_hook`: the loop, the HTTP session's
    connector), which `login()` would run before `setup_hook`."""
    await client._async_setup_hook()


def link_command_tree(client: discord.Client, tree: CommandTree[Any]) -> None:
    """Point the connection state at the tree, so commands and autocomplete reach it;
    dpytest's `configure` replaces the state the tree was linked to."""
    client._connection._command_tree = tree


def install_http(client: discord.Client, tree: CommandTree[Any], http: HTTPClient) -> None:
    """Answer every REST call from `http`: the client, its state and the command tree each
    keep their own reference, taken when the bot was built."""
    client.http = http
    client._connection.http = http
    tree._http = http


def forget_gateway(client: discord.Client) -> None:
    """dpytest's fake socket has no real one to close; `close()` would try."""
    client.ws = None  # type: ignore[assignment]


def prepare_ready(client: discord.Client, guild_wait_seconds: float) -> None:
    """Let a READY fed to dpytest's state end in `ready` as discord.py's own does: its state was
    built without the client's handler table (so `_handle_ready` never ran), and discord.py waits
    `guild_ready_timeout` (2 s) after the last GUILD_CREATE before dispatching `ready`."""
    state = client._connection
    state.handlers = client._handlers
    state.guild_ready_timeout = guild_wait_seconds


# ---- reading and feeding the state -------------------------------------------------------


def guild_by_id(state: ConnectionState[Any], guild_id: int) -> discord.Guild | None:
    return state._get_guild(guild_id)


def user_by_id(state: ConnectionState[Any], user_id: int) -> discord.User | None:
    return state.get_user(user_id)


def store_user(state: ConnectionState[Any], data: dict[str, Any]) -> discord.User:
    return state.store_user(data)  # type: ignore[arg-type]


def parse_interaction_create(state: ConnectionState[Any], payload: dict[str, Any]) -> None:
    """The gateway's INTERACTION_CREATE, handed to discord.py's own parser."""
    state.parse_interaction_create(payload)  # type: ignore[arg-type]


def parse_ready(state: ConnectionState[Any], data: dict[str, Any]) -> None:
    state.parse_ready(data)  # type: ignore[arg-type]


def parse_guild_create(state: ConnectionState[Any], data: dict[str, Any]) -> None:
    state.parse_guild_create(data)  # type: ignore[arg-type]


def parse_guild_member_update(state: ConnectionState[Any], data: dict[str, Any]) -> None:
    state.parse_guild_member_update(data)  # type: ignore[arg-type]


def parse_guild_member_remove(state: ConnectionState[Any], data: dict[str, Any]) -> None:
    state.parse_guild_member_remove(data)  # type: ignore[arg-type]


def parse_channel_update(state: ConnectionState[Any], data: dict[str, Any]) -> None:
    state.parse_channel_update(data)  # type: ignore[arg-type]


def parse_guild_member_add(state: ConnectionState[Any], data: dict[str, Any]) -> None:
    state.parse_guild_member_add(data)  # type: ignore[arg-type]


@contextmanager
def dispatch_paused(state: ConnectionState[Any]) -> Iterator[None]:
    """Events parsed meanwhile update the cache but reach no listener (dpytest's FakeState)."""
    if not isinstance(state, FakeState):
        raise TypeError(f"dispatch can only be paused on dpytest's FakeState, not {type(state).__name__}")
    state.stop_dispatch()
    try:
        yield
    finally:
        state.start_dispatch()


def channel_overwrites(channel: GuildChannel) -> list[tuple[int, int, int, int]]:
    """A channel's permission overwrites as (target id, type, allow, deny)."""
    return [(overwrite.id, overwrite.type, overwrite.allow, overwrite.deny) for overwrite in channel._overwrites]


# ---- HTTP ---------------------------------------------------------------------------------


def route_path(route: Route) -> str:
    """A route's path as Discord's documentation writes it, without the API base."""
    return route.url.removeprefix(Route.BASE)


def install_webhook_handler(handler: WebhookHandler) -> Callable[[], None]:
    """Send every webhook-adapter request (interaction responses, follow-ups, their edits) to
    `handler` instead of the network; they never go through `client.http`. Returns the undo."""
    original = AsyncWebhookAdapter.request

    async def request(
        self: AsyncWebhookAdapter,
        route: Route,
        session: object,
        *,
        payload: dict[str, Any] | None = None,
        multipart: list[dict[str, Any]] | None = None,
        files: Sequence[discord.File] | None = None,
        **kwargs: object,
    ) -> Any:
        return await handler(route, files, {"payload": payload, "multipart": multipart})

    AsyncWebhookAdapter.request = request  # type: ignore[method-assign,assignment]

    def undo() -> None:
        AsyncWebhookAdapter.request = original  # type: ignore[method-assign]

    return undo


# ---- tasks --------------------------------------------------------------------------------


def is_view_timeout_wait(task: asyncio.Task[Any]) -> bool:
    """The task a View with a timeout sleeps in until it expires: alive as long as the view."""
    return getattr(task.get_coro(), "__qualname__", "") == VIEW_TIMEOUT_WAIT


# ---- what tests read or tune on the client -------------------------------------------------------


def dynamic_item_templates(client: discord.Client) -> list[Any]:
    """The custom-id patterns of the DynamicItems the client registered (`add_dynamic_items`)."""
    return list(client._connection._view_store._dynamic_items)


def skip_guild_ready_wait(client: discord.Client) -> None:
    """discord.py waits `guild_ready_timeout` (2 s) after the last GUILD_CREATE before READY;
    start-up tests against the local server need not."""
    client._connection.guild_ready_timeout = 0


def parse_voice_state_update(state: ConnectionState[Any], data: dict[str, Any]) -> None:
    state.parse_voice_state_update(data)  # type: ignore[arg-type]
