"""What the bot sent to the fake Discord (`Sent`) and what one interaction produced
(`InteractionResult`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, cast, get_args

# A JSON object as Discord sends or receives it.
JsonObject = dict[str, Any]
# A file sent or uploaded: its name and content.
Upload = tuple[str, bytes]


class Choice(TypedDict):
    """One autocomplete choice the bot offered."""

    name: str
    value: str | int | float


# Every kind of thing the fake Discord records; `routes` creates each one.
SentKind = Literal[
    "message",  # a message posted in a guild channel
    "dm",  # a message posted in a DM channel
    "edit",  # a channel message edited through the REST API
    "delete",  # a channel message deleted
    "role_add",
    "role_remove",
    "kick",
    "sync",  # the command tree synced
    "response",  # an interaction's initial response (the /callback route)
    "followup",
    "edit_response",  # an interaction's own message edited through the webhook
    "delete_response",
    # guild scheduled events (tests/harness/scheduled_events.py); `message_id` holds the event's id
    "scheduled_event_create",
    "scheduled_event_edit",
    "scheduled_event_delete",
]
SENT_KINDS: frozenset[str] = frozenset(get_args(SentKind))


def sent_kind(kind: str) -> SentKind:
    """`kind` if it is one the fake Discord records; a misspelt kind raises, so a negative
    assertion such as `assert not discord_side.of_kind("edti")` cannot pass by accident."""
    if kind not in SENT_KINDS:
        raise ValueError(f"{kind!r} is not a kind the fake Discord records; the kinds are {sorted(SENT_KINDS)}")
    return cast(SentKind, kind)


class CheckedKind(str):
    """A `Sent.kind` value. Comparing it with a string that is not a kind raises instead of
    being False, which covers the `sent.kind == "response"` filters written in tests."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            sent_kind(other)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


@dataclass
class Sent:
    """One thing the bot sent to Discord."""

    kind: SentKind
    payload: JsonObject = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)
    channel_id: int | None = None
    message_id: int | None = None
    user_id: int | None = None
    role_id: int | None = None
    interaction_id: int | None = None
    reason: str | None = None
    # The flags of the message the member sees, when Discord kept some the bot did not ask for
    # (a follow-up replacing an ephemeral defer's loading message stays ephemeral).
    shown_flags: int | None = None
    at: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.kind = cast(SentKind, CheckedKind(sent_kind(self.kind)))

    @property
    def content(self) -> str:
        data = self.payload.get("data", self.payload) if self.kind == "response" else self.payload
        return (data or {}).get("content") or ""

    @property
    def data(self) -> JsonObject:
        if self.kind == "response":
            return self.payload.get("data") or {}
        return self.payload

    @property
    def embeds(self) -> list[JsonObject]:
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
        flags = self.shown_flags if self.shown_flags is not None else self.data.get("flags", 0)
        return bool(flags & 64)

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


def iter_custom_ids(components: Iterable[JsonObject]) -> Iterable[str]:
    for component in components:
        if "custom_id" in component:
            yield component["custom_id"]
        yield from iter_custom_ids(component.get("components") or [])
        accessory = component.get("accessory")
        if accessory:
            yield from iter_custom_ids([accessory])


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
    def modal(self) -> JsonObject:
        response = self.response
        if response.response_type != 9:
            raise AssertionError(f"expected a modal, got response type {response.response_type}")
        return response.payload["data"]

    @property
    def choices(self) -> list[Choice]:
        response = self.response
        if response.response_type != 8:
            raise AssertionError(f"expected autocomplete choices, got response type {response.response_type}")
        return response.payload["data"]["choices"]

    def of_kind(self, kind: SentKind) -> list[Sent]:
        checked = sent_kind(kind)
        return [item for item in self.sent if item.kind == checked]
