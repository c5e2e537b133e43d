"""A large export written in steps, with its deferred reply edited to show how far it got.

Rows are formatted and written in a worker thread a step at a time, so the event loop keeps
answering everyone else. Exports below `EXPORT_PROGRESS_ROWS` are written in one go; larger
ones in `EXPORT_PROGRESS_STEPS` equal steps, the reply edited after each step but the last and
once at the end: a bounded number of edits (five), whatever the size."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from utils import limits
from utils.csv_export import CsvBuilder, Table

log = logging.getLogger(__name__)


async def write_table(interaction: discord.Interaction, table: Table[Any]) -> bytes:
    total = len(table.items)
    # Read at call time, not import time, so a test can lower the threshold.
    if total < limits.EXPORT_PROGRESS_ROWS:
        return await asyncio.to_thread(table.build)
    builder = CsvBuilder(table.header)
    step = -(-total // limits.EXPORT_PROGRESS_STEPS)
    showing = True
    for start in range(0, total, step):
        chunk = table.items[start : start + step]
        await asyncio.to_thread(builder.add, map(table.row_of, chunk))
        done = start + len(chunk)
        text = f"⏳ Writing rows {done:,} of {total:,}…" if done < total else f"✅ Wrote {total:,} rows."
        showing = showing and await _show(interaction, text)
    return await asyncio.to_thread(builder.data)


async def _show(interaction: discord.Interaction, text: str) -> bool:
    """False once the reply can't be edited: the member dismissed it, and the files still follow."""
    try:
        await interaction.edit_original_response(content=text)
    except discord.NotFound:
        log.info("Export progress for interaction %s stopped: its reply is gone", interaction.id)
        return False
    return True
