"""Discord's guild scheduled events, as the fake Discord answers them.

From discord-api-docs `developers/resources/guild-scheduled-event.mdx`: an EXTERNAL event (entity
type 3) needs `entity_metadata.location` (1 to 100 characters) and `scheduled_end_time`, and has
no `channel_id`; the name is 1 to 100 characters, the description at most 1,000; status goes
SCHEDULED (1) → ACTIVE (2) → COMPLETED (3), or SCHEDULED → CANCELED (4), and a completed or
cancelled event can no longer be changed. Since February 2026 creating one needs Create Events
(Manage Events alone is refused); editing or deleting one the bot created needs either of them,
one created by someone else needs Manage Events. Each call is recorded as a `Sent` of kind
`scheduled_event_create`, `scheduled_event_edit` or `scheduled_event_delete`; `complete()` and
`start()` play Discord moving an event on by itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from tests.harness import private
from tests.harness.faults import bad_request, forbidden, not_found
from tests.harness.sent import JsonObject, Sent, Upload

if TYPE_CHECKING:
    from tests.harness.routes import FakeDiscord, RequestOptions, RouteParams

SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
EXTERNAL = 3
UNKNOWN_SCHEDULED_EVENT = 10070
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
NAME_LIMIT = 100
DESCRIPTION_LIMIT = 1_000
LOCATION_LIMIT = 100


class ScheduledEvents:
    """The guilds' scheduled events by id, and the routes that change them."""

    def __init__(self, side: FakeDiscord) -> None:
        self._side = side
        self.stored: dict[int, JsonObject] = {}

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/guilds/{guild_id}/scheduled-events", self.create),
            ("GET", "/guilds/{guild_id}/scheduled-events/{event_id}", self.get),
            ("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", self.edit),
            ("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", self.delete),
        ]

    # ---- what Discord does by itself ---------------------------------------------------

    def start(self, event_id: int) -> None:
        self.stored[event_id]["status"] = ACTIVE

    def complete(self, event_id: int) -> None:
        self.stored[event_id]["status"] = COMPLETED

    # ---- the rules -----------------------------------------------------------------------

    def _permissions(self, guild_id: int) -> discord.Permissions:
        guild = private.guild_by_id(self._side.state, guild_id)
        if guild is None:
            raise not_found(10004, "Unknown Guild")
        return guild.me.guild_permissions

    def _stored(self, params: RouteParams) -> JsonObject:
        found = self.stored.get(int(params["event_id"]))
        if found is None or int(found["guild_id"]) != int(params["guild_id"]):
            raise not_found(UNKNOWN_SCHEDULED_EVENT, "Unknown Guild Scheduled Event")
        return found

    @staticmethod
    def _check_fields(event: JsonObject) -> None:
        problems = []
        if not 1 <= len(event.get("name") or "") <= NAME_LIMIT:
            problems.append("name")
        if len(event.get("description") or "") > DESCRIPTION_LIMIT:
            problems.append("description")
        if event.get("entity_type") == EXTERNAL:
            location = (event.get("entity_metadata") or {}).get("location") or ""
            if not 1 <= len(location) <= LOCATION_LIMIT:
                problems.append("entity_metadata.location")
            if not event.get("scheduled_end_time"):
                problems.append("scheduled_end_time")
            if event.get("channel_id") is not None:
                problems.append("channel_id")
        if problems:
            raise bad_request(INVALID_FORM_BODY, f"Invalid Form Body: {', '.join(problems)}")

    # ---- routes --------------------------------------------------------------------------

    async def create(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject:
        guild_id = int(params["guild_id"])
        if not self._permissions(guild_id).create_events:
            raise forbidden(MISSING_PERMISSIONS, "Missing Permissions")
        event_id = self._side.next_id()
        event: JsonObject = {
            "id": str(event_id),
            "guild_id": str(guild_id),
            "channel_id": body.get("channel_id"),
            "creator_id": str(self._side.state.self_id),
            "name": body.get("name"),
            "description": body.get("description"),
            "scheduled_start_time": body.get("scheduled_start_time"),
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": SCHEDULED,
            "entity_type": body.get("entity_type", EXTERNAL if body.get("entity_metadata") else None),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
        }
        self._check_fields(event)
        self.stored[event_id] = event
        self._side.sent.append(
            Sent("scheduled_event_create", dict(body), message_id=event_id, reason=kwargs.get("reason"))
        )
        return dict(event)

    async def get(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject:
        return dict(self._stored(params))

    def _ensure_may_change(self, params: RouteParams, event: JsonObject) -> None:
        granted = self._permissions(int(params["guild_id"]))
        own = int(event["creator_id"]) == self._side.state.self_id
        if not (granted.manage_events or (own and granted.create_events)):
            raise forbidden(MISSING_PERMISSIONS, "Missing Permissions")

    async def edit(
        self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions
    ) -> JsonObject:
        event = self._stored(params)
        self._ensure_may_change(params, event)
        if event["status"] in (COMPLETED, CANCELED):
            raise bad_request(180000, "Cannot modify a finished event")
        wanted = body.get("status")
        allowed = {SCHEDULED: (ACTIVE, CANCELED), ACTIVE: (COMPLETED,)}
        if wanted is not None and wanted != event["status"] and wanted not in allowed[event["status"]]:
            raise bad_request(180001, f"Invalid status change {event['status']} → {wanted}")
        if event["status"] == ACTIVE and "scheduled_start_time" in body:
            raise bad_request(INVALID_FORM_BODY, "Invalid Form Body: scheduled_start_time of an active event")
        changed = {**event, **body}
        self._check_fields(changed)
        event.update(body)
        self._side.sent.append(
            Sent("scheduled_event_edit", dict(body), message_id=int(params["event_id"]), reason=kwargs.get("reason"))
        )
        return dict(event)

    async def delete(self, params: RouteParams, body: JsonObject, files: list[Upload], kwargs: RequestOptions) -> None:
        event = self._stored(params)
        self._ensure_may_change(params, event)
        del self.stored[int(params["event_id"])]
        self._side.sent.append(
            Sent("scheduled_event_delete", {}, message_id=int(params["event_id"]), reason=kwargs.get("reason"))
        )
