"""Waiting for the bot to finish what it started, without sleeping.

`until_idle` waits for every task on the loop except the caller's own, the ones it names as
already running, and the long-lived ones (a view's timeout wait). That covers what discord.py
starts per event (listener dispatch, the command tree's invoker, view, modal and dynamic item
callbacks), what the bot starts itself (the group committer's flush) and scheduler jobs that
are running; a task still pending at the deadline fails the test, named with where it waits."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from tests.harness import private

IDLE_TIMEOUT_SECONDS = 10.0
# Loop turns given to callbacks scheduled with call_soon, so the tasks they create are seen.
YIELDS_BEFORE_LOOKING = 3


def is_long_lived(task: asyncio.Task[Any]) -> bool:
    """Tasks that outlive any one event; waiting for them would wait out their timeout."""
    return private.is_view_timeout_wait(task)


def pending_tasks(exclude: Collection[asyncio.Task[Any]] = ()) -> list[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return [
        task
        for task in asyncio.all_tasks()
        if task is not current and task not in exclude and not task.done() and not is_long_lived(task)
    ]


def describe(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    where = getattr(coro, "__qualname__", repr(coro))
    frames = task.get_stack(limit=1)
    if frames:
        frame = frames[0]
        where += f" at {frame.f_code.co_filename}:{frame.f_lineno}"
    return f"{task.get_name()} ({where})"


async def until_idle(exclude: Collection[asyncio.Task[Any]] = (), *, timeout: float = IDLE_TIMEOUT_SECONDS) -> None:
    """Return once no task is pending but the excluded and long-lived ones; fail at `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for _ in range(YIELDS_BEFORE_LOOKING):
            await asyncio.sleep(0)
        pending = pending_tasks(exclude)
        if not pending:
            return
        remaining = deadline - loop.time()
        if remaining > 0:
            await asyncio.wait(pending, timeout=remaining)
            continue
        stuck = "\n  ".join(describe(task) for task in pending)
        raise AssertionError(f"the bot was not idle after {timeout} s; still pending:\n  {stuck}")
