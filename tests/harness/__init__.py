"""The interaction harness: drive the bot the way Discord does and record what it sends.

* `routes.FakeDiscord` stands in for Discord's servers (REST and the interaction webhook),
  checked against Discord's limits in `limits`; `faults` builds Discord's error answers.
* `interactions` holds Discord's rules for an interaction's token and callback types, applied
  by the `webhook` routes; `submits` refuses selects and modal answers the client could not send.
* `world` holds the server (roles, channels, members) a bot boots into, kept true across
  restarts; `gateway` builds what Discord's gateway sends about it (READY, GUILD_CREATE,
  member events) and only for the intents the bot asked for; `guild_rules` holds what Discord
  refuses a bot in a server (role hierarchy, channel permissions, DMs without a shared server).
* `payloads` builds real `INTERACTION_CREATE` payloads; `driver.Harness` feeds them to
  discord.py's own parser and waits for the bot; `sent` holds what came back.
* `waits` waits until the bot is idle; `boot` starts and stops a bot inside the fake Discord.
* `private` is the one place that touches discord.py's and dpytest's internals.
* `server` is a separate local Discord (REST and gateway over sockets) for start-up tests.

Tests import the names below from `tests.harness`."""

from tests.harness.boot import FakeDiscordHttp, boot_bot, shutdown_bot
from tests.harness.driver import Harness
from tests.harness.faults import (
    INVALID_FORM_BODY,
    FakeResponse,
    Fault,
    UnknownEndpoint,
    bad_request,
    client_disconnected,
    connection_reset,
    forbidden,
    invalid_form_body,
    not_found,
    server_error,
    unauthorized,
)
from tests.harness.gateway import IntentNotRequested, add_member
from tests.harness.interactions import ImpossibleInteraction, InteractionLedger
from tests.harness.payloads import InteractionPayloads, OptionValue, UploadedFile, user_payload
from tests.harness.routes import FakeDiscord
from tests.harness.sent import (
    SENT_KINDS,
    CheckedKind,
    Choice,
    InteractionResult,
    JsonObject,
    Sent,
    SentKind,
    Upload,
    iter_custom_ids,
    sent_kind,
)
from tests.harness.waits import IDLE_TIMEOUT_SECONDS
from tests.harness.world import (
    APP_ID,
    ATTACHMENT_SIZE_LIMIT,
    BOT_PERMISSIONS,
    BOT_USER_ID,
    DEFAULT_CHANNELS,
    DEFAULT_ROLES,
    DEFAULT_USERS,
    EVERYONE_PERMISSIONS,
    GUILD_ID,
    ChannelSpec,
    RoleSpec,
    UserSpec,
    World,
    snowflake,
)

__all__ = [
    "APP_ID",
    "ATTACHMENT_SIZE_LIMIT",
    "BOT_PERMISSIONS",
    "BOT_USER_ID",
    "DEFAULT_CHANNELS",
    "DEFAULT_ROLES",
    "DEFAULT_USERS",
    "EVERYONE_PERMISSIONS",
    "GUILD_ID",
    "IDLE_TIMEOUT_SECONDS",
    "INVALID_FORM_BODY",
    "SENT_KINDS",
    "ChannelSpec",
    "CheckedKind",
    "Choice",
    "FakeDiscord",
    "FakeDiscordHttp",
    "FakeResponse",
    "Fault",
    "Harness",
    "ImpossibleInteraction",
    "IntentNotRequested",
    "InteractionLedger",
    "InteractionPayloads",
    "InteractionResult",
    "JsonObject",
    "OptionValue",
    "RoleSpec",
    "Sent",
    "SentKind",
    "UnknownEndpoint",
    "Upload",
    "UploadedFile",
    "UserSpec",
    "World",
    "add_member",
    "bad_request",
    "boot_bot",
    "client_disconnected",
    "connection_reset",
    "forbidden",
    "invalid_form_body",
    "iter_custom_ids",
    "not_found",
    "sent_kind",
    "server_error",
    "shutdown_bot",
    "snowflake",
    "unauthorized",
    "user_payload",
]
