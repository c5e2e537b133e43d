"""Discord's side of the conversation: `FakeDiscord` stores the messages the bot posted
(with their raw components), DM channels and every call the bot made, and survives a
restart the way Discord's state does. It answers both the bot's REST client and the
webhook adapter that interaction responses and follow-ups go through, routing by Discord's
URL templates; a call to an endpoint it does not model fails the test, and every payload is
held to Discord's size limits first."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

import discord
from discord.http import Route
from discord.state import ConnectionState

from tests.harness import gateway, guild_rules, limits, private
from tests.harness.faults import (
    INVALID_FORM_BODY,
    Fault,
    UnknownEndpoint,
    bad_request,
    forbidden,
    invalid_form_body,
    not_found,
    request_too_large,
    template_regex,
)
from tests.harness.interactions import InteractionLedger, refuse_ephemeral
from tests.harness.payloads import user_payload
from tests.harness.scheduled_events import ScheduledEvents
from tests.harness.sent import JsonObject, Sent, SentKind, Upload, sent_kind
from tests.harness.webhook import InteractionWebhook
from tests.harness.world import APP_ID, ATTACHMENT_SIZE_LIMIT, BOT_USER_ID, MAX_FILES_PER_MESSAGE, World

# The `{name}` segments of the route's URL template.
RouteParams = dict[str, str]


class RequestOptions(TypedDict, total=False):
    """The keywords a request reached the fake with: a JSON body (`json` from the REST client,
    `payload` from the webhook adapter) or multipart parts, and the audit-log reason."""

    json: JsonObject | list[JsonObject] | None
    payload: JsonObject | None
    multipart: list[JsonObject] | None
    reason: str | None


# A route: its params, the JSON body (an object; a list of commands for a sync), the files
# sent with it and the request's keywords; it answers with Discord's JSON or nothing.
RouteHandler = Callable[[RouteParams, Any, list[Upload], RequestOptions], Awaitable[object]]


class FakeDiscord:
    """Discord's side of the conversation: stored messages, DM channels and the call log."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.messages: dict[int, JsonObject] = {}
        self.dm_channels: dict[int, int] = {}
        self.closed_dms: set[int] = set()
        self.unknown_calls: list[str] = []
        # Payloads refused for breaking Discord's limits: (route handler, Discord's errors tree).
        self.refused: list[tuple[str, JsonObject]] = []
        self.cdn: dict[str, bytes] = {}
        self.interactions: dict[str, int] = {}
        self.interaction_channels: dict[int, int] = {}
        self.original_messages: dict[int, int] = {}
        self.response_times: dict[int, float] = {}
        self.responded: set[int] = set()
        self.ledger = InteractionLedger()
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self.faults: list[Fault] = []
        self.faults_raised: list[str] = []
        self.state: ConnectionState[Any] | None = None
        # Discord's truth about the server (members, their roles); the boot shares the test's world.
        self.world = World()
        # The per-request upload limit Discord tells the bot (`attachment_size_limit`) and holds it to;
        # a test lowers it to exercise zipping and splitting without building 25 MiB files.
        self.attachment_size_limit = ATTACHMENT_SIZE_LIMIT
        self.scheduled_events = ScheduledEvents(self)
        self._http_routes: list[tuple[str, re.Pattern[str], RouteHandler]] = [
            (method, template_regex(template), handler)
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
                *self.scheduled_events.routes(),
            )
        ]
        self.webhook = InteractionWebhook(self)
        self._webhook_routes: list[tuple[str, re.Pattern[str], RouteHandler]] = [
            (method, template_regex(template), handler)
            for method, template, handler in (
                ("POST", "/interactions/{interaction_id}/{token}/callback", self.webhook.callback),
                ("POST", "/webhooks/{application_id}/{token}", self.webhook.followup),
                ("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self.webhook.get_message),
                ("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", self.webhook.edit_message),
                ("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", self.webhook.delete_message),
            )
        ]

    # ---- queries used by tests -------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def of_kind(self, kind: SentKind) -> list[Sent]:
        """Everything of one kind sent so far; a kind that does not exist raises."""
        checked = sent_kind(kind)
        return [item for item in self.sent if item.kind == checked]

    def channel_messages(self, channel_id: int) -> list[Sent]:
        return [item for item in self.sent if item.kind == "message" and item.channel_id == channel_id]

    def dms_to(self, user_id: int) -> list[Sent]:
        return [item for item in self.sent if item.kind == "dm" and item.user_id == user_id]

    def stored_message(self, message_id: int) -> JsonObject | None:
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
        self.faults.append(Fault(method, path_template, template_regex(path_template), error, times))

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
        path = private.route_path(route)
        for fault in self.faults:
            if fault.remaining and fault.method == route.method and fault.pattern.match(path):
                fault.remaining -= 1
                self.faults_raised.append(f"{route.method} {path}")
                raise fault.error

    # ---- message storage -------------------------------------------------------------

    def _message_payload(self, channel_id: int, data: JsonObject, files: list[Upload]) -> JsonObject:
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
            "author": user_payload(bot_user) if bot_user else {"id": str(BOT_USER_ID), "username": "Rollcall"},
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
    def _split_body(
        kwargs: RequestOptions, files: Sequence[discord.File] | None, form: list[JsonObject] | None
    ) -> tuple[JsonObject | list[JsonObject], list[Upload]]:
        body: JsonObject | list[JsonObject] = kwargs.get("json") or kwargs.get("payload") or {}
        multipart = form or kwargs.get("multipart")
        if multipart:
            for part in multipart:
                if part.get("name") == "payload_json":
                    body = json.loads(part["value"])
        recorded: list[Upload] = []
        for file in files or ():
            file.reset()
            recorded.append((file.filename, file.fp.read()))
        return body, recorded

    def _record(self, sent: Sent) -> Sent:
        self.sent.append(sent)
        return sent

    # ---- REST routes -----------------------------------------------------------------

    async def http_request(
        self,
        route: Route,
        files: Sequence[discord.File] | None,
        form: list[JsonObject] | None,
        kwargs: RequestOptions,
    ) -> object:
        self._raise_fault(route)
        return await self._route(self._http_routes, route, files, form, kwargs)

    async def webhook_request(
        self, route: Route, files: Sequence[discord.File] | None, kwargs: RequestOptions
    ) -> object:
        self._raise_fault(route)
        return await self._route(self._webhook_routes, route, files, None, kwargs)

    async def _route(
        self,
        routes: list[tuple[str, re.Pattern[str], RouteHandler]],
        route: Route,
        files: Sequence[discord.File] | None,
        form: list[JsonObject] | None,
        kwargs: RequestOptions,
    ) -> object:
        path = private.route_path(route)
        for method, pattern, handler in routes:
            match = pattern.match(path)
            if method == route.method and match:
                body, recorded = self._split_body(kwargs, files, form)
                self._check_limits(handler, body)
                self._check_uploads(recorded)
                params: RouteParams = match.groupdict()
                return await handler(params, body, recorded, kwargs)
        self.unknown_calls.append(f"{route.method} {path}")
        raise UnknownEndpoint(f"the harness does not model {route.method} {path}")

    def _check_limits(self, handler: RouteHandler, body: JsonObject | list[JsonObject]) -> None:
        """Refuse what Discord refuses: every payload is held to Discord's size limits before
        the route acts on it, so an over-limit reply fails the test that caused it."""
        checks: dict[RouteHandler, Callable[[Any], limits.FormErrors]] = {
            self._send_message: limits.message_errors,
            self._edit_message: limits.message_errors,
            self.webhook.followup: limits.message_errors,
            self.webhook.edit_message: limits.message_errors,
            self.webhook.callback: limits.interaction_callback_errors,
            self._sync_commands: limits.command_sync_errors,
        }
        check = checks.get(handler)
        errors = check(body) if check is not None else None
        if errors:
            self.refused.append((handler.__name__, errors.tree))
            raise invalid_form_body(errors)

    def _check_uploads(self, files: list[Upload]) -> None:
        """Discord answers 413 (40005) to a request whose files pass the size limit, and 400 to more
        than ten files in one message."""
        if len(files) > MAX_FILES_PER_MESSAGE:
            raise bad_request(INVALID_FORM_BODY, f"Must be {MAX_FILES_PER_MESSAGE} or fewer attachments")
        if sum(len(data) for _, data in files) > self.attachment_size_limit:
            raise request_too_large()

    def _guild_channel(self, channel_id: int) -> discord.abc.GuildChannel | None:
        for guild in self.state.guilds:
            channel = guild.get_channel_or_thread(channel_id)
            if channel is not None:
                return channel
        return None

    async def _send_message(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        channel_id = int(params["channel_id"])
        if channel_id in self.dm_channels:
            user_id = self.dm_channels[channel_id]
            guild_rules.ensure_can_dm(self.world, self.closed_dms, user_id)
            kind: SentKind = "dm"
        else:
            channel = self._guild_channel(channel_id)
            if channel is None:
                raise not_found(10003, "Unknown Channel")
            guild_rules.ensure_can_post(channel, body, files)
            user_id = None
            kind = "message"
        message = self._message_payload(channel_id, body, files)
        self.messages[int(message["id"])] = message
        self._record(Sent(kind, body, files, channel_id=channel_id, message_id=int(message["id"]), user_id=user_id))
        return message

    def _ensure_channel(self, channel_id: int) -> None:
        if channel_id not in self.dm_channels and self._guild_channel(channel_id) is None:
            raise not_found(10003, "Unknown Channel")

    async def _edit_message(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        channel_id = int(params["channel_id"])
        self._ensure_channel(channel_id)
        channel = self._guild_channel(channel_id)
        if channel is not None:
            granted = channel.permissions_for(channel.guild.me)
            if not granted.view_channel:
                raise forbidden(50001, "Missing Access")
            guild_rules.ensure_can_attach(granted, body, files, needs_send=False)
        message_id = int(params["message_id"])
        message = self.messages.get(message_id)
        refuse_ephemeral(message)
        if message is None:
            raise not_found(10008, "Unknown Message")
        message.update({key: value for key, value in body.items() if key != "attachments"})
        message["edited_timestamp"] = datetime.now(UTC).isoformat()
        self._record(Sent("edit", body, files, channel_id=int(params["channel_id"]), message_id=message_id))
        return message

    async def _get_message(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        self._ensure_channel(int(params["channel_id"]))
        message = self.messages.get(int(params["message_id"]))
        refuse_ephemeral(message)
        if message is None or int(message["channel_id"]) != int(params["channel_id"]):
            raise not_found(10008, "Unknown Message")
        return message

    async def _delete_message(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        message_id = int(params["message_id"])
        refuse_ephemeral(self.messages.get(message_id))
        if self.messages.pop(message_id, None) is None:
            raise not_found(10008, "Unknown Message")
        self._record(Sent("delete", {}, channel_id=int(params["channel_id"]), message_id=message_id))

    async def _open_dm(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        user_id = int(body["recipient_id"])
        channel_id = next((cid for cid, uid in self.dm_channels.items() if uid == user_id), None)
        if channel_id is None:
            channel_id = self.next_id()
            self.dm_channels[channel_id] = user_id
        user = private.user_by_id(self.state, user_id)
        return {"id": str(channel_id), "type": 1, "recipients": [user_payload(user)] if user else []}

    def _member(self, guild_id: int, user_id: int) -> discord.Member:
        guild = private.guild_by_id(self.state, guild_id)
        member = guild.get_member(user_id) if guild else None
        if member is None:
            raise not_found(10007, "Unknown Member")
        return member

    def _ensure_role_manageable(self, guild_id: int, role_id: int) -> discord.Role:
        guild = private.guild_by_id(self.state, guild_id)
        role = guild.get_role(role_id)
        if role is None:
            raise not_found(10011, "Unknown Role")
        guild_rules.ensure_can_manage_role(guild, role)
        return role

    async def _add_role(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        guild_id, user_id, role_id = int(params["guild_id"]), int(params["user_id"]), int(params["role_id"])
        member = self._member(guild_id, user_id)
        role = self._ensure_role_manageable(guild_id, role_id)
        self._record(Sent("role_add", {}, user_id=user_id, role_id=role.id, reason=kwargs.get("reason")))
        self.world.grant_role(member.id, role.id)
        gateway.member_update(self.state, self.world, member.id)

    async def _remove_role(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        guild_id, user_id, role_id = int(params["guild_id"]), int(params["user_id"]), int(params["role_id"])
        member = self._member(guild_id, user_id)
        self._ensure_role_manageable(guild_id, role_id)
        self._record(Sent("role_remove", {}, user_id=user_id, role_id=role_id, reason=kwargs.get("reason")))
        self.world.revoke_role(member.id, role_id)
        gateway.member_update(self.state, self.world, member.id)

    async def _kick(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        guild_id, user_id = int(params["guild_id"]), int(params["user_id"])
        member = self._member(guild_id, user_id)
        guild_rules.ensure_can_kick(member.guild, member)
        self._record(Sent("kick", {}, user_id=user_id, reason=kwargs.get("reason")))
        gone = self.world.member(user_id)
        self.world.leave(user_id)
        if gone is not None:
            gateway.member_remove(self.state, gone)

    async def _sync_commands(
        self, params: RouteParams, body: list[JsonObject], files: list[Upload], kwargs: RequestOptions
    ) -> list[JsonObject]:
        too_many = limits.command_count_error(body)
        if too_many is not None:
            raise bad_request(30032, too_many)
        self._record(Sent("sync", {"commands": body, "guild_id": params.get("guild_id")}))
        return [
            {**command, "id": str(self.next_id()), "application_id": str(APP_ID), "version": "1"}
            for command in (body or [])
        ]
