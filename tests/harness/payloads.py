"""Real `INTERACTION_CREATE` payloads, shaped as Discord sends them: slash commands with
options, autocomplete, button and select clicks, modal submits and commands in a DM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord.ext.test import factories as dpy_factories

from tests.harness.interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    BOT_DM,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    ImpossibleInteraction,
)
from tests.harness.sent import JsonObject, Sent, iter_custom_ids
from tests.harness.submits import (
    STRING_SELECT,
    SelectValue,
    check_select,
    find_component,
    modal_submission,
)
from tests.harness.world import APP_ID

if TYPE_CHECKING:
    from tests.harness.routes import FakeDiscord


def user_payload(user: discord.abc.User) -> JsonObject:
    return {
        "id": str(user.id),
        "username": user.name,
        "discriminator": "0",
        "global_name": getattr(user, "global_name", None),
        "avatar": None,
        "bot": user.bot,
    }


@dataclass
class UploadedFile:
    """An attachment a member uploads as a command option."""

    filename: str
    content: bytes
    content_type: str = "text/csv"


# What a slash command option can be given as: a value, or the member, role, channel or file it names.
OptionValue = (
    str | int | float | bool | discord.Member | discord.User | discord.Role | discord.abc.GuildChannel | UploadedFile
)
# An interaction's `resolved` data: for each kind (users, members, roles, channels, attachments), objects by id.
Resolved = dict[str, dict[str, JsonObject]]


class InteractionPayloads:
    """Builds payloads for one bot in one guild; `Harness` sends them."""

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

    # ---- payload builders ---------------------------------------------------------------

    def _member_payload(self, member: discord.Member, channel: discord.abc.GuildChannel) -> JsonObject:
        return {
            "user": user_payload(member),
            "roles": [str(role.id) for role in member.roles if not role.is_default()],
            "joined_at": (member.joined_at or datetime(2026, 1, 1, tzinfo=UTC)).isoformat(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": member.nick,
            "permissions": str(channel.permissions_for(member).value),
        }

    def _open_interaction(
        self, interaction_type: int, channel_id: int, *, source_message_id: int | None = None
    ) -> tuple[int, str]:
        interaction_id = self.discord.next_id()
        token = f"token-{interaction_id}"
        self.discord.interactions[token] = interaction_id
        self.discord.interaction_channels[interaction_id] = channel_id
        self.discord.ledger.open(interaction_id, token, interaction_type, source_message_id=source_message_id)
        return interaction_id, token

    def _base_payload(
        self,
        interaction_type: int,
        user: discord.Member,
        channel: discord.abc.GuildChannel,
        *,
        source_message_id: int | None = None,
    ) -> JsonObject:
        interaction_id, token = self._open_interaction(
            interaction_type, channel.id, source_message_id=source_message_id
        )
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
            "attachment_size_limit": self.discord.attachment_size_limit,
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

    def _option_value(self, value: OptionValue, resolved: Resolved) -> str | int | float | bool:
        if isinstance(value, (discord.Member, discord.User)):
            resolved.setdefault("users", {})[str(value.id)] = user_payload(value)
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
        options: dict[str, OptionValue | None] | None = None,
        **more_options: OptionValue | None,
    ) -> JsonObject:
        options = {**(options or {}), **more_options}
        command = self._find_command(qualified_name)
        channel = channel or self.channel("general")
        resolved: Resolved = {}
        parameters = {parameter.display_name: parameter for parameter in command.parameters}
        built = []
        for name, value in options.items():
            if value is None:
                continue
            if name not in parameters:
                raise KeyError(f"/{qualified_name} has no option {name!r}; it has {sorted(parameters)}")
            option_type = parameters[name].type
            entry = {"name": name, "type": option_type.value, "value": self._option_value(value, resolved)}
            if name == focused:
                entry["focused"] = True
            built.append(entry)
        parts = qualified_name.split()
        nested = built
        for depth in range(len(parts) - 1, 0, -1):
            kind = 1 if depth == len(parts) - 1 else 2  # subcommand, then subcommand group
            nested = [{"name": parts[depth], "type": kind, "options": nested}]
        data: JsonObject = {
            "id": str(self.discord.next_id()),
            "name": parts[0],
            "type": 1,
            "options": nested,
            "guild_id": str(self.guild.id),
        }
        if resolved:
            data["resolved"] = resolved
        interaction_type = APPLICATION_COMMAND_AUTOCOMPLETE if focused else APPLICATION_COMMAND
        payload = self._base_payload(interaction_type, user, channel)
        payload["data"] = data
        return payload

    def component_payload(
        self,
        message: JsonObject | Sent,
        custom_id: str,
        *,
        user: discord.Member,
        values: Sequence[SelectValue] | None = None,
    ) -> JsonObject:
        """A click on a button, or a choice in a select: `values` are a string select's option
        values, or the members, roles and channels (or their ids) of the other selects."""
        stored = self._stored(message)
        component = find_component(stored.get("components") or [], custom_id)
        if component is None:
            raise AssertionError(
                f"{custom_id!r} is not on that message; it has {list(iter_custom_ids(stored.get('components') or []))}"
            )
        channel = self.guild.get_channel(int(stored["channel_id"])) or self.channel("general")
        payload = self._base_payload(MESSAGE_COMPONENT, user, channel, source_message_id=int(stored["id"]))
        payload["message"] = stored
        payload["data"] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            chosen = [self._select_target(component["type"], value) for value in values]
            check_select(component, chosen)
            resolved: Resolved = {}
            payload["data"]["values"] = [
                value if isinstance(value, str) else str(self._option_value(value, resolved)) for value in chosen
            ]
            if component["type"] != STRING_SELECT:
                payload["data"]["resolved"] = resolved
        elif component["type"] != 2:
            raise ImpossibleInteraction(f"{custom_id!r} is a select; choose its values with `select`")
        self.discord.original_messages[int(payload["id"])] = int(stored["id"])
        return payload

    def _select_target(self, select_type: int, value: SelectValue) -> SelectValue:
        """An id given for a user, role or channel select, as the object Discord resolves it to."""
        if select_type == STRING_SELECT or not isinstance(value, str):
            return value
        target_id = int(value)
        found = self.guild.get_member(target_id) or self.guild.get_role(target_id) or self.guild.get_channel(target_id)
        if found is None:
            raise ImpossibleInteraction(f"no member, role or channel with id {value} to choose")
        return found

    def _stored(self, message: JsonObject | Sent) -> JsonObject:
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
        modal: JsonObject,
        values: dict[str, str],
        *,
        user: discord.Member,
        channel: discord.abc.GuildChannel | None = None,
    ) -> JsonObject:
        """A modal's submit: inputs the test leaves out keep what the modal prefilled. A modal
        opened from a component carries that component's message, as Discord sends it."""
        channel = channel or self.channel("general")
        rows = modal_submission(modal, values)
        source_id = self.discord.ledger.modal_sources.get(modal.get("custom_id", ""))
        source = self.discord.messages.get(source_id) if source_id else None
        payload = self._base_payload(MODAL_SUBMIT, user, channel, source_message_id=source_id if source else None)
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        if source is not None:
            payload["message"] = source
            self.discord.original_messages[int(payload["id"])] = int(source["id"])
        return payload

    # ---- direct messages ----------------------------------------------------------------

    def dm_command_payload(self, qualified_name: str, *, user: discord.Member) -> JsonObject:
        """A slash command without options run in the member's DM with the bot (context 1,
        BOT_DM): Discord sends `user` instead of `member`, no guild_id, a channel of type 1,
        and "0" as the guild installation's owner. Discord's client does not offer a command
        whose contexts leave out BOT_DM there, so asking for one is `ImpossibleInteraction`."""
        command = self._find_command(qualified_name)  # an unknown name fails here, not in discord.py
        root = command.root_parent or command
        registered = root.to_dict(self.bot.tree)
        contexts = registered.get("contexts")
        if registered.get("dm_permission") is False or (contexts is not None and BOT_DM not in contexts):
            raise ImpossibleInteraction(f"Discord does not offer /{root.name} in DMs (contexts {contexts})")
        channel_id = self.discord.dm_channel_id(user.id)
        interaction_id, token = self._open_interaction(APPLICATION_COMMAND, channel_id)
        parts = qualified_name.split()
        options: list[JsonObject] = []
        for depth in range(len(parts) - 1, 0, -1):
            options = [{"name": parts[depth], "type": 1 if depth == len(parts) - 1 else 2, "options": options}]
        return {
            **self._dm_base(interaction_id, token, APPLICATION_COMMAND, user, channel_id),
            "data": {
                "id": str(self.discord.next_id()),
                "name": parts[0],
                "type": 1,
                "options": options,
            },
        }

    def _dm_base(
        self, interaction_id: int, token: str, interaction_type: int, user: discord.abc.User, channel_id: int
    ) -> JsonObject:
        """What every interaction in the member's DM with the bot carries (context 1, BOT_DM):
        `user` instead of `member`, no guild_id, a channel of type 1."""
        return {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": interaction_type,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 1, "recipients": [user_payload(user)]},
            "user": user_payload(user),
            "locale": "en-US",
            "app_permissions": str(discord.Permissions.text().value),
            "attachment_size_limit": self.discord.attachment_size_limit,
            "entitlements": [],
            "authorizing_integration_owners": {"0": "0"},
            "context": BOT_DM,
        }

    def dm_component_payload(self, message: JsonObject | Sent, custom_id: str, *, user: discord.abc.User) -> JsonObject:
        """A click on a button of a message the bot sent to the member by DM."""
        stored = self._stored(message)
        channel_id = int(stored["channel_id"])
        if self.discord.dm_channels.get(channel_id) != user.id:
            raise ImpossibleInteraction(f"that message is not in {user}'s DM with the bot")
        component = find_component(stored.get("components") or [], custom_id)
        if component is None or component["type"] != 2:
            offered = list(iter_custom_ids(stored.get("components") or []))
            raise AssertionError(f"{custom_id!r} is not a button on that message; it has {offered}")
        interaction_id, token = self._open_interaction(
            MESSAGE_COMPONENT, channel_id, source_message_id=int(stored["id"])
        )
        payload = self._dm_base(interaction_id, token, MESSAGE_COMPONENT, user, channel_id)
        payload["message"] = stored
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        self.discord.original_messages[interaction_id] = int(stored["id"])
        return payload

    def dm_modal_payload(self, modal: JsonObject, values: dict[str, str], *, user: discord.abc.User) -> JsonObject:
        """The submit of a modal the bot opened in the member's DM (from a DM button)."""
        rows = modal_submission(modal, values)
        channel_id = self.discord.dm_channel_id(user.id)
        source_id = self.discord.ledger.modal_sources.get(modal.get("custom_id", ""))
        source = self.discord.messages.get(source_id) if source_id else None
        interaction_id, token = self._open_interaction(
            MODAL_SUBMIT, channel_id, source_message_id=source_id if source else None
        )
        payload = self._dm_base(interaction_id, token, MODAL_SUBMIT, user, channel_id)
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        if source is not None:
            payload["message"] = source
            self.discord.original_messages[interaction_id] = int(source["id"])
        return payload
