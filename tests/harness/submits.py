"""What a member can submit, as Discord's client allows it (components reference): a select
answers with between `min_values` and `max_values` of its own options (or of the users, roles
or channels it offers), and a modal's text inputs answer within their `required`, `min_length`
and `max_length`, starting from their prefilled `value`. A test asking for anything else gets
`ImpossibleInteraction` instead of a payload, because the client would never send it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import discord

from tests.harness.interactions import ImpossibleInteraction
from tests.harness.sent import JsonObject

STRING_SELECT = 3
TEXT_INPUT = 4
USER_SELECT = 5
ROLE_SELECT = 6
MENTIONABLE_SELECT = 7
CHANNEL_SELECT = 8
ACTION_ROW = 1

# A value a member picks in a select: an option's value, or the user, role or channel itself.
SelectValue = str | discord.Member | discord.User | discord.Role | discord.abc.GuildChannel

ACCEPTS: dict[int, tuple[type, ...]] = {
    USER_SELECT: (discord.Member, discord.User),
    ROLE_SELECT: (discord.Role,),
    MENTIONABLE_SELECT: (discord.Member, discord.User, discord.Role),
    CHANNEL_SELECT: (discord.abc.GuildChannel,),
}


def iter_components(components: Sequence[JsonObject]) -> Iterator[JsonObject]:
    """Every component, depth first, through rows, sections' accessories and labels."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        for key in ("accessory", "component"):
            if component.get(key):
                yield from iter_components([component[key]])


def find_component(components: Sequence[JsonObject], custom_id: str) -> JsonObject | None:
    return next((c for c in iter_components(components) if c.get("custom_id") == custom_id), None)


def check_select(select: JsonObject, chosen: Sequence[SelectValue]) -> None:
    """Refuse a choice the select itself would not let a member make."""
    custom_id = select.get("custom_id")
    low = select.get("min_values", 1)
    high = select.get("max_values", 1)
    if not low <= len(chosen) <= high:
        raise ImpossibleInteraction(
            f"select {custom_id!r} takes between {low} and {high} values; the test chose {len(chosen)}"
        )
    kind = select.get("type")
    if kind == STRING_SELECT:
        offered = [option.get("value") for option in select.get("options") or []]
        for value in chosen:
            if value not in offered:
                raise ImpossibleInteraction(f"{value!r} is not an option of select {custom_id!r}; it offers {offered}")
        return
    accepted = ACCEPTS.get(kind)
    if accepted is None:
        raise ImpossibleInteraction(f"component {custom_id!r} (type {kind}) is not a select")
    for value in chosen:
        if not isinstance(value, accepted):
            names = " or ".join(t.__name__ for t in accepted)
            raise ImpossibleInteraction(f"select {custom_id!r} offers {names}, not {value!r}")
    channel_types = select.get("channel_types")
    if kind == CHANNEL_SELECT and channel_types is not None:
        for value in chosen:
            if isinstance(value, discord.abc.GuildChannel) and value.type.value not in channel_types:
                raise ImpossibleInteraction(
                    f"select {custom_id!r} offers channel types {channel_types}, not #{value.name} ({value.type.value})"
                )


def text_input_value(component: JsonObject, values: Mapping[str, str]) -> str:
    """The member's answer to one text input: the test's value, else what the modal prefilled."""
    custom_id = component.get("custom_id", "")
    value = values.get(custom_id, component.get("value") or "")
    if not value:
        if component.get("required", True):
            raise ImpossibleInteraction(f"text input {custom_id!r} is required; the client cannot submit it empty")
        return value
    low = component.get("min_length")
    high = component.get("max_length")
    if low is not None and len(value) < low:
        raise ImpossibleInteraction(f"text input {custom_id!r} needs at least {low} characters, got {len(value)}")
    if high is not None and len(value) > high:
        raise ImpossibleInteraction(f"text input {custom_id!r} takes at most {high} characters, got {len(value)}")
    return value


def modal_submission(modal: JsonObject, values: Mapping[str, str]) -> list[JsonObject]:
    """The `components` of a modal submit, row for row as the modal was built."""
    known = {c.get("custom_id") for c in iter_components(modal.get("components") or [])}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ImpossibleInteraction(f"the modal has no input {unknown}; it has {sorted(k for k in known if k)}")
    rows: list[JsonObject] = []
    for row in modal.get("components", []):
        children = row.get("components", []) if row.get("type") == ACTION_ROW else [row.get("component", row)]
        inputs = []
        for component in children:
            custom_id = component.get("custom_id")
            if custom_id is None:
                continue
            if component.get("type") == TEXT_INPUT:
                value = text_input_value(component, values)
            else:
                value = values.get(custom_id, "")
            inputs.append({"type": component["type"], "custom_id": custom_id, "value": value})
        if row.get("type") == ACTION_ROW:
            rows.append({"type": ACTION_ROW, "components": inputs})
        else:
            rows.append({"type": row.get("type"), "component": inputs[0]} if inputs else row)
    return rows
