"""Cogs receive the repositories and services they use in their constructor; only a cog module's
`setup()` takes them from the bot, and only a DynamicItem (which discord.py builds, not the cog)
reaches `interaction.client`, typed through `bot.types.Interaction` instead of `type: ignore`."""

from __future__ import annotations

import ast
from pathlib import Path

from discord.ext import commands

COGS = Path(__file__).resolve().parents[1] / "cogs"
# What the bot holds for the cogs: each must come in through a cog's constructor.
SERVICES = {
    "db",
    "audit",
    "guild_configs",
    "meta",
    "attendance",
    "outbox",
    "delivery",
    "tracked_posts",
    "jobs",
    "clock",
}


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing(node: ast.AST, parents: dict[ast.AST, ast.AST], kind: type) -> list[ast.AST]:
    found = []
    while node in parents:
        node = parents[node]
        if isinstance(node, kind):
            found.append(node)
    return found


def _is_dynamic_item(node: ast.ClassDef) -> bool:
    return any("DynamicItem" in ast.unparse(base) for base in node.bases)


def _cog_sources() -> list[Path]:
    return sorted(COGS.rglob("*.py"))


def test_cogs_do_not_reach_through_the_bot_for_repositories_or_services():
    reach_ins = []
    for path in _cog_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = _parents(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr in SERVICES):
                continue
            owner = ast.unparse(node.value)
            if owner not in ("bot", "self.bot", "interaction.client", "self.client"):
                continue
            functions = _enclosing(node, parents, ast.FunctionDef | ast.AsyncFunctionDef)
            if any(function.name == "setup" for function in functions):
                continue
            classes = _enclosing(node, parents, ast.ClassDef)
            if owner == "interaction.client" and any(_is_dynamic_item(c) for c in classes):
                continue
            reach_ins.append(f"{path.relative_to(COGS.parent)}:{node.lineno} {ast.unparse(node)}")
    assert reach_ins == []


def test_no_cog_reaches_interaction_client_behind_a_type_ignore():
    ignored = [
        f"{path.relative_to(COGS.parent)}:{number}"
        for path in _cog_sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "interaction.client" in line and "type: ignore" in line
    ]
    assert ignored == []


async def test_each_cog_holds_the_bots_own_repositories_and_services(h):
    attendance = h.bot.get_cog("Attendance")
    assert attendance.sessions is h.bot.attendance
    assert attendance.configs is h.bot.guild_configs
    assert attendance.delivery is h.bot.delivery
    assert attendance.clock is h.bot.clock
    config = h.bot.get_cog("Config")
    assert config.configs is h.bot.guild_configs
    assert config.clock is h.bot.clock
    assert h.bot.get_cog("Help").configs is h.bot.guild_configs
    assert all(isinstance(cog, commands.Cog) for cog in h.bot.cogs.values())


def test_the_attendance_package_keeps_each_module_under_500_lines():
    for path in (COGS / "attendance").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path.name
