"""Discord's documented size limits, checked the way Discord checks them.

The fake Discord runs every payload the bot sends through these rules and answers a break
with 400 / 50035 "Invalid Form Body", whose `errors` tree names the offending field
(`embeds.0.fields.3.value`), exactly as discord.py would receive it from Discord. The
numbers come from Discord's developer documentation (message resource, embed limits,
components reference, interactions: autocomplete, modals, application commands); they are
written out here rather than imported from the bot, so a wrong limit in the bot cannot hide
behind the same wrong number in the test.
"""

from __future__ import annotations

import re
from typing import Any

CONTENT_MAX = 2_000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4_096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1_024
EMBED_FOOTER_TEXT_MAX = 2_048
EMBED_AUTHOR_NAME_MAX = 256
EMBED_TOTAL_MAX = 6_000

ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
COMPONENTS_V2_TOTAL_MAX = 40
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_PLACEHOLDER_MAX = 150
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_TEXT_MAX = 100
SELECT_VALUES_MAX = 25

AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_STRING_VALUE_MAX = 100

MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4_000
TEXT_INPUT_PLACEHOLDER_MAX = 100
LABEL_DESCRIPTION_MAX = 100

COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_CHOICES_MAX = 25
# Discord's pattern for chat-input command and option names is
# `^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, lowercase where a letter has a lowercase form;
# Python's `re` has no script classes, so this takes letters, digits, `-`, `_` and `'`, and the
# lowercase rule is checked apart.
COMMAND_NAME_PATTERN = re.compile(r"^[-_'\w]{1,32}$")
# Per command type, how many global commands an application may have (application-commands:
# "100 global CHAT_INPUT commands, 15 global USER commands, 15 global MESSAGE commands").
COMMANDS_PER_TYPE_MAX = {1: 100, 2: 15, 3: 15}

IS_COMPONENTS_V2 = 1 << 15
SUBCOMMAND_TYPES = (1, 2)

ACTION_ROW = 1
BUTTON = 2
SELECT_TYPES = (3, 5, 6, 7, 8)
STRING_SELECT = 3
TEXT_INPUT = 4
LABEL = 18

Path = tuple[str | int, ...]


