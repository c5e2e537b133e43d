"""The README's tables follow the code: every command is in the command table with its options
as the tree declares them (required bare, optional in brackets), every row names a real command,
`/config set`'s options table lists exactly its options, and the `.env` table and .env.example
list exactly the settings config.py reads."""

from __future__ import annotations

import re
from pathlib import Path

from cogs.help import walk_leaf_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# A command row: | `/name sub required [optional]` | who | what |
COMMAND_ROW = re.compile(r"^\| `(/[^`]+)` \|", re.MULTILINE)
# A choice written out in place of its option's name, as in `/me reminders off|on`.
CHOICE_SPELLED_OUT = re.compile(r"^[a-z_]+(\\?\|[a-z_]+)+$")
# Commands whose options have a table of their own.
OWN_OPTIONS_TABLE = {"config set": "### `/config set` options"}


def command_rows() -> list[list[str]]:
    return [match.group(1).split() for match in COMMAND_ROW.finditer(README)]


def options_in_row(qualified_name: str) -> tuple[list[str], list[str]] | None:
    depth = len(qualified_name.split())
    for words in command_rows():
        if " ".join(words[:depth]).lstrip("/") == qualified_name:
            rest = words[depth:]
            return [w for w in rest if not w.startswith("[")], [w.strip("[]") for w in rest if w.startswith("[")]
    return None


def own_options_table(heading: str) -> list[str]:
    section = README.split(heading, 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)


async def test_every_command_is_in_the_readme_with_its_options(h):
    missing, wrong = [], []
    for command in walk_leaf_commands(h.bot.tree):
        found = options_in_row(command.qualified_name)
        if found is None:
            missing.append(f"/{command.qualified_name}")
            continue
        expected_required = [parameter.display_name for parameter in command.parameters if parameter.required]
        expected_optional = [parameter.display_name for parameter in command.parameters if not parameter.required]
        required, optional = found
        if len(required) == 1 and CHOICE_SPELLED_OUT.match(required[0]) and len(expected_required) == 1:
            required = expected_required
        if command.qualified_name in OWN_OPTIONS_TABLE:
            optional = own_options_table(OWN_OPTIONS_TABLE[command.qualified_name])
        if (required, optional) != (expected_required, expected_optional):
            wrong.append(
                f"/{command.qualified_name}: the README has required {required}, optional {optional}; "
                f"the command has required {expected_required}, optional {expected_optional}"
            )
    assert not missing, f"commands missing from the README's table: {missing}"
    assert not wrong, "\n".join(wrong)


async def test_every_readme_row_is_a_command(h):
    names = {f"/{command.qualified_name}" for command in walk_leaf_commands(h.bot.tree)}
    for words in command_rows():
        assert any(" ".join(words[:depth]) in names for depth in (1, 2, 3)), f"README row {' '.join(words)!r}"


def test_every_setting_is_in_the_env_table():
    read = set(re.findall(r'get\("([A-Z_]+)"\)', (ROOT / "config.py").read_text(encoding="utf-8")))
    table: set[str] = set()
    for first, second in re.findall(r"^\| `([A-Z_]+)`(?: / `([A-Z_]+)`)? \|", README, re.MULTILINE):
        table.update(name for name in (first, second) if name)
    assert read, "config.py reads no settings"
    assert read <= table, f"settings missing from the README's .env table: {sorted(read - table)}"
    assert table <= read, f"the README's .env table names settings config.py does not read: {sorted(table - read)}"
    example = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.MULTILINE))
    assert example == read, f".env.example differs from config.py: {sorted(example ^ read)}"
