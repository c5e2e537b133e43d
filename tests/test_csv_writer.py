"""The one CSV writer: BOM, header, UTC beside local time, formula-injection cases, and the
roll-call export written through it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.test_attendance import code_now, configure, here, open_session
from utils.csv_export import build_csv, neutralize, time_cells, time_header

DANGEROUS = ["=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x","y")']


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("value", DANGEROUS)
def test_each_formula_prefix_is_neutralised_with_a_quote(value):
    assert neutralize(value) == "'" + value
    data = build_csv(("name",), [(value,)])
    assert rows_of(data)[1] == ["'" + value]


@pytest.mark.parametrize("value", ["plain", "a=b", "1-2", "", "名前 ✨", "'already"])
def test_harmless_cells_are_left_as_they_are(value):
    assert neutralize(value) == value


def test_negative_numbers_are_neutralised_too():
    # A leading minus is on OWASP's list: a sheet would evaluate "-2+3" as a formula.
    assert rows_of(build_csv(("n",), [(-2,)]))[1] == ["'-2"]


def test_file_starts_with_a_bom_and_a_header_row_and_none_is_empty():
    data = build_csv(("a", "b"), [(None, 3)])
    assert data.startswith(b"\xef\xbb\xbf")
    assert rows_of(data) == [["a", "b"], ["", "3"]]


def test_time_cells_give_utc_and_the_guild_local_time():
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert time_header("opened_at") == ("opened_at_utc", "opened_at_local")
    assert time_cells(moment, "Europe/Berlin") == ("2026-07-01T12:00:00+00:00", "2026-07-01T14:00:00+02:00")
    assert time_cells(None, "Europe/Berlin") == ("", "")


def test_a_utc_column_without_its_local_twin_is_refused():
    with pytest.raises(ValueError, match="opened_at_local"):
        build_csv(("opened_at_utc",), [])


def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="2 cells for 1 columns"):
        build_csv(("a",), [("x", "y")])


async def test_roll_call_export_neutralises_every_dangerous_display_name(h):
    await configure(h)
    await h.command("config set", user="admin", channel="admin", timezone="America/New_York")
    members = [h.add_member(f"m{index}", roles=("Student",), display_name=name) for index, name in enumerate(DANGEROUS)]
    session = await open_session(h)
    for member in members:
        await here(h, await code_now(h, session.id), user=member)

    result = await h.command("attendance export", user="admin", channel="admin")
    _name, data = result.reply.files[0]
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    shown = {row["user_name"]: row for row in table}
    for index, dangerous in enumerate(DANGEROUS):
        assert shown[f"m{index}"]["display_name"] == "'" + dangerous
    first = shown["m0"]
    assert first["submitted_at_utc"].endswith("+00:00")
    assert first["submitted_at_local"].endswith("-05:00")
    assert first["corrected_at_local"] == ""