class FormErrors:
    """Discord's nested `errors` object: {"embeds": {"0": {"title": {"_errors": [...]}}}}."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def __bool__(self) -> bool:
        return bool(self.tree)

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Path, value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: Path, value: Any, low: int, high: int) -> None:
        """A required text field: Discord says "required" when it is missing or empty."""
        if not isinstance(value, str) or not value:
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        elif len(value) > high:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
        elif len(value) < low:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def max_items(self, path: Path, items: Any, limit: int) -> None:
        if isinstance(items, list) and len(items) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def items_between(self, path: Path, items: Any, low: int, high: int) -> None:
        count = len(items) if isinstance(items, list) else 0
        if not low <= count <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


# ---- messages ----------------------------------------------------------------------------


def message_errors(body: dict[str, Any], prefix: Path = ()) -> FormErrors:
    """A message create or edit (channel message, DM, follow-up, interaction message)."""
    errors = FormErrors()
    check_message(errors, body or {}, prefix)
    return errors


def check_message(errors: FormErrors, body: dict[str, Any], prefix: Path) -> None:
    errors.max_length((*prefix, "content"), body.get("content"), CONTENT_MAX)
    embeds = body.get("embeds") or []
    errors.max_items((*prefix, "embeds"), embeds, EMBEDS_MAX)
    total = 0
    for index, embed in enumerate(embeds):
        total += _check_embed(errors, embed, (*prefix, "embeds", index))
    if total > EMBED_TOTAL_MAX:
        errors.add(
            (*prefix, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"
        )
    _check_components(errors, body.get("components") or [], (*prefix, "components"), body.get("flags") or 0)


def _check_embed(errors: FormErrors, embed: dict[str, Any], path: Path) -> int:
    """Checks one embed and returns the characters it counts toward the 6,000 total."""
    title = embed.get("title") or ""
    description = embed.get("description") or ""
    footer = (embed.get("footer") or {}).get("text") or ""
    author = (embed.get("author") or {}).get("name") or ""
    errors.max_length((*path, "title"), title, EMBED_TITLE_MAX)
    errors.max_length((*path, "description"), description, EMBED_DESCRIPTION_MAX)
    errors.max_length((*path, "footer", "text"), footer, EMBED_FOOTER_TEXT_MAX)
    errors.max_length((*path, "author", "name"), author, EMBED_AUTHOR_NAME_MAX)
    fields = embed.get("fields") or []
    errors.max_items((*path, "fields"), fields, EMBED_FIELDS_MAX)
    size = len(title) + len(description) + len(footer) + len(author)
    for index, embed_field in enumerate(fields):
        name = embed_field.get("name")
        value = embed_field.get("value")
        errors.length_between((*path, "fields", index, "name"), name, 1, EMBED_FIELD_NAME_MAX)
        errors.length_between((*path, "fields", index, "value"), value, 1, EMBED_FIELD_VALUE_MAX)
        size += len(name or "") + len(value or "")
    return size


def _check_components(errors: FormErrors, components: list[dict[str, Any]], path: Path, flags: int) -> None:
    if flags & IS_COMPONENTS_V2:
        if _count_components(components) > COMPONENTS_V2_TOTAL_MAX:
            errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {COMPONENTS_V2_TOTAL_MAX} or fewer in length.")
    else:
        errors.max_items(path, components, ACTION_ROWS_MAX)
    for index, component in enumerate(components):
        _check_component(errors, component, (*path, index))


def _count_components(components: list[dict[str, Any]]) -> int:
    count = 0
    for component in components:
        count += 1 + _count_components(component.get("components") or [])
        if component.get("accessory"):
            count += 1
    return count


def _check_component(errors: FormErrors, component: dict[str, Any], path: Path) -> None:
    kind = component.get("type")
    if "custom_id" in component:
        errors.length_between((*path, "custom_id"), component["custom_id"], 1, CUSTOM_ID_MAX)
    if kind == ACTION_ROW:
        children = component.get("components") or []
        if any(child.get("type") in SELECT_TYPES for child in children):
            errors.items_between((*path, "components"), children, 1, 1)
        else:
            errors.items_between((*path, "components"), children, 1, BUTTONS_PER_ROW_MAX)
        for index, child in enumerate(children):
            _check_component(errors, child, (*path, "components", index))
    elif kind == BUTTON:
        errors.max_length((*path, "label"), component.get("label"), BUTTON_LABEL_MAX)
    elif kind in SELECT_TYPES:
        _check_select(errors, component, path)
    else:
        for index, child in enumerate(component.get("components") or []):
            _check_component(errors, child, (*path, "components", index))
        if component.get("accessory"):
            _check_component(errors, component["accessory"], (*path, "accessory"))


def _check_select(errors: FormErrors, select: dict[str, Any], path: Path) -> None:
    errors.max_length((*path, "placeholder"), select.get("placeholder"), SELECT_PLACEHOLDER_MAX)
    for bound in ("min_values", "max_values"):
        value = select.get(bound)
        if value is not None and not 0 <= value <= SELECT_VALUES_MAX:
            errors.add(
                (*path, bound), "NUMBER_TYPE_MAX", f"int value should be less than or equal to {SELECT_VALUES_MAX}."
            )
    if select.get("type") != STRING_SELECT:
        return
    options = select.get("options") or []
    errors.items_between((*path, "options"), options, 1, SELECT_OPTIONS_MAX)
    for index, option in enumerate(options):
        where = (*path, "options", index)
        errors.length_between((*where, "label"), option.get("label"), 1, SELECT_OPTION_TEXT_MAX)
        errors.length_between((*where, "value"), option.get("value"), 1, SELECT_OPTION_TEXT_MAX)
        errors.max_length((*where, "description"), option.get("description"), SELECT_OPTION_TEXT_MAX)


# ---- interaction callbacks -----------------------------------------------------------------

CALLBACK_MESSAGE_TYPES = (4, 7)
CALLBACK_AUTOCOMPLETE = 8
CALLBACK_MODAL = 9


def interaction_callback_errors(body: dict[str, Any]) -> FormErrors:
    """POST /interactions/{id}/{token}/callback: the checks depend on the response type."""
    errors = FormErrors()
    response_type = body.get("type")
    data = body.get("data") or {}
    if response_type in CALLBACK_MESSAGE_TYPES:
        check_message(errors, data, ("data",))
    elif response_type == CALLBACK_AUTOCOMPLETE:
        _check_choices(errors, data.get("choices") or [], ("data", "choices"), AUTOCOMPLETE_CHOICES_MAX)
    elif response_type == CALLBACK_MODAL:
        _check_modal(errors, data, ("data",))
    return errors


def _check_choices(errors: FormErrors, choices: list[dict[str, Any]], path: Path, limit: int) -> None:
    errors.max_items(path, choices, limit)
    for index, choice in enumerate(choices):
        errors.length_between((*path, index, "name"), choice.get("name"), 1, CHOICE_NAME_MAX)
        errors.max_length((*path, index, "value"), choice.get("value"), CHOICE_STRING_VALUE_MAX)


def _check_modal(errors: FormErrors, modal: dict[str, Any], path: Path) -> None:
    errors.length_between((*path, "title"), modal.get("title"), 1, MODAL_TITLE_MAX)
    errors.length_between((*path, "custom_id"), modal.get("custom_id"), 1, CUSTOM_ID_MAX)
    rows = modal.get("components") or []
    errors.items_between((*path, "components"), rows, 1, MODAL_COMPONENTS_MAX)
    for index, row in enumerate(rows):
        where = (*path, "components", index)
        if row.get("type") == LABEL:
            errors.length_between((*where, "label"), row.get("label"), 1, TEXT_INPUT_LABEL_MAX)
            errors.max_length((*where, "description"), row.get("description"), LABEL_DESCRIPTION_MAX)
            _check_modal_input(errors, row.get("component") or {}, (*where, "component"), labelled=True)
        elif row.get("type") == ACTION_ROW:
            children = row.get("components") or []
            errors.items_between((*where, "components"), children, 1, 1)
            for child_index, child in enumerate(children):
                _check_modal_input(errors, child, (*where, "components", child_index), labelled=False)
        else:
            _check_component(errors, row, where)


def _check_modal_input(errors: FormErrors, component: dict[str, Any], path: Path, *, labelled: bool) -> None:
    if component.get("type") != TEXT_INPUT:
        _check_component(errors, component, path)
        return
    errors.length_between((*path, "custom_id"), component.get("custom_id"), 1, CUSTOM_ID_MAX)
    if not labelled:
        errors.length_between((*path, "label"), component.get("label"), 1, TEXT_INPUT_LABEL_MAX)
    errors.max_length((*path, "value"), component.get("value"), TEXT_INPUT_VALUE_MAX)
    errors.max_length((*path, "placeholder"), component.get("placeholder"), TEXT_INPUT_PLACEHOLDER_MAX)
    for bound, low in (("min_length", 0), ("max_length", 1)):
        value = component.get(bound)
        if value is not None and not low <= value <= TEXT_INPUT_VALUE_MAX:
            errors.add(
                (*path, bound), "NUMBER_TYPE_MAX", f"int value should be less than or equal to {TEXT_INPUT_VALUE_MAX}."
            )


# ---- command sync ---------------------------------------------------------------------------


def command_sync_errors(commands: list[dict[str, Any]]) -> FormErrors:
    """PUT /applications/{id}[/guilds/{id}]/commands: the whole tree at once."""
    errors = FormErrors()
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands or []):
        command_type = command.get("type", 1)
        _check_command_node(errors, command, (index,), chat_input=command_type == 1)
        key = (command_type, command.get("name") or "")
        if key in seen:
            errors.add(
                (index, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add(key)
    return errors


def command_count_error(commands: list[dict[str, Any]]) -> str | None:
    """Over the per-type limit Discord answers 30032, "Maximum number of application commands reached"."""
    for command_type, limit in COMMANDS_PER_TYPE_MAX.items():
        count = sum(1 for command in commands or [] if command.get("type", 1) == command_type)
        if count > limit:
            return f"Maximum number of application commands reached ({limit})"
    return None


def _check_command_node(errors: FormErrors, node: dict[str, Any], path: Path, *, chat_input: bool) -> None:
    name = node.get("name")
    if chat_input:
        if not isinstance(name, str) or not COMMAND_NAME_PATTERN.match(name) or name != name.lower():
            errors.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        errors.length_between((*path, "description"), node.get("description"), 1, COMMAND_DESCRIPTION_MAX)
    else:
        errors.length_between((*path, "name"), name, 1, COMMAND_NAME_MAX)
    options = node.get("options") or []
    errors.max_items((*path, "options"), options, COMMAND_OPTIONS_MAX)
    optional_seen = False
    names: set[str] = set()
    for index, option in enumerate(options):
        where = (*path, "options", index)
        _check_command_node(errors, option, where, chat_input=True)
        if option.get("name") in names:
            errors.add((*where, "name"), "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME", "Option names must be unique")
        names.add(option.get("name") or "")
        if option.get("type") in SUBCOMMAND_TYPES:
            continue
        _check_choices(errors, option.get("choices") or [], (*where, "choices"), COMMAND_CHOICES_MAX)
        if option.get("required"):
            if optional_seen:
                errors.add(
                    (*path, "options"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
