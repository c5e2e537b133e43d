"""The roster import's files go through the one attachment path (bot/replies.send_files): a
tokens CSV past the interaction's upload limit is zipped, and split when still too big."""

from __future__ import annotations

import csv
import io
import zipfile

from tests.verify_support import final_reply, import_roster, switch_on

ROWS = 300


def roster(rows: int) -> bytes:
    lines = ["email,name", *(f"person{index:04d}@example.org,Person {index:04d}" for index in range(rows))]
    return ("\n".join(lines) + "\n").encode()


async def test_a_tokens_csv_past_the_upload_limit_arrives_zipped_in_parts_and_joins_back(h, discord_side):
    await switch_on(h)
    discord_side.attachment_size_limit = 6_000
    result = await import_roster(h, roster(ROWS))
    reply = final_reply(result)
    assert f"Imported **{ROWS}** roster entries" in reply.content
    assert "zipped" in reply.content
    parts = [
        (name, data)
        for sent in result.own
        if sent.kind == "followup"
        for name, data in sent.files
        if name.startswith("roster-tokens.csv.zip")
    ]
    assert parts
    assert all(sum(len(data) for _, data in sent.files) <= 6_000 for sent in result.own if sent.files)
    joined = b"".join(data for _, data in sorted(parts))
    with zipfile.ZipFile(io.BytesIO(joined)) as archive:
        text = archive.read("roster-tokens.csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == ROWS
    assert rows[0]["email"] == "person0000@example.org" and rows[0]["token"]
    assert int(await h.bot.db.fetch_value("SELECT count(*) FROM roster_entry")) == ROWS


async def test_a_small_tokens_csv_is_sent_as_it_is(h):
    await switch_on(h)
    reply = final_reply(await import_roster(h, roster(2)))
    assert [name for name, _ in reply.files] == ["roster-tokens.csv"]
    assert "zipped" not in reply.content
