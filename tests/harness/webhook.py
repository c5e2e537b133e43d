"""The interaction webhook: the initial response (`/interactions/{id}/{token}/callback`) and
the token's follow-ups and edits (`/webhooks/{application_id}/{token}...`), answered by the
rules of `interactions` and stored in the same message store as the channel routes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.harness.faults import not_found
from tests.harness.interactions import (
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    EPHEMERAL,
    MODAL,
    UPDATE_MESSAGE,
    already_acknowledged,
    keep_ephemeral,
)
from tests.harness.sent import JsonObject, Sent, Upload

if TYPE_CHECKING:
    from tests.harness.routes import FakeDiscord, RequestOptions, RouteParams


class InteractionWebhook:
    """The webhook routes of one `FakeDiscord`."""

    def __init__(self, discord: FakeDiscord) -> None:
        self.discord = discord

    async def callback(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        interaction_id = int(params["interaction_id"])
        response_type = body.get("type")
        record = self.discord.ledger.check_callback(interaction_id, response_type)
        if record is None and interaction_id in self.discord.responded:
            raise already_acknowledged()
        self.discord.response_times.setdefault(interaction_id, time.perf_counter())
        self.discord.responded.add(interaction_id)
        data = body.get("data") or {}
        channel_id = self.discord.interaction_channels.get(interaction_id)
        self.discord._record(Sent("response", body, files, channel_id=channel_id, interaction_id=interaction_id))
        interaction = {
            "id": str(interaction_id),
            "type": record.interaction_type if record else 2,
            "response_message_loading": response_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL),
        }
        result: dict[str, Any] = {"interaction": interaction}
        message: JsonObject | None = None
        if response_type == UPDATE_MESSAGE:
            message_id = self.discord.original_messages.get(interaction_id)
            message = self.discord.messages.get(message_id) if message_id else None
            if message is not None:
                message.update({k: v for k, v in data.items() if k != "attachments"})
        elif response_type in (CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE):
            message = self.discord._message_payload(channel_id or 0, data, files)
            self.discord.messages[int(message["id"])] = message
            self.discord.original_messages[interaction_id] = int(message["id"])
        if record is not None:
            self.discord.ledger.acknowledged(record, response_type, int(message["id"]) if message else None)
            if response_type == MODAL:
                self.discord.ledger.remember_modal(record, data)
        if message is not None:
            interaction["response_message_id"] = message["id"]
            result["resource"] = {"type": response_type, "message": message}
        return result

    async def followup(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        record = self.discord.ledger.check_webhook(params["token"])
        interaction_id = record.interaction_id
        channel_id = self.discord.interaction_channels.get(interaction_id) or 0
        placeholder_id = self.discord.ledger.take_placeholder(record)
        placeholder = self.discord.messages.get(placeholder_id) if placeholder_id else None
        if placeholder is not None:
            # Right after a type-5 defer Discord edits the loading message instead of posting one.
            placeholder.update(keep_ephemeral(placeholder, body))
            message = placeholder
        else:
            message = self.discord._message_payload(channel_id, body, files)
            self.discord.messages[int(message["id"])] = message
        self.discord._record(
            Sent(
                "followup",
                body,
                files,
                channel_id=channel_id,
                message_id=int(message["id"]),
                interaction_id=interaction_id,
                shown_flags=message.get("flags", 0),
            )
        )
        return message

    def _message_id(self, params: RouteParams) -> int:
        if params["message_id"] == "@original":
            interaction_id = self.discord.ledger.check_webhook(params["token"]).interaction_id
            message_id = self.discord.original_messages.get(interaction_id)
            if message_id is None:
                raise not_found(10008, "Unknown Message")
            return message_id
        return int(params["message_id"])

    async def get_message(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        self.discord.ledger.check_webhook(params["token"])
        message = self.discord.messages.get(self._message_id(params))
        if message is None:
            raise not_found(10008, "Unknown Message")
        return message

    async def edit_message(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        record = self.discord.ledger.check_webhook(params["token"])
        message_id = self._message_id(params)
        message = self.discord.messages.get(message_id)
        if message is None:
            raise not_found(10008, "Unknown Message")
        if message_id == record.loading_message_id:
            self.discord.ledger.take_placeholder(record)
        message.update(keep_ephemeral(message, body))
        self.discord._record(
            Sent(
                "edit_response",
                body,
                files,
                message_id=message_id,
                interaction_id=record.interaction_id,
                shown_flags=message.get("flags", 0),
            )
        )
        return message

    async def delete_message(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject | None:
        record = self.discord.ledger.check_webhook(params["token"])
        message_id = self._message_id(params)
        if message_id == record.loading_message_id:
            self.discord.ledger.take_placeholder(record)
        self.discord.messages.pop(message_id, None)
        self.discord._record(Sent("delete_response", {}, message_id=message_id, interaction_id=record.interaction_id))
