"""The life of an interaction as Discord enforces it, audited against the developer docs
(`interactions/receiving-and-responding`, `topics/opcodes-and-status-codes`).

* The initial response must come within 3 s of the interaction's creation, or Discord answers
  404 / 10062 "Unknown interaction"; a second one gets 400 / 40060.
* The token works on the webhook routes (follow-ups, edits and deletes of the interaction's
  messages) only once the interaction was acknowledged (404 / 10015 "Unknown Webhook" before)
  and for 15 minutes after its creation (401 / 50027 "Invalid Webhook Token" after).
* Each interaction type allows only some callback types: a modal cannot answer a modal submit,
  only autocomplete gets (and must get) choices, and the update types need the message a
  component sat on.
* A follow-up sent while a deferred response (type 5) is still loading replaces the loading
  message instead of creating one, and that message keeps the defer's ephemeral flag.

Time is the bot's injected clock, read when the harness dispatches the interaction, so a test
plays a slow handler by advancing that clock instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import discord

from bot.clock import Clock
from tests.harness.faults import FakeResponse, bad_request, not_found, unauthorized
from tests.harness.sent import JsonObject

INITIAL_RESPONSE_DEADLINE = timedelta(seconds=3)
TOKEN_LIFETIME = timedelta(minutes=15)
EPHEMERAL = 1 << 6

# Interaction types (receiving-and-responding: interaction type).
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Interaction context types: where the interaction happened.
GUILD = 0
BOT_DM = 1

# Callback types (receiving-and-responding: interaction callback type).
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9
UPDATE_TYPES = (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE)

# Which callback types each interaction type may be answered with. The update types are "only
# valid for component-based interactions" (a component, or a modal opened from one), MODAL is
# "not available for MODAL_SUBMIT", and autocomplete can only be answered with its result.
ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    APPLICATION_COMMAND: frozenset({CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL}),
    MESSAGE_COMPONENT: frozenset(
        {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, *UPDATE_TYPES, MODAL}
    ),
    APPLICATION_COMMAND_AUTOCOMPLETE: frozenset({APPLICATION_COMMAND_AUTOCOMPLETE_RESULT}),
    MODAL_SUBMIT: frozenset({CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, *UPDATE_TYPES}),
}


class ImpossibleInteraction(AssertionError):
    """A test asked the harness for an interaction Discord's client would never send (a select
    value not among the options, a modal answer breaking the input's own limits, a server-only
    command in a DM): the test is wrong, not the bot."""


@dataclass
class InteractionRecord:
    """What Discord knows about one interaction it sent the bot."""

    interaction_id: int
    token: str
    interaction_type: int
    # The message a component sat on, or that of the component a submitted modal was opened from.
    source_message_id: int | None = None
    clock: Clock | None = None
    created_at: datetime | None = None
    callback_type: int | None = None
    # A type-5 defer whose loading message no follow-up or edit has replaced yet.
    loading_message_id: int | None = None

    def elapsed(self) -> timedelta | None:
        if self.clock is None or self.created_at is None:
            return None
        return self.clock.now() - self.created_at


def already_acknowledged() -> discord.HTTPException:
    return bad_request(40060, "Interaction has already been acknowledged.")


def callback_type_refused(allowed: frozenset[int]) -> discord.HTTPException:
    """The docs give no code for a callback type the interaction does not allow; Discord answers
    one outside the accepted set as 50035 on `type` (`BASE_TYPE_CHOICES`, discord-api-docs#6455)."""
    choices = ", ".join(str(value) for value in sorted(allowed))
    refusal = {"code": "BASE_TYPE_CHOICES", "message": f"Value must be one of {{{choices}}}."}
    return discord.HTTPException(
        FakeResponse(400, "Bad Request"),  # type: ignore[arg-type]
        {
            "code": 50035,
            "message": "Invalid Form Body",
            "errors": {"type": {"_errors": [refusal]}},
        },
    )


class InteractionLedger:
    """Every interaction the harness sent, by id and by token, and the rules their responses meet."""

    def __init__(self) -> None:
        self.by_id: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}
        # The component interaction each modal (by custom_id) was opened from, for its submit.
        self.modal_sources: dict[str, int] = {}

    def open(
        self, interaction_id: int, token: str, interaction_type: int, *, source_message_id: int | None = None
    ) -> InteractionRecord:
        record = InteractionRecord(interaction_id, token, interaction_type, source_message_id)
        self.by_id[interaction_id] = record
        self.by_token[token] = record
        return record

    def dispatched(self, interaction_id: int, clock: Clock | None) -> None:
        """The interaction is created now, on `clock`; without a clock its time is not checked."""
        record = self.by_id.get(interaction_id)
        if record is not None and clock is not None:
            record.clock = clock
            record.created_at = clock.now()

    # ---- the initial response -------------------------------------------------------------

    def check_callback(self, interaction_id: int, callback_type: int) -> InteractionRecord | None:
        """Raise what Discord answers an initial response it refuses; None for an interaction
        the harness did not build (a test feeding its own payload)."""
        record = self.by_id.get(interaction_id)
        if record is None:
            return None
        if record.callback_type is not None:
            raise already_acknowledged()
        elapsed = record.elapsed()
        if elapsed is not None and elapsed > INITIAL_RESPONSE_DEADLINE:
            raise not_found(10062, "Unknown interaction")
        allowed = ALLOWED_CALLBACKS.get(record.interaction_type)
        if allowed is not None and callback_type not in allowed:
            raise callback_type_refused(allowed)
        if callback_type in UPDATE_TYPES and record.source_message_id is None:
            # A modal opened from a command has no message to update (discord-api-docs#7774).
            raise not_found(10008, "Unknown Message")
        return record

    def acknowledged(self, record: InteractionRecord, callback_type: int, message_id: int | None) -> None:
        record.callback_type = callback_type
        if callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            record.loading_message_id = message_id

    def remember_modal(self, record: InteractionRecord, modal: JsonObject) -> None:
        if record.source_message_id is not None and modal.get("custom_id"):
            self.modal_sources[modal["custom_id"]] = record.source_message_id

    # ---- the webhook routes ---------------------------------------------------------------

    def check_webhook(self, token: str) -> InteractionRecord:
        """The record behind a webhook token, or what Discord answers a token it no longer takes."""
        record = self.by_token.get(token)
        if record is None:
            raise not_found(10015, "Unknown Webhook")
        elapsed = record.elapsed()
        if elapsed is not None and elapsed > TOKEN_LIFETIME:
            raise unauthorized(50027, "Invalid Webhook Token")
        if record.callback_type is None:
            raise not_found(10015, "Unknown Webhook")
        return record

    @staticmethod
    def take_placeholder(record: InteractionRecord) -> int | None:
        """The loading message a follow-up replaces (create-followup-message: "no new message will
        be created, and the loading message will be edited instead"), once."""
        message_id, record.loading_message_id = record.loading_message_id, None
        return message_id


def keep_ephemeral(message: JsonObject, body: JsonObject) -> JsonObject:
    """The fields of `body` applied to `message`, whose ephemeral state cannot change."""
    update = {key: value for key, value in body.items() if key != "attachments"}
    if "flags" in update:
        update["flags"] = (update["flags"] & ~EPHEMERAL) | (message.get("flags", 0) & EPHEMERAL)
    return update


def refuse_ephemeral(message: JsonObject | None) -> None:
    """Ephemeral messages live only in the member's client: the channel routes never find them."""
    if message is not None and message.get("flags", 0) & EPHEMERAL:
        raise not_found(10008, "Unknown Message")
