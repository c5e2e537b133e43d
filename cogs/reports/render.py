"""Charts are drawn in a worker process, not a thread: matplotlib's Agg renderer holds the GIL
while it draws (measured: a 300-roll-call chart held it ~400 ms from a thread, and the event loop
with it). One spawned process serves the whole bot; it starts on the first chart and is reused."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

# The worker unpickles these by name, so it imports utils.charts alone, never the bot's modules.
from utils.charts import Chart, load_matplotlib, render_pdf, render_png

_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: forking a process that runs an event loop and database threads copies
        # their locks mid-use.
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def _run(function: object, chart: Chart) -> bytes:
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), function, chart)  # type: ignore[arg-type]
    except BrokenProcessPool:
        # The worker died (killed, out of memory): start a fresh one once.
        _pool = None
        return await loop.run_in_executor(_executor(), function, chart)  # type: ignore[arg-type]


async def png(chart: Chart) -> bytes:
    return await _run(render_png, chart)


async def pdf(chart: Chart) -> bytes:
    return await _run(render_pdf, chart)


def warm() -> None:
    """Start the worker now (it imports matplotlib, about a second) so the first report does not wait for it."""
    _executor().submit(load_matplotlib)
