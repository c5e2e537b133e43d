"""/verify import: every CSV tolerance, every refusal (nothing changed), the per-row report,
duplicates by mode, progress on a long import, and the tokens CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.verify_support import count, final_reply, import_roster, switch_on, tokens_from
from utils.tokens import TOKEN_LENGTH, normalize_token

TOLERATED = {
    "plain": b"email,name\nada@example.org,Ada Lovelace\ngrace@example.org,Grace Hopper\n",
    "bom_crlf": "\ufeffemail,name\r\nada@example.org,Ada Lovelace\r\ngrace@example.org,Grace Hopper\r\n".encode(),
    "semicolons": b"Email;Name\nada@example.org;Ada Lovelace\ngrace@example.org;Grace Hopper\n",
    "header_case_and_spaces": b"  EMAIL , Name  ,Discord Username\n ADA@example.org , Ada Lovelace ,\n"
    b"grace@example.org,Grace Hopper,@Grace.H\n",
    "quoted_and_blank_lines": b'email,name\n\n"ada@example.org","Lovelace, Ada"\n\ngrace@example.org,Grace Hopper\n',
    "extra_columns": b"id,email,name,notes\n1,ada@example.org,Ada Lovelace,x\n2,grace@example.org,Grace Hopper,y\n",
}


@pytest.mark.parametrize("name", sorted(TOLERATED))
async def test_tolerated_roster_shapes_import_both_rows(h, name):
    await switch_on(h)
    result = await import_roster(h, TOLERATED[name])
    reply = final_reply(result)
    assert "Imported **2** roster entries" in reply.content, reply.content
    assert reply.ephemeral
    tokens = tokens_from(reply)
    assert sorted(tokens) == ["ada@example.org", "grace@example.org"]
    entry = await h.bot.verification.get_entry(h.guild.id, "ada@example.org")
    assert entry.name in ("Ada Lovelace", "Lovelace, Ada")


async def test_the_tokens_csv_has_the_mail_merge_columns_and_typeable_tokens(h, clock):
    await switch_on(h)
    reply = final_reply(await import_roster(h, b"email,name\nada@example.org,=HYPERLINK(1)\n", expiry_days=3))
    text = reply.file("roster-tokens.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["email", "name", "token", "expires_at_utc", "expires_at_local"]
    email, name, token, expires, _expires_local = rows[1]
    assert email == "ada@example.org" and name == "'=HYPERLINK(1)"  # formula-safe
    assert expires == (clock.now() + timedelta(days=3)).isoformat(timespec="seconds")
    groups = token.split("-")
    assert len(groups) == 4 and all(len(group) == 4 for group in groups)
    assert len(normalize_token(token)) == TOKEN_LENGTH
    assert not set(token) & set("0O1IL")
    stored = await h.bot.db.fetch_value("SELECT token_hash FROM roster_entry")
    assert token not in stored and normalize_token(token) not in stored and len(stored) == 64


async def test_bad_rows_are_reported_by_line_and_good_rows_imported(h):
    await switch_on(h)
    content = (
        b"email,name,discord_username\n"
        b"ada@example.org,Ada,\n"
        b"not-an-email,Bob,\n"
        b"carol@example.org,,\n"
        b"ada@example.org,Ada again,\n"
        b"dan@example.org,Dan,no spaces allowed\n"
        b"erin@example,Erin,\n"
        b"frank@example.org,Frank,\n"
    )
    reply = final_reply(await import_roster(h, content))
    assert "Imported **2** roster entries" in reply.content
    for expected in (
        "line 3: `not-an-email` is not an e-mail address",
        "line 4: the name is empty",
        "line 5: the e-mail repeats line 2",
        "line 6:",
        "line 7: `erin@example` is not an e-mail address",
    ):
        assert expected in reply.content, reply.content
    assert await count(h, "roster_entry") == 2


async def test_a_long_report_comes_as_an_attachment(h):
    await switch_on(h)
    lines = ["email,name"] + [f"bad{i},Name" for i in range(30)] + ["ok@example.org,Ok"]
    reply = final_reply(await import_roster(h, "\n".join(lines) + "\n"))
    assert "30 rows refused" in reply.content
    report = list(csv.reader(io.StringIO(reply.file("roster-errors.csv").decode("utf-8-sig"))))
    assert report[0] == ["line", "reason"] and report[1][0] == "2" and len(report) == 31


async def test_mode_add_refuses_existing_entries_and_mode_update_replaces_them(h):
    await switch_on(h)
    first = tokens_from(final_reply(await import_roster(h, b"email,name\nada@example.org,Ada\n")))
    again = final_reply(await import_roster(h, b"email,name\nada@example.org,Ada L.\n"))
    assert "already in the roster" in again.content
    assert (await h.bot.verification.get_entry(h.guild.id, "ada@example.org")).name == "Ada"

    updated = final_reply(
        await import_roster(h, b"email,name\nada@example.org,Ada L.\nada@example.org,Ada K.\n", mode="update")
    )
    assert "were already in the roster and were updated" in updated.content
    second = tokens_from(updated)
    assert second["ada@example.org"] != first["ada@example.org"]
    entry = await h.bot.verification.get_entry(h.guild.id, "ada@example.org")
    assert entry.name == "Ada K."  # the later row of the file wins
    assert await count(h, "roster_entry") == 1


async def _refused(h, content: bytes, expected: str, **options) -> None:
    before = await count(h, "roster_entry")
    result = await import_roster(h, content, **options)
    assert expected in result.text, result.text
    assert result.reply.ephemeral
    assert "roster-tokens.csv" not in [name for sent in result.own for name, _ in sent.files]
    assert await count(h, "roster_entry") == before


async def test_refused_files_change_nothing(h):
    await switch_on(h)
    await import_roster(h, b"email,name\nkeep@example.org,Keep\n")
    await _refused(h, b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "is not a CSV", filename="photo.png")
    await _refused(h, "email,name\nada@example.org,Ad\xe9\n".encode("latin-1"), "not UTF-8")
    await _refused(h, b"mail,fullname\nada@example.org,Ada\n", "must name the columns `email` and `name`")
    await _refused(h, b"", "empty")
    await _refused(h, b"email,name\n", "no rows")
    many = "email,name\n" + "".join(f"p{i}@example.org,P {i}\n" for i in range(50_001))
    await _refused(h, many.encode(), "more than 50,000 rows")
    big = b"email,name\n" + b"x" * (5 * 1024 * 1024)
    await _refused(h, big, "at most 5 MB")


async def test_a_long_import_shows_progress(h):
    await switch_on(h)
    content = "email,name\n" + "".join(f"p{i}@example.org,Person {i}\n" for i in range(12_000))
    result = await import_roster(h, content)
    progress = [sent.content for sent in result.own if sent.kind == "edit_response"]
    assert progress == ["⏳ Importing… 5,000 / 12,000 rows", "⏳ Importing… 10,000 / 12,000 rows"]
    assert "Imported **12,000** roster entries" in final_reply(result).content
    assert await count(h, "roster_entry") == 12_000


async def test_only_admins_may_import(h):
    await switch_on(h)
    result = await import_roster_as(h, "organizer")
    assert "Only server admins" in result.text
    assert await count(h, "roster_entry") == 0


async def import_roster_as(h, user: str):
    from tests.harness import UploadedFile

    return await h.command(
        "verify import",
        user=user,
        channel="admin",
        options={"file": UploadedFile("roster.csv", b"email,name\nada@example.org,Ada\n")},
    )
