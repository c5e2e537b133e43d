"""Every View, Modal and DynamicItem under cogs/ sends its errors to the one handler.

discord.py gives each kind its own error route: a view's `on_error`, a modal's `on_error`, and
for a DynamicItem nothing at all (the view store logs a callback's exception and swallows one
from `interaction_check`). A class that misses its route leaves the member with no answer and
the failure only in the log, so this holds every such class to the bases in bot/tree.py."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import discord
from discord.ui.view import BaseView

import cogs
from bot.tree import GuardedItem, RollcallLayoutView, RollcallModal, RollcallView

ROUTED_ON_ERROR = (RollcallView.on_error, RollcallLayoutView.on_error, RollcallModal.on_error)
UI_BASE_NAMES = frozenset({"View", "LayoutView", "Modal", "DynamicItem"})
COGS_DIR = Path(next(iter(cogs.__path__)))  # cogs/ is a namespace package: no __file__


def cog_modules() -> list[ModuleType]:
    return [cogs] + [
        importlib.import_module(info.name) for info in pkgutil.walk_packages(cogs.__path__, prefix="cogs.")
    ]


def subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def routing_faults(cls: type) -> list[str]:
    """Why `cls` would not reach the one handler; empty when it does."""
    if issubclass(cls, discord.ui.DynamicItem):
        faults = []
        if not issubclass(cls, GuardedItem):
            faults.append("is a DynamicItem without GuardedItem, so its errors only reach the log")
        elif cls.callback is not GuardedItem.callback:
            faults.append("overrides callback; put the work in run so GuardedItem reports its errors")
        if cls.interaction_check is not discord.ui.DynamicItem.interaction_check:
            faults.append("overrides interaction_check, whose exceptions discord.py swallows; check inside run")
        return faults
    if issubclass(cls, BaseView) and cls.on_error not in ROUTED_ON_ERROR:
        return [
            "has an on_error that is not the one handler: subclass RollcallView, RollcallLayoutView or RollcallModal"
        ]
    return []


def ui_classes_in_cogs() -> list[type]:
    modules = {module.__name__ for module in cog_modules()}
    found: set[type] = set()
    for root in (BaseView, discord.ui.DynamicItem):
        found.update(cls for cls in subclasses(root) if cls.__module__ in modules)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_every_view_modal_and_dynamic_item_in_cogs_routes_errors_to_the_one_handler():
    classes = ui_classes_in_cogs()
    names = {cls.__qualname__ for cls in classes}
    assert "SessionsPageButton" in names, f"the search found only {sorted(names)}"
    faults = [f"{cls.__module__}.{cls.__qualname__} {fault}" for cls in classes for fault in routing_faults(cls)]
    assert not faults, "\n".join(faults)


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def construction_faults(source: str, filename: str) -> list[str]:
    """discord.py's own View, LayoutView or Modal built directly (its on_error only logs), and UI
    classes defined inside a function, where importing the module cannot find them."""
    faults: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call) and _base_name(node.func) in UI_BASE_NAMES:
            faults.append(
                (node.lineno, f"{filename}:{node.lineno} builds discord.py's {_base_name(node.func)} directly")
            )
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ClassDef) and inner.bases:
                    faults.append(
                        (inner.lineno, f"{filename}:{inner.lineno} defines class {inner.name} inside a function")
                    )
    return [fault for _, fault in sorted(set(faults))]


def test_cogs_build_no_bare_discord_views_or_modals():
    faults = []
    for path in sorted(COGS_DIR.rglob("*.py")):
        faults.extend(construction_faults(path.read_text(encoding="utf-8"), str(path.relative_to(COGS_DIR.parent))))
    assert not faults, "\n".join(faults)


# ---- the checks themselves catch what they are for --------------------------------------------


class PlainView(discord.ui.View):
    pass


class LoggingModal(RollcallModal, title="Logs only"):
    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        pass


class UnguardedButton(discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:test:unguarded:(?P<id>\d+)"):
    pass


class CallbackButton(
    GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:test:callback:(?P<id>\d+)"
):
    async def callback(self, interaction: discord.Interaction) -> None:
        pass


class CheckedButton(
    GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:test:checked:(?P<id>\d+)"
):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return True


class GoodView(RollcallView):
    pass


class GoodLayout(RollcallLayoutView):
    pass


class GoodModal(RollcallModal, title="Good"):
    pass


class GoodButton(GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:test:good:(?P<id>\d+)"):
    async def run(self, interaction: discord.Interaction) -> None:
        pass


def test_the_routing_check_refuses_each_way_of_missing_the_handler():
    assert "on_error" in routing_faults(PlainView)[0]
    assert "on_error" in routing_faults(LoggingModal)[0]
    assert "without GuardedItem" in routing_faults(UnguardedButton)[0]
    assert "overrides callback" in routing_faults(CallbackButton)[0]
    assert "overrides interaction_check" in routing_faults(CheckedButton)[0]
    for good in (GoodView, GoodLayout, GoodModal, GoodButton):
        assert routing_faults(good) == [], good


def test_the_construction_check_refuses_bare_views_and_nested_classes():
    source = (
        "import discord\n"
        "from discord import ui\n"
        "view = discord.ui.View(timeout=None)\n"
        "modal = ui.Modal(title='x')\n"
        "def build():\n"
        "    class Inner(RollcallView):\n"
        "        pass\n"
        "fine = RollcallView(timeout=None)\n"
    )
    faults = construction_faults(source, "sample.py")
    assert len(faults) == 3, faults
    assert re.search(r"sample.py:3 .*View", faults[0]) and re.search(r"sample.py:4 .*Modal", faults[1])
    assert "Inner inside a function" in faults[2]
