"""A large export shows its progress: the deferred reply is edited while the rows are written
(a bounded number of times, whatever the size), then the file follows, the same file as when
written in one go. The size that counts as large is lowered here through its limit only."""

from __future__ import annotations

import pytest

from tests.harness import APP_ID, not_found
from tests.test_exports import files_of, roll_call_with, seed, table
from utils import limits

ROWS = 40


def progress_of(result) -> list[str]:
    return [sent.text for sent in result.own if sent.kind == "edit_response"]


async def export_sessions(h):
    return await h.command("export sessions", user="admin", channel="admin")


async def test_a_large_export_edits_its_reply_while_writing_then_sends_the_same_file(h, monkeypatch):
    await roll_call_with(h, ROWS)
    in_one_go = await export_sessions(h)
    assert progress_of(in_one_go) == []

    monkeypatch.setattr(limits, "EXPORT_PROGRESS_ROWS", ROWS)
    result = await export_sessions(h)
    assert progress_of(result) == [
        "⏳ Writing rows 8 of 40…",
        "⏳ Writing rows 16 of 40…",
        "⏳ Writing rows 24 of 40…",
        "⏳ Writing rows 32 of 40…",
        "✅ Wrote 40 rows.",
    ]
    # The progress comes before the file, and the file is byte for byte what one go writes.
    kinds = [sent.kind for sent in result.own]
    assert kinds.index("followup") > max(index for index, kind in enumerate(kinds) if kind == "edit_response")
    assert files_of(result) == files_of(in_one_go)
    assert len(table(files_of(result)[0][1])) == ROWS


@pytest.mark.parametrize("rows", [7, 23, 97])
async def test_the_number_of_edits_is_bounded_whatever_the_size(h, monkeypatch, rows):
    await roll_call_with(h, rows)
    monkeypatch.setattr(limits, "EXPORT_PROGRESS_ROWS", 5)
    shown = progress_of(await export_sessions(h))
    assert 1 < len(shown) <= limits.EXPORT_PROGRESS_STEPS
    assert shown[-1] == f"✅ Wrote {rows} rows."
    counts = [int(text.split()[3]) for text in shown[:-1]]
    assert counts == sorted(counts) and all(0 < count < rows for count in counts)


async def test_an_export_below_the_limit_is_not_edited(h):
    await roll_call_with(h, ROWS)
    assert ROWS < limits.EXPORT_PROGRESS_ROWS
    result = await export_sessions(h)
    assert progress_of(result) == [] and files_of(result)


async def test_every_export_and_csv_report_shows_progress(h, clock, monkeypatch):
    _, _, event = await seed(h, clock)
    monkeypatch.setattr(limits, "EXPORT_PROGRESS_ROWS", 2)
    november = {"from": "2026-11-01", "to": "2026-11-30"}
    for command, options in (
        ("export members", november),
        ("export event", {"event": event.id}),
        ("report range", {**november, "format": "csv"}),
        ("report member", {**november, "format": "csv", "member": h.member("ana")}),
        ("report event", {"event": event.id, "format": "csv"}),
        ("attendance export", {}),
    ):
        result = await h.command(command, user="admin", channel="admin", options=options)
        shown = progress_of(result)
        assert shown and shown[-1].startswith("✅ Wrote"), (command, shown)
        assert files_of(result), command


async def test_a_dismissed_reply_stops_the_progress_and_the_file_still_arrives(h, discord_side, monkeypatch):
    await roll_call_with(h, ROWS)
    monkeypatch.setattr(limits, "EXPORT_PROGRESS_ROWS", ROWS)
    discord_side.fail_next(
        "PATCH", f"/webhooks/{APP_ID}/{{token}}/messages/@original", not_found(10008, "Unknown Message")
    )
    result = await export_sessions(h)
    assert discord_side.pending_faults() == []
    assert progress_of(result) == []
    assert len(table(files_of(result)[0][1])) == ROWS
