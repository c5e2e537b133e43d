"""The interaction harness: drive the bot the way Discord does and record what it sends.

* `FakeDiscord` stands in for Discord's servers. It keeps the messages the bot posted
  (with their raw components), DM channels, and every call the bot made, and it survives a
  bot restart the way Discord's state does.
* `FakeDiscordHttp` replaces the bot's REST client; `FakeDiscord.webhook_request` replaces
  the webhook adapter that interaction responses and follow-ups go through. Both route by
  Discord's URL templates; a call to an endpoint the harness does not know fails the test.
* `Harness` builds real `INTERACTION_CREATE` payloads (slash commands with options,
  autocomplete, button and select clicks, modal submits) and feeds them to discord.py's own
  `ConnectionState.parse_interaction_create`. dpytest provides the gateway side: guild,
  channel, role and member state, joins.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import discord.ext.test as dpytest
from discord.enums import AppCommandOptionType
from discord.ext.test import backend as dpy_backend
from discord.ext.test import factories as dpy_factories
from discord.http import HTTPClient, Route

from tests import discord_limits

APP_ID = 1_200_000_000_000_000_001
BOT_USER_ID = 1_200_000_000_000_000_002
GUILD_ID = 1_200_000_000_000_000_100
ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024
TASK_WAIT_SECONDS = 10.0

# What the bot's own role may do server-wide; tests take permissions away per channel.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    manage_roles=True,
    kick_members=True,
    manage_events=True,
)
EVERYONE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, read_message_history=True)


class UnknownEndpoint(AssertionError):
    """The bot called a Discord endpoint the harness does not model."""


@dataclass
class FakeResponse:
    """Enough of an aiohttp response for discord.HTTPException."""

    status: int
    reason: str


def forbidden(code: int, message: str) -> discord.Forbidden:
    return discord.Forbidden(FakeResponse(403, "Forbidden"), {"code": code, "message": message})  # type: ignore[arg-type]


def not_found(code: int, message: str) -> discord.NotFound:
    return discord.NotFound(FakeResponse(404, "Not Found"), {"code": code, "message": message})  # type: ignore[arg-type]


INVALID_FORM_BODY = 50035


def invalid_form_body(errors: discord_limits.FormErrors) -> discord.HTTPException:
    """Discord's answer to a payload over one of its limits; discord.py flattens `errors` into
    the exception text as `In embeds.0.fields.0.value: Must be 1024 or fewer in length.`"""
    return discord.HTTPException(
        FakeResponse(400, "Bad Request"),  # type: ignore[arg-type]
        {"code": INVALID_FORM_BODY, "message": "Invalid Form Body", "errors": errors.tree},
    )


def server_error(status: int = 500) -> discord.DiscordServerError:
    """What discord.py raises once its own retries of a 5xx are used up."""
    return discord.DiscordServerError(
        FakeResponse(status, "Internal Server Error"),  # type: ignore[arg-type]
        {"code": 0, "message": f"{status}: Internal Server Error"},
    )


def connection_reset() -> ConnectionResetError:
    return ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")


def client_disconnected() -> aiohttp.ClientError:
    return aiohttp.ServerDisconnectedError("Server disconnected")


@dataclass
class Fault:
    """A failure the fake Discord answers with instead of handling the call."""

    method: str
    template: str
    pattern: re.Pattern[str]
    error: BaseException | type[BaseException]
    remaining: int


@dataclass
class Sent:
    """One thing the bot sent to Discord."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    channel_id: int | None = None
    message_id: int | None = None
    user_id: int | None = None
    role_id: int | None = None
    interaction_id: int | None = None
    reason: str | None = None
    at: float = field(default_factory=time.perf_counter)

    @property
    def content(self) -> str:
        data = self.payload.get("data", self.payload) if self.kind == "response" else self.payload
        return (data or {}).get("content") or ""

    @property
    def data(self) -> dict[str, Any]:
        if self.kind == "response":
            return self.payload.get("data") or {}
        return self.payload

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []

    @property
    def text(self) -> str:
        """Content plus every embed's title, description and fields, for simple assertions."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append(embed.get("title") or "")
            parts.append(embed.get("description") or "")
            for embed_field in embed.get("fields") or []:
                parts.append(f"{embed_field.get('name')}: {embed_field.get('value')}")
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(part for part in parts if part)

    @property
    def ephemeral(self) -> bool:
        return bool(self.data.get("flags", 0) & 64)

    @property
    def response_type(self) -> int | None:
        return self.payload.get("type") if self.kind == "response" else None

    @property
    def custom_ids(self) -> list[str]:
        return list(iter_custom_ids(self.data.get("components") or []))

    def file(self, name: str) -> bytes:
        for filename, content in self.files:
            if filename == name:
                return content
        raise AssertionError(f"no file {name!r}; sent files: {[f for f, _ in self.files]}")


def iter_custom_ids(components: Iterable[dict[str, Any]]) -> Iterable[str]:
    for component in components:
        if "custom_id" in component:
            yield component["custom_id"]
        yield from iter_custom_ids(component.get("components") or [])
        accessory = component.get("accessory")
        if accessory:
            yield from iter_custom_ids([accessory])


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


def _user_payload(user: discord.abc.User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.name,
        "discriminator": "0",
        "global_name": getattr(user, "global_name", None),
        "avatar": None,
        "bot": user.bot,
    }


class FakeDiscord:
    """Discord's side of the conversation: stored messages, DM channels and the call log."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.dm_channels: dict[int, int] = {}
        self.closed_dms: set[int] = set()
        self.unknown_calls: list[str] = []
        # Payloads refused for breaking Discord's limits: (route handler, Discord's errors tree).
        self.refused: list[tuple[str, dict[str, Any]]] = []
        self.cdn: dict[str, bytes] = {}
        self.interactions: dict[str, int] = {}
        self.interaction_channels: dict[int, int] = {}
        self.original_messages: dict[int, int] = {}
        self.response_times: dict[int, float] = {}
        self.responded: set[int] = set()
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self.faults: list[Fault] = []
        self.faults_raised: list[str] = []
        self.state: discord.state.ConnectionState | None = None
        self._http_routes = [
            (method, _template_regex(template), handler)
            for method, template, handler in (
                ("POST", "/channels/{channel_id}/messages", self._send_message),
                ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message),
                ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
                ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message),
                ("POST", "/users/@me/channels", self._open_dm),
                ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._add_role),
                ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._remove_role),
                ("DELETE", "/guilds/{guild_id}/members/{user_id}", self._kick),
                ("PUT", "/applications/{application_id}/commands", self._sync_commands),
                ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._sync_commands),
            )
        ]
        self._webhook_routes = [
            (method, _template_regex(template), handler)
            for method, template, handler in (
                ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
                ("POST", "/webhooks/{application_id}/{token}", self._followup),
                ("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self._get_webhook_message),
                ("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", self._edit_webhook_message),
                ("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", self._delete_webhook_message),
            )
        ]

    # ---- queries used by tests -------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def of_kind(self, kind: str) -> list[Sent]:
        return [item for item in self.sent if item.kind == kind]

    def channel_messages(self, channel_id: int) -> list[Sent]:
        return [item for item in self.sent if item.kind == "message" and item.channel_id == channel_id]

    def dms_to(self, user_id: int) -> list[Sent]:
        return [item for item in self.sent if item.kind == "dm" and item.user_id == user_id]

    def stored_message(self, message_id: int) -> dict[str, Any] | None:
        return self.messages.get(message_id)

    def delete_stored_message(self, message_id: int) -> None:
        """What a moderator deleting the message in the client does."""
        self.messages.pop(message_id, None)

    def since(self, mark: int) -> list[Sent]:
        return self.sent[mark:]

    # ---- fault injection -------------------------------------------------------------

    def fail_next(
        self, method: str, path_template: str, error: BaseException | type[BaseException], *, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` on a path matching `path_template` (Discord's
        URL template, `{name}` matching one segment, literal ids allowed) with `error`: a
        `server_error()`, a `connection_reset()`, a `client_disconnected()`, or any HTTPException."""
        self.faults.append(Fault(method, path_template, _template_regex(path_template), error, times))

    def pending_faults(self) -> list[str]:
        """Faults not raised yet: a test that expected its fault to fire checks this is empty."""
        return [f"{fault.method} {fault.template} x{fault.remaining}" for fault in self.faults if fault.remaining]

    def dm_channel_id(self, user_id: int) -> int:
        """The DM channel with a user, opened now if needed (Discord keeps one per user)."""
        for channel_id, owner in self.dm_channels.items():
            if owner == user_id:
                return channel_id
        channel_id = self.next_id()
        self.dm_channels[channel_id] = user_id
        return channel_id

    def _raise_fault(self, route: Route) -> None:
        path = route.url.removeprefix(Route.BASE)
        for fault in self.faults:
            if fault.remaining and fault.method == route.method and fault.pattern.match(path):
                fault.remaining -= 1
                self.faults_raised.append(f"{route.method} {path}")
                raise fault.error

    # ---- message storage -------------------------------------------------------------

    def _message_payload(self, channel_id: int, data: dict[str, Any], files: list[tuple[str, bytes]]) -> dict:
        message_id = self.next_id()
        attachments = [
            {
                "id": str(self.next_id()),
                "filename": name,
                "size": len(content),
                "url": f"https://cdn.example.invalid/{message_id}/{name}",
                "proxy_url": f"https://cdn.example.invalid/{message_id}/{name}",
            }
            for name, content in files
        ]
        bot_user = self.state.user if self.state else None
        return {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": 0,
            "content": data.get("content") or "",
            "author": _user_payload(bot_user) if bot_user else {"id": str(BOT_USER_ID), "username": "Rollcall"},
            "embeds": data.get("embeds") or [],
            "components": data.get("components") or [],
            "attachments": attachments,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "flags": data.get("flags") or 0,
        }

    @staticmethod
    def _split_body(kwargs: dict[str, Any], files: Any, form: Any) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        body = kwargs.get("json") or kwargs.get("payload") or {}
        multipart = form or kwargs.get("multipart")
        if multipart:
            for part in multipart:
                if part.get("name") == "payload_json":
                    body = json.loads(part["value"])
        recorded: list[tuple[str, bytes]] = []
        for file in files or ():
            file.reset()
            recorded.append((file.filename, file.fp.read()))
        return body, recorded

    def _record(self, sent: Sent) -> Sent:
        self.sent.append(sent)
        return sent

    # ---- REST routes -----------------------------------------------------------------

    async def http_request(self, route: Route, files: Any, form: Any, kwargs: dict[str, Any]) -> Any:
        self._raise_fault(route)
        return await self._route(self._http_routes, route, files, form, kwargs)

    async def webhook_request(self, route: Route, files: Any, kwargs: dict[str, Any]) -> Any:
        self._raise_fault(route)
        return await self._route(self._webhook_routes, route, files, None, kwargs)

    async def _route(self, routes: list, route: Route, files: Any, form: Any, kwargs: dict[str, Any]) -> Any:
        path = route.url.removeprefix(Route.BASE)
        for method, pattern, handler in routes:
            match = pattern.match(path)
            if method == route.method and match:
                body, recorded = self._split_body(kwargs, files, form)
                self._check_limits(handler, body)
                params = {k: v for k, v in match.groupdict().items()}
                return await handler(params, body, recorded, kwargs)
        self.unknown_calls.append(f"{route.method} {path}")
        raise UnknownEndpoint(f"the harness does not model {route.method} {path}")

    def _check_limits(self, handler: Any, body: Any) -> None:
        """Refuse what Discord refuses: every payload is held to Discord's size limits before
        the route acts on it, so an over-limit reply fails the test that caused it."""
        checks = {
            self._send_message: discord_limits.message_errors,
            self._edit_message: discord_limits.message_errors,
            self._followup: discord_limits.message_errors,
            self._edit_webhook_message: discord_limits.message_errors,
            self._interaction_callback: discord_limits.interaction_callback_errors,
            self._sync_commands: discord_limits.command_sync_errors,
        }
        check = checks.get(handler)
        errors = check(body) if check is not None else None
        if errors:
            self.refused.append((handler.__name__, errors.tree))
            raise invalid_form_body(errors)

    def _guild_channel(self, channel_id: int) -> discord.abc.GuildChannel | None:
        for guild in self.state.guilds:
            channel = guild.get_channel_or_thread(channel_id)
            if channel is not None:
                return channel
        return None

    async def _send_message(self, params, body, files, kwargs):
        channel_id = int(params["channel_id"])
        if channel_id in self.dm_channels:
            user_id = self.dm_channels[channel_id]
            if user_id in self.closed_dms:
                raise forbidden(50007, "Cannot send messages to this user")
            kind = "dm"
        else:
            channel = self._guild_channel(channel_id)
            if channel is None:
                raise not_found(10003, "Unknown Channel")
            granted = channel.permissions_for(channel.guild.me)
            if not (granted.view_channel and granted.send_messages):
                raise forbidden(50013, "Missing Permissions")
            user_id = None
            kind = "message"
        message = self._message_payload(channel_id, body, files)
        self.messages[int(message["id"])] = message
        self._record(Sent(kind, body, files, channel_id=channel_id, message_id=int(message["id"]), user_id=user_id))
        return message

    def _ensure_channel(self, channel_id: int) -> None:
        if channel_id not in self.dm_channels and self._guild_channel(channel_id) is None:
            raise not_found(10003, "Unknown Channel")

    async def _edit_message(self, params, body, files, kwargs):
        channel_id = int(params["channel_id"])
        self._ensure_channel(channel_id)
        channel = self._guild_channel(channel_id)
        if channel is not None and not channel.permissions_for(channel.guild.me).view_channel:
            raise forbidden(50001, "Missing Access")
        message_id = int(params["message_id"])
        message = self.messages.get(message_id)
        if message is None:
            raise not_found(10008, "Unknown Message")
        message.update({key: value for key, value in body.items() if key != "attachments"})
        message["edited_timestamp"] = datetime.now(UTC).isoformat()
        self._record(Sent("edit", body, files, channel_id=int(params["channel_id"]), message_id=message_id))
        return message

    async def _get_message(self, params, body, files, kwargs):
        self._ensure_channel(int(params["channel_id"]))
        message = self.messages.get(int(params["message_id"]))
        if message is None or int(message["channel_id"]) != int(params["channel_id"]):
            raise not_found(10008, "Unknown Message")
        return message

    async def _delete_message(self, params, body, files, kwargs):
        message_id = int(params["message_id"])
        if self.messages.pop(message_id, None) is None:
            raise not_found(10008, "Unknown Message")
        self._record(Sent("delete", {}, channel_id=int(params["channel_id"]), message_id=message_id))

    async def _open_dm(self, params, body, files, kwargs):
        user_id = int(body["recipient_id"])
        channel_id = next((cid for cid, uid in self.dm_channels.items() if uid == user_id), None)
        if channel_id is None:
            channel_id = self.next_id()
            self.dm_channels[channel_id] = user_id
        user = self.state.get_user(user_id)
        return {"id": str(channel_id), "type": 1, "recipients": [_user_payload(user)] if user else []}

    def _member(self, guild_id: int, user_id: int) -> discord.Member:
        guild = self.state._get_guild(guild_id)
        member = guild.get_member(user_id) if guild else None
        if member is None:
            raise not_found(10007, "Unknown Member")
        return member

    def _ensure_role_manageable(self, guild_id: int, role_id: int) -> discord.Role:
        guild = self.state._get_guild(guild_id)
        role = guild.get_role(role_id)
        if role is None:
            raise not_found(10011, "Unknown Role")
        if not guild.me.guild_permissions.manage_roles or role >= guild.me.top_role:
            raise forbidden(50013, "Missing Permissions")
        return role

    async def _add_role(self, params, body, files, kwargs):
        guild_id, user_id, role_id = int(params["guild_id"]), int(params["user_id"]), int(params["role_id"])
        member = self._member(guild_id, user_id)
        role = self._ensure_role_manageable(guild_id, role_id)
        self._record(Sent("role_add", {}, user_id=user_id, role_id=role_id, reason=kwargs.get("reason")))
        dpy_backend.update_member(member, roles=[r for r in member.roles if not r.is_default()] + [role])

    async def _remove_role(self, params, body, files, kwargs):
        guild_id, user_id, role_id = int(params["guild_id"]), int(params["user_id"]), int(params["role_id"])
        member = self._member(guild_id, user_id)
        self._ensure_role_manageable(guild_id, role_id)
        self._record(Sent("role_remove", {}, user_id=user_id, role_id=role_id, reason=kwargs.get("reason")))
        dpy_backend.update_member(member, roles=[r for r in member.roles if not r.is_default() and r.id != role_id])

    async def _kick(self, params, body, files, kwargs):
        guild_id, user_id = int(params["guild_id"]), int(params["user_id"])
        member = self._member(guild_id, user_id)
        if not member.guild.me.guild_permissions.kick_members:
            raise forbidden(50013, "Missing Permissions")
        self._record(Sent("kick", {}, user_id=user_id, reason=kwargs.get("reason")))
        dpy_backend.delete_member(member)

    async def _sync_commands(self, params, body, files, kwargs):
        self._record(Sent("sync", {"commands": body, "guild_id": params.get("guild_id")}))
        return [
            {**command, "id": str(self.next_id()), "application_id": str(APP_ID), "version": "1"}
            for command in (body or [])
        ]

    # ---- webhook (interaction) routes ------------------------------------------------

    async def _interaction_callback(self, params, body, files, kwargs):
        interaction_id = int(params["interaction_id"])
        self.response_times.setdefault(interaction_id, time.perf_counter())
        if interaction_id in self.responded:
            raise discord.HTTPException(
                FakeResponse(400, "Bad Request"),  # type: ignore[arg-type]
                {"code": 40060, "message": "Interaction has already been acknowledged."},
            )
        self.responded.add(interaction_id)
        response_type = body.get("type")
        data = body.get("data") or {}
        channel_id = self.interaction_channels.get(interaction_id)
        self._record(Sent("response", body, files, channel_id=channel_id, interaction_id=interaction_id))
        interaction = {
            "id": str(interaction_id),
            "type": 2,
            "response_message_loading": response_type == 5,
            "response_message_ephemeral": bool(data.get("flags", 0) & 64),
        }
        result: dict[str, Any] = {"interaction": interaction}
        if response_type in (4, 5, 7):
            if response_type == 7:
                message_id = self.original_messages.get(interaction_id)
                message = self.messages.get(message_id) if message_id else None
                if message is not None:
                    message.update({k: v for k, v in data.items() if k != "attachments"})
            else:
                message = self._message_payload(channel_id or 0, data, files)
                self.messages[int(message["id"])] = message
                self.original_messages[interaction_id] = int(message["id"])
            if message is not None:
                interaction["response_message_id"] = message["id"]
                result["resource"] = {"type": response_type, "message": message}
        return result

    def _interaction_for_token(self, token: str) -> int:
        return self.interactions[token]

    async def _followup(self, params, body, files, kwargs):
        interaction_id = self._interaction_for_token(params["token"])
        channel_id = self.interaction_channels.get(interaction_id) or 0
        message = self._message_payload(channel_id, body, files)
        self.messages[int(message["id"])] = message
        self._record(
            Sent(
                "followup",
                body,
                files,
                channel_id=channel_id,
                message_id=int(message["id"]),
                interaction_id=interaction_id,
            )
        )
        return message

    def _webhook_message_id(self, params) -> int:
        if params["message_id"] == "@original":
            interaction_id = self._interaction_for_token(params["token"])
            message_id = self.original_messages.get(interaction_id)
            if message_id is None:
                raise not_found(10008, "Unknown Message")
            return message_id
        return int(params["message_id"])

    async def _get_webhook_message(self, params, body, files, kwargs):
        message = self.messages.get(self._webhook_message_id(params))
        if message is None:
            raise not_found(10008, "Unknown Message")
        return message

    async def _edit_webhook_message(self, params, body, files, kwargs):
        message_id = self._webhook_message_id(params)
        message = self.messages.get(message_id)
        if message is None:
            raise not_found(10008, "Unknown Message")
        message.update({k: v for k, v in body.items() if k != "attachments"})
        interaction_id = self._interaction_for_token(params["token"])
        self._record(Sent("edit_response", body, files, message_id=message_id, interaction_id=interaction_id))
        return message

    async def _delete_webhook_message(self, params, body, files, kwargs):
        message_id = self._webhook_message_id(params)
        self.messages.pop(message_id, None)
        self._record(Sent("delete_response", {}, message_id=message_id))


class FakeDiscordHttp(HTTPClient):
    """The bot's REST client, answered by `FakeDiscord` instead of the network."""

    def __init__(self, discord_side: FakeDiscord, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.discord_side = discord_side
        self.token = "test-token"

    async def request(self, route: Route, *, files=None, form=None, **kwargs: Any) -> Any:
        return await self.discord_side.http_request(route, files, form, kwargs)

    async def get_from_cdn(self, url: str) -> bytes:
        try:
            return self.discord_side.cdn[url]
        except KeyError:
            raise not_found(0, "404: Not Found") from None

    async def close(self) -> None:
        return None


# ---- the world: fixed ids so that a restarted bot sees the same server ------------------


@dataclass(frozen=True)
class RoleSpec:
    name: str
    id: int
    position: int
    permissions: discord.Permissions


@dataclass(frozen=True)
class UserSpec:
    name: str
    id: int
    roles: tuple[str, ...] = ()
    display_name: str | None = None


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    id: int
    bot_denied: discord.Permissions | None = None
    # None: everyone can view it. Otherwise @everyone is denied View Channel and these roles are allowed it.
    visible_to: tuple[str, ...] | None = None


def _snowflake(offset: int) -> int:
    return GUILD_ID + offset


DEFAULT_ROLES = (
    RoleSpec("Admin", _snowflake(11), 5, discord.Permissions(manage_guild=True)),
    RoleSpec("Organizer", _snowflake(12), 4, discord.Permissions.none()),
    RoleSpec("Student", _snowflake(13), 2, discord.Permissions.none()),
    RoleSpec("Member", _snowflake(14), 3, discord.Permissions.none()),
    RoleSpec("Rollcall", _snowflake(15), 10, BOT_PERMISSIONS),
    RoleSpec("Moderators", _snowflake(16), 20, discord.Permissions.none()),
)
DEFAULT_CHANNELS = (
    ChannelSpec("general", _snowflake(21)),
    ChannelSpec("admin", _snowflake(22), visible_to=("Admin", "Organizer", "Rollcall")),
    ChannelSpec("attendance", _snowflake(23)),
    ChannelSpec("verification", _snowflake(24)),
    ChannelSpec("log", _snowflake(25)),
    ChannelSpec("lecture-b", _snowflake(26)),
    ChannelSpec("announcements", _snowflake(27), bot_denied=discord.Permissions(send_messages=True)),
)
DEFAULT_USERS = (
    UserSpec("admin", _snowflake(31), ("Admin",)),
    UserSpec("organizer", _snowflake(32), ("Organizer",)),
    UserSpec("member", _snowflake(33), ("Member",)),
    UserSpec("student", _snowflake(34), ("Student",)),
    UserSpec("student2", _snowflake(35), ("Student",)),
    UserSpec("student3", _snowflake(36), ("Student",)),
)


@dataclass
class World:
    roles: tuple[RoleSpec, ...] = DEFAULT_ROLES
    channels: tuple[ChannelSpec, ...] = DEFAULT_CHANNELS
    users: list[UserSpec] = field(default_factory=lambda: list(DEFAULT_USERS))

    def add_users(self, specs: Iterable[UserSpec]) -> None:
        self.users.extend(specs)


def populate_guild(state: discord.state.ConnectionState, world: World) -> discord.Guild:
    everyone = dpy_factories.make_role_dict("@everyone", GUILD_ID, position=0, permissions=EVERYONE_PERMISSIONS.value)
    roles = [everyone] + [
        dpy_factories.make_role_dict(spec.name, spec.id, position=spec.position, permissions=spec.permissions.value)
        for spec in world.roles
    ]
    guild = dpy_backend.make_guild("Rollcall Test Server", roles=roles, id_num=GUILD_ID)
    role_ids = {spec.name: spec.id for spec in world.roles}
    for position, spec in enumerate(world.channels):
        overwrites = []
        if spec.bot_denied is not None:
            overwrites.append({"id": role_ids["Rollcall"], "type": 0, "allow": "0", "deny": str(spec.bot_denied.value)})
        if spec.visible_to is not None:
            view = str(discord.Permissions(view_channel=True).value)
            overwrites.append({"id": GUILD_ID, "type": 0, "allow": "0", "deny": view})
            overwrites.extend({"id": role_ids[name], "type": 0, "allow": view, "deny": "0"} for name in spec.visible_to)
        dpy_backend.make_text_channel(
            spec.name, guild, position=position, id_num=spec.id, permission_overwrites=overwrites or None
        )
    bot_member_data = dpy_factories.make_member_dict(guild, state.user, [role_ids["Rollcall"]])
    state.parse_guild_member_add(bot_member_data)
    for spec in world.users:
        add_member(state, guild, spec)
    return guild


def add_member(state: discord.state.ConnectionState, guild: discord.Guild, spec: UserSpec) -> discord.Member:
    role_ids = [role.id for name in spec.roles for role in guild.roles if role.name == name]
    user = state.store_user(dpy_factories.make_user_dict(spec.name, "0001", None, spec.id))
    data = dpy_factories.make_member_dict(guild, user, role_ids, joined=0)
    if spec.display_name:
        data["nick"] = spec.display_name
    # Dispatch is off so that seeding the world does not look like members joining.
    state.stop_dispatch()  # type: ignore[attr-defined]
    try:
        state.parse_guild_member_add(data)
    finally:
        state.start_dispatch()  # type: ignore[attr-defined]
    return guild.get_member(spec.id)


# ---- interactions -------------------------------------------------------------------------


@dataclass
class InteractionResult:
    """Everything the bot sent while handling one interaction."""

    interaction_id: int
    sent: list[Sent]

    @property
    def own(self) -> list[Sent]:
        return [item for item in self.sent if item.interaction_id == self.interaction_id]

    @property
    def response(self) -> Sent:
        for item in self.own:
            if item.kind == "response":
                return item
        raise AssertionError(f"the bot never responded; it sent {[s.kind for s in self.sent]}")

    @property
    def reply(self) -> Sent:
        """What the member reads: the message response, or the first follow-up after a defer."""
        response = self.response
        if response.response_type in (5, 6):
            later = [s for s in self.own if s.kind in ("followup", "edit_response")]
            if not later:
                raise AssertionError("the bot deferred and never followed up")
            return later[0]
        return response

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def ephemeral(self) -> bool:
        response = self.response
        return response.ephemeral

    @property
    def modal(self) -> dict[str, Any]:
        response = self.response
        if response.response_type != 9:
            raise AssertionError(f"expected a modal, got response type {response.response_type}")
        return response.payload["data"]

    @property
    def choices(self) -> list[dict[str, Any]]:
        response = self.response
        if response.response_type != 8:
            raise AssertionError(f"expected autocomplete choices, got response type {response.response_type}")
        return response.payload["data"]["choices"]

    def of_kind(self, kind: str) -> list[Sent]:
        return [item for item in self.sent if item.kind == kind]


# Tasks that belong to the interaction and finish with it; long-lived bot tasks are excluded.
_INTERACTION_TASK_PREFIXES = ("CommandTree-invoker", "discord-ui-", "discord.py: on_interaction")


class Harness:
    def __init__(self, bot: discord.Client, discord_side: FakeDiscord, guild: discord.Guild) -> None:
        self.bot = bot
        self.discord = discord_side
        self.guild = guild

    # ---- lookups ----------------------------------------------------------------------

    def member(self, name: str) -> discord.Member:
        member = discord.utils.get(self.guild.members, name=name)
        if member is None:
            raise KeyError(name)
        return member

    def channel(self, name: str) -> discord.TextChannel:
        channel = discord.utils.get(self.guild.text_channels, name=name)
        if channel is None:
            raise KeyError(name)
        return channel

    def role(self, name: str) -> discord.Role:
        role = discord.utils.get(self.guild.roles, name=name)
        if role is None:
            raise KeyError(name)
        return role

    def add_member(self, name: str, *, roles: tuple[str, ...] = (), display_name: str | None = None) -> discord.Member:
        spec = UserSpec(name, self.discord.next_id(), roles, display_name)
        return add_member(self.bot._connection, self.guild, spec)

    def set_channel_overwrite(
        self,
        channel: discord.TextChannel,
        target: discord.Role | discord.Member,
        overwrite: discord.PermissionOverwrite,
    ) -> None:
        """What an admin editing a channel's permissions does (a CHANNEL_UPDATE from the gateway).
        dpytest's own helper writes the overwrite type as text, which discord.py 2 ignores."""
        data = dpy_factories.dict_from_channel(channel)
        kept = [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in channel._overwrites
            if o.id != target.id
        ]
        allow, deny = overwrite.pair()
        kind = 0 if isinstance(target, discord.Role) else 1
        kept.append({"id": str(target.id), "type": kind, "allow": str(allow.value), "deny": str(deny.value)})
        data["permission_overwrites"] = kept
        self.bot._connection.parse_channel_update(data)

    async def member_join(self, name: str) -> discord.Member:
        """A member joining, through the gateway event (dpytest), so on_member_join runs."""
        user = dpy_backend.make_user(name, "0001", id_num=self.discord.next_id())
        member = await dpytest.member_join(self.guild, user)
        await self.settle()
        return member

    # ---- payload builders ---------------------------------------------------------------

    def _member_payload(self, member: discord.Member, channel: discord.abc.GuildChannel) -> dict[str, Any]:
        return {
            "user": _user_payload(member),
            "roles": [str(role.id) for role in member.roles if not role.is_default()],
            "joined_at": (member.joined_at or datetime(2026, 1, 1, tzinfo=UTC)).isoformat(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": member.nick,
            "permissions": str(channel.permissions_for(member).value),
        }

    def _base_payload(self, interaction_type: int, user: discord.Member, channel: discord.abc.GuildChannel) -> dict:
        interaction_id = self.discord.next_id()
        token = f"token-{interaction_id}"
        self.discord.interactions[token] = interaction_id
        self.discord.interaction_channels[interaction_id] = channel.id
        return {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": interaction_type,
            "token": token,
            "version": 1,
            "guild_id": str(self.guild.id),
            "channel_id": str(channel.id),
            "channel": {"id": str(channel.id), "type": 0, "name": channel.name, "guild_id": str(self.guild.id)},
            "member": self._member_payload(user, channel),
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": str(channel.permissions_for(self.guild.me).value),
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild.id)},
            "context": 0,
        }

    def _find_command(self, qualified_name: str) -> discord.app_commands.Command:
        parts = qualified_name.split()
        command = self.bot.tree.get_command(parts[0])
        for part in parts[1:]:
            command = command.get_command(part) if command else None
        if not isinstance(command, discord.app_commands.Command):
            raise KeyError(f"no slash command /{qualified_name}")
        return command

    def _option_value(self, option_type: AppCommandOptionType, value: Any, resolved: dict[str, dict]) -> Any:
        if isinstance(value, (discord.Member, discord.User)):
            resolved.setdefault("users", {})[str(value.id)] = _user_payload(value)
            if isinstance(value, discord.Member):
                member = {k: v for k, v in self._member_payload(value, self.guild.text_channels[0]).items()}
                member.pop("user")
                resolved.setdefault("members", {})[str(value.id)] = member
            return str(value.id)
        if isinstance(value, discord.Role):
            resolved.setdefault("roles", {})[str(value.id)] = dpy_factories.dict_from_role(value)
            return str(value.id)
        if isinstance(value, discord.abc.GuildChannel):
            resolved.setdefault("channels", {})[str(value.id)] = {
                "id": str(value.id),
                "type": value.type.value,
                "name": value.name,
                "permissions": str(value.permissions_for(self.guild.me).value),
                "guild_id": str(self.guild.id),
            }
            return str(value.id)
        if isinstance(value, UploadedFile):
            attachment_id = self.discord.next_id()
            resolved.setdefault("attachments", {})[str(attachment_id)] = {
                "id": str(attachment_id),
                "filename": value.filename,
                "size": len(value.content),
                "url": f"https://cdn.example.invalid/{attachment_id}/{value.filename}",
                "proxy_url": f"https://cdn.example.invalid/{attachment_id}/{value.filename}",
                "content_type": value.content_type,
            }
            self.discord.cdn[f"https://cdn.example.invalid/{attachment_id}/{value.filename}"] = value.content
            return str(attachment_id)
        return value

    def command_payload(
        self,
        qualified_name: str,
        *,
        user: discord.Member,
        channel: discord.abc.GuildChannel | None = None,
        focused: str | None = None,
        options: dict[str, Any] | None = None,
        **more_options: Any,
    ) -> dict[str, Any]:
        options = {**(options or {}), **more_options}
        command = self._find_command(qualified_name)
        channel = channel or self.channel("general")
        resolved: dict[str, dict] = {}
        parameters = {parameter.display_name: parameter for parameter in command.parameters}
        built = []
        for name, value in options.items():
            if value is None:
                continue
            if name not in parameters:
                raise KeyError(f"/{qualified_name} has no option {name!r}; it has {sorted(parameters)}")
            option_type = parameters[name].type
            entry = {"name": name, "type": option_type.value, "value": self._option_value(option_type, value, resolved)}
            if name == focused:
                entry["focused"] = True
            built.append(entry)
        parts = qualified_name.split()
        nested = built
        for depth in range(len(parts) - 1, 0, -1):
            kind = 1 if depth == len(parts) - 1 else 2  # subcommand, then subcommand group
            nested = [{"name": parts[depth], "type": kind, "options": nested}]
        data: dict[str, Any] = {
            "id": str(self.discord.next_id()),
            "name": parts[0],
            "type": 1,
            "options": nested,
            "guild_id": str(self.guild.id),
        }
        if resolved:
            data["resolved"] = resolved
        payload = self._base_payload(4 if focused else 2, user, channel)
        payload["data"] = data
        return payload

    def component_payload(
        self,
        message: dict[str, Any] | Sent,
        custom_id: str,
        *,
        user: discord.Member,
        values: list[str] | None = None,
        component_type: int = 2,
    ) -> dict[str, Any]:
        stored = self._stored(message)
        if custom_id not in list(iter_custom_ids(stored.get("components") or [])):
            raise AssertionError(
                f"{custom_id!r} is not on that message; it has {list(iter_custom_ids(stored.get('components') or []))}"
            )
        channel = self.guild.get_channel(int(stored["channel_id"])) or self.channel("general")
        payload = self._base_payload(3, user, channel)
        payload["message"] = stored
        payload["data"] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            payload["data"]["values"] = values
        self.discord.original_messages[int(payload["id"])] = int(stored["id"])
        return payload

    def _stored(self, message: dict[str, Any] | Sent) -> dict[str, Any]:
        if isinstance(message, Sent):
            message_id = message.message_id
            if message_id is None and message.interaction_id is not None:
                message_id = self.discord.original_messages.get(message.interaction_id)
            stored = self.discord.messages.get(message_id) if message_id else None
            if stored is None:
                raise AssertionError("that message no longer exists on Discord's side")
            return stored
        return message

    def modal_payload(
        self,
        modal: dict[str, Any],
        values: dict[str, str],
        *,
        user: discord.Member,
        channel: discord.abc.GuildChannel | None = None,
    ) -> dict[str, Any]:
        channel = channel or self.channel("general")
        rows = []
        for row in modal.get("components", []):
            inputs = []
            for component in row.get("components", []) if row.get("type") == 1 else [row.get("component", row)]:
                custom_id = component.get("custom_id")
                if custom_id is None:
                    continue
                inputs.append({"type": component["type"], "custom_id": custom_id, "value": values.get(custom_id, "")})
            if row.get("type") == 1:
                rows.append({"type": 1, "components": inputs})
            else:
                rows.append({"type": row.get("type"), "component": inputs[0]} if inputs else row)
        payload = self._base_payload(5, user, channel)
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        return payload

    # ---- dispatch -----------------------------------------------------------------------

    def dispatch_nowait(self, payload: dict[str, Any]) -> None:
        self.bot._connection.parse_interaction_create(payload)

    async def dispatch(self, payload: dict[str, Any]) -> InteractionResult:
        mark = len(self.discord.sent)
        before = asyncio.all_tasks()
        self.dispatch_nowait(payload)
        await self.settle(exclude=before)
        return InteractionResult(int(payload["id"]), self.discord.since(mark))

    async def settle(self, exclude: set[asyncio.Task] | None = None) -> None:
        """Wait for the tasks discord.py started for the last event (with a timeout)."""
        exclude = exclude or set()
        for _ in range(5):
            await asyncio.sleep(0)
            pending = [
                task
                for task in asyncio.all_tasks()
                if task not in exclude and not task.done() and task.get_name().startswith(_INTERACTION_TASK_PREFIXES)
            ]
            if not pending:
                return
            _done, still = await asyncio.wait(pending, timeout=TASK_WAIT_SECONDS)
            if still:
                raise AssertionError(f"interaction tasks did not finish in {TASK_WAIT_SECONDS} s: {still}")

    async def command(
        self,
        qualified_name: str,
        *,
        user: discord.Member | str,
        channel: discord.abc.GuildChannel | str | None = None,
        options: dict[str, Any] | None = None,
        **more_options: Any,
    ) -> InteractionResult:
        """Run a slash command. Options go as keywords; `options=` carries names that clash with
        the harness's own (an option called `channel` or `user`)."""
        user = self.member(user) if isinstance(user, str) else user
        channel = self.channel(channel) if isinstance(channel, str) else channel
        merged = {**(options or {}), **more_options}
        return await self.dispatch(self.command_payload(qualified_name, user=user, channel=channel, options=merged))

    async def autocomplete(
        self,
        qualified_name: str,
        focused: str,
        *,
        user: discord.Member | str,
        channel: discord.abc.GuildChannel | str | None = None,
        options: dict[str, Any] | None = None,
        **more_options: Any,
    ) -> list[dict[str, Any]]:
        user = self.member(user) if isinstance(user, str) else user
        channel = self.channel(channel) if isinstance(channel, str) else channel
        merged = {**(options or {}), **more_options}
        payload = self.command_payload(qualified_name, user=user, channel=channel, focused=focused, options=merged)
        return (await self.dispatch(payload)).choices

    async def click(
        self, message: dict[str, Any] | Sent, custom_id: str, *, user: discord.Member | str
    ) -> InteractionResult:
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(self.component_payload(message, custom_id, user=user))

    async def select(
        self, message: dict[str, Any] | Sent, custom_id: str, values: list[str], *, user: discord.Member | str
    ) -> InteractionResult:
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(
            self.component_payload(message, custom_id, user=user, values=values, component_type=3)
        )

    async def submit_modal(
        self,
        modal: dict[str, Any],
        values: dict[str, str],
        *,
        user: discord.Member | str,
        channel: discord.abc.GuildChannel | str | None = None,
    ) -> InteractionResult:
        user = self.member(user) if isinstance(user, str) else user
        channel = self.channel(channel) if isinstance(channel, str) else channel
        return await self.dispatch(self.modal_payload(modal, values, user=user, channel=channel))

    # ---- direct messages ----------------------------------------------------------------

    def dm_command_payload(self, qualified_name: str, *, user: discord.Member) -> dict[str, Any]:
        """A slash command without options run in the member's DM with the bot (context 1):
        Discord sends `user` instead of `member` and no guild_id."""
        self._find_command(qualified_name)  # an unknown name fails here, not in discord.py
        interaction_id = self.discord.next_id()
        token = f"token-{interaction_id}"
        channel_id = self.discord.dm_channels.setdefault(user.id, self.discord.next_id())
        self.discord.interactions[token] = interaction_id
        self.discord.interaction_channels[interaction_id] = channel_id
        parts = qualified_name.split()
        options: list[dict[str, Any]] = []
        for depth in range(len(parts) - 1, 0, -1):
            options = [{"name": parts[depth], "type": 1 if depth == len(parts) - 1 else 2, "options": options}]
        return {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": 2,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 1, "recipients": [_user_payload(user)]},
            "user": _user_payload(user),
            "locale": "en-US",
            "app_permissions": str(discord.Permissions.text().value),
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild.id)},
            "context": 1,
            "data": {
                "id": str(self.discord.next_id()),
                "name": parts[0],
                "type": 1,
                "options": options,
            },
        }

    async def dm_command(self, qualified_name: str, *, user: discord.Member | str) -> InteractionResult:
        """Run a slash command in the member's DM with the bot."""
        user = self.member(user) if isinstance(user, str) else user
        return await self.dispatch(self.dm_command_payload(qualified_name, user=user))


@dataclass
class UploadedFile:
    """An attachment a member uploads as a command option."""

    filename: str
    content: bytes
    content_type: str = "text/csv"


async def boot_bot(
    settings: Any,
    discord_side: FakeDiscord,
    world: World,
    clock: Any,
) -> tuple[discord.Client, Harness]:
    """Build a bot with `create_bot` and start it against the fake Discord.

    Order matters: discord.py's async setup first, then dpytest (which replaces the
    connection state), then relink the command tree and install our HTTP client, then the
    bot's own setup_hook, so cogs and persistent items register in the final state."""
    from bot import create_bot

    bot = create_bot(settings, clock=clock)
    await bot._async_setup_hook()
    dpytest.configure(bot, guilds=0, text_channels=0, voice_channels=0, members=0)
    state = bot._connection
    state._command_tree = bot.tree
    state.application_id = APP_ID
    client_user = discord.ClientUser(
        state=state, data=dpy_factories.make_user_dict("Rollcall", "0001", None, BOT_USER_ID, bot=True)
    )
    state.user = client_user
    http = FakeDiscordHttp(discord_side, asyncio.get_running_loop())
    bot.http = http
    state.http = http
    bot.tree._http = http  # the tree keeps its own reference, taken when the bot was built
    discord_side.state = state
    guild = populate_guild(state, world)
    await bot.setup_hook()
    return bot, Harness(bot, discord_side, guild)


async def shutdown_bot(bot: discord.Client) -> None:
    """Close the bot as a restart or crash would end it; dpytest's fake socket has no real one."""
    bot.ws = None  # type: ignore[assignment]
    await bot.close()
