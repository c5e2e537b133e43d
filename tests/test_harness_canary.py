"""Canary for the discord.py and dpytest internals the harness uses (tests/harness/private.py).

Each test checks one internal against the pinned versions: it exists and has the shape the
harness relies on. After an upgrade, a failure here names what moved; the rest of the suite
would only fail with confusing errors in boot or dispatch."""

from __future__ import annotations

import asyncio
import inspect
import re
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest
from discord.abc import GuildChannel
from discord.app_commands import CommandTree
from discord.ext.test.state import FakeState
from discord.http import HTTPClient, Route
from discord.state import ConnectionState
from discord.webhook.async_ import AsyncWebhookAdapter

from tests.harness import private

ROOT = Path(__file__).resolve().parent.parent


def pinned_version(package: str) -> str:
    for requirements in sorted(ROOT.glob("requirements*.txt")):
        for line in requirements.read_text().splitlines():
            match = re.fullmatch(rf"{re.escape(package)}==(\S+)", line.strip())
            if match:
                return match.group(1)
    raise AssertionError(f"{package} is not pinned in any requirements*.txt")


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


@pytest.fixture
def client() -> discord.Client:
    return discord.Client(intents=discord.Intents.none())


def test_discord_py_is_the_pinned_version():
    assert discord.__version__ == pinned_version("discord.py")


def test_dpytest_is_the_pinned_version():
    assert dpytest.__version__ == pinned_version("dpytest")


def test_connection_state_is_the_clients_private_connection(client):
    state = private.connection_state(client)
    assert isinstance(state, ConnectionState)
    assert private.connection_state(client) is client._connection


def test_library_setup_is_a_coroutine_on_the_client():
    assert inspect.iscoroutinefunction(discord.Client._async_setup_hook)
    assert parameters(discord.Client._async_setup_hook) == ["self"]


def test_the_state_holds_the_command_tree_it_routes_commands_to(client):
    state = private.connection_state(client)
    assert state._command_tree is None
    tree = CommandTree(client)
    private.link_command_tree(client, tree)
    assert state._command_tree is tree
    assert "self._command_tree._from_interaction(interaction)" in inspect.getsource(
        ConnectionState.parse_interaction_create
    )


def test_the_client_its_state_and_the_tree_each_keep_the_http_client(client):
    tree = CommandTree(client)
    assert tree._http is client.http
    assert private.connection_state(client).http is client.http
    loop = asyncio.new_event_loop()
    try:
        replacement = HTTPClient(loop)
        private.install_http(client, tree, replacement)
        assert client.http is replacement
        assert private.connection_state(client).http is replacement
        assert tree._http is replacement
    finally:
        loop.close()


def test_the_client_keeps_its_gateway_socket_in_ws(client):
    assert client.ws is None
    private.forget_gateway(client)
    assert client.ws is None
    assert "self.ws" in inspect.getsource(discord.Client.close)


def test_ready_is_a_handler_on_the_client_then_an_event_the_state_dispatches(client):
    assert parameters(discord.Client._handle_ready) == ["self"]
    assert private.connection_state(client).dispatch == client.dispatch


def test_the_state_waits_guild_ready_timeout_then_calls_the_ready_handler(client):
    """`prepare_ready` fills in what dpytest's state lacks for discord.py's own `_delay_ready`."""
    assert client._handlers["ready"] == client._handle_ready
    source = inspect.getsource(ConnectionState._delay_ready)
    assert "self.guild_ready_timeout" in source
    assert "self.call_handlers('ready')" in source
    assert "self.handlers[key]" in inspect.getsource(ConnectionState.call_handlers)


def test_state_lookups_take_an_id():
    assert parameters(ConnectionState._get_guild) == ["self", "guild_id"]
    assert parameters(ConnectionState.get_user) == ["self", "id"]
    assert parameters(ConnectionState.store_user)[:2] == ["self", "data"]


@pytest.mark.parametrize(
    "event",
    [
        "interaction_create",
        "channel_update",
        "guild_member_add",
        "ready",
        "guild_create",
        "guild_member_update",
        "guild_member_remove",
        "voice_state_update",
    ],
)
def test_each_gateway_event_the_harness_feeds_has_a_parser(event):
    parser = getattr(ConnectionState, f"parse_{event}")
    assert parameters(parser) == ["self", "data"]
    assert hasattr(private, f"parse_{event}")


def test_dpytest_state_can_pause_dispatch():
    assert parameters(FakeState.stop_dispatch) == ["self"]
    assert parameters(FakeState.start_dispatch) == ["self"]
    assert "_do_dispatch" in inspect.getsource(FakeState)


def test_a_channel_keeps_its_overwrites_with_id_type_allow_and_deny():
    assert "_overwrites" in GuildChannel.__annotations__
    assert set(discord.abc._Overwrites.__slots__) == {"id", "type", "allow", "deny"}


def test_a_route_url_is_the_api_base_and_the_path():
    route = Route("GET", "/channels/{channel_id}", channel_id=1)
    assert route.url == Route.BASE + "/channels/1"
    assert private.route_path(route) == "/channels/1"


def test_the_webhook_adapter_request_takes_what_the_handler_is_given():
    names = parameters(AsyncWebhookAdapter.request)
    assert names[:3] == ["self", "route", "session"]
    assert {"payload", "multipart", "files"} <= set(names)
    original = AsyncWebhookAdapter.request
    undo = private.install_webhook_handler(lambda route, files, body: asyncio.sleep(0))
    assert AsyncWebhookAdapter.request is not original
    undo()
    assert AsyncWebhookAdapter.request is original


def test_the_rest_client_methods_the_fake_overrides_keep_their_shape():
    assert parameters(HTTPClient.__init__)[:2] == ["self", "loop"]
    request = inspect.signature(HTTPClient.request).parameters
    assert list(request)[:2] == ["self", "route"]
    assert request["files"].kind is inspect.Parameter.KEYWORD_ONLY
    assert request["form"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters(HTTPClient.get_from_cdn) == ["self", "url"]
    assert inspect.iscoroutinefunction(HTTPClient.close)


def test_a_view_sleeps_out_its_timeout_in_the_coroutine_idle_skips():
    wait = discord.ui.view.BaseView._BaseView__timeout_task_impl  # type: ignore[attr-defined]
    assert inspect.iscoroutinefunction(wait)
    assert wait.__qualname__ == private.VIEW_TIMEOUT_WAIT


def test_the_view_store_keeps_dynamic_item_patterns(client):
    class Probe(discord.ui.DynamicItem[discord.ui.Button], template=r"canary:(?P<n>\d+)"):
        pass

    client.add_dynamic_items(Probe)
    assert [pattern.pattern for pattern in private.dynamic_item_templates(client)] == [r"canary:(?P<n>\d+)"]


def test_guild_ready_timeout_is_a_state_setting(client):
    assert private.connection_state(client).guild_ready_timeout > 0
    private.skip_guild_ready_wait(client)
    assert private.connection_state(client).guild_ready_timeout == 0
