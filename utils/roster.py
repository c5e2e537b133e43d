"""Reading a roster CSV (`email,name[,discord_username]`) as admins export it from a spreadsheet.

Tolerated: a UTF-8 byte-order mark, `;` or `,` between fields (sniffed with `csv.Sniffer`), header
names in any case and with spaces around them, cells with spaces around them, CRLF line ends,
blank lines, and columns the roster does not use. A whole file is refused (`RosterRefused`, with
the sentence the admin reads) when it is not text, not a CSV with `email` and `name` columns, or
longer than `MAX_ROWS`; then nothing is imported. Otherwise every row is either good or reported
with its line number in the file and the reason.

E-mail rule (deliberately simple, and written here because admins ask why a row was refused):
`local@domain`, at most 254 characters; the local part is 1 to 64 printable ASCII characters
without spaces or any of `"(),:;<>[\\]`, and does not start or end with a dot; the domain has at
least two dot-separated labels of letters, digits and inner hyphens (1 to 63 characters each),
and its last label is at least two letters. Addresses are compared trimmed and lower-cased.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_NAME = 100
MAX_EMAIL = 254
REQUIRED_COLUMNS = ("email", "name")
OPTIONAL_COLUMNS = ("discord_username",)
SNIFF_BYTES = 4096

_LOCAL = re.compile(r"[!#$%&'*+\-/=?^_`{|}~.A-Za-z0-9]{1,64}")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TOP_LABEL = re.compile(r"[A-Za-z]{2,63}")
# Discord usernames: 2 to 32 of lower-case letters, digits, `_` and `.`.
_USERNAME = re.compile(r"[a-z0-9_.]{2,32}")


class RosterRefused(Exception):
    """The whole file is refused; `message` says why and what a good file looks like."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    email: str
    name: str
    discord_username: str | None


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedRoster:
    rows: list[RosterRow]
    bad: list[BadRow]
    delimiter: str

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.bad)


EXAMPLE = "```\nemail,name,discord_username\nada@example.org,Ada Lovelace,ada.l\n```"


def normalize_email(value: str) -> str:
    return value.strip().lower()


def is_email(value: str) -> bool:
    """The module's documented rule, on an already trimmed address."""
    if len(value) > MAX_EMAIL or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    return bool(_TOP_LABEL.fullmatch(labels[-1]))


def normalize_username(value: str) -> str:
    return value.strip().removeprefix("@").lower()


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise RosterRefused(
            f"That file is not a CSV (it holds binary data). Export the roster as CSV, like:\n{EXAMPLE}"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterRefused(
            "That file is not UTF-8 text. In your spreadsheet choose *CSV UTF-8* when saving, then try again."
        ) from None


def _delimiter(text: str) -> str:
    sample = text[:SNIFF_BYTES]
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,").delimiter
    except csv.Error:
        # One column, or too few lines to tell: the header line decides.
        header = sample.splitlines()[0] if sample else ""
        return ";" if header.count(";") > header.count(",") else ","


def parse_roster(data: bytes) -> ParsedRoster:
    """The file's good rows and its bad ones, or `RosterRefused` for the whole file."""
    if len(data) > MAX_FILE_BYTES:
        raise RosterRefused(too_big_message(len(data)))
    text = _decode(data)
    if not text.strip():
        raise RosterRefused(f"That file is empty. A roster needs a header row and one row per person, like:\n{EXAMPLE}")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    try:
        header = next(reader)
    except csv.Error:
        raise RosterRefused(f"That file is not a CSV I can read. A roster looks like:\n{EXAMPLE}") from None
    columns = [cell.strip().lower().replace(" ", "_") for cell in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        found = ", ".join(f"`{cell.strip()[:40]}`" for cell in header[:10] if cell.strip()) or "nothing"
        raise RosterRefused(
            f"The first row must name the columns `email` and `name` (`discord_username` is optional); "
            f"I found {found}. A roster looks like:\n{EXAMPLE}"
        )
    where = {name: columns.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in columns}
    rows: list[RosterRow] = []
    bad: list[BadRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + len(bad) >= MAX_ROWS:
                raise RosterRefused(
                    f"That roster has more than {MAX_ROWS:,} rows. Split it into files of at most {MAX_ROWS:,} rows "
                    "and import each one."
                )
            problem = _row_problem(cells, where)
            if isinstance(problem, str):
                bad.append(BadRow(line, problem))
            else:
                rows.append(RosterRow(line, *problem))
    except csv.Error as error:
        raise RosterRefused(
            f"That file is not a CSV I can read (line {reader.line_num}: {error}). A roster looks like:\n{EXAMPLE}"
        ) from None
    if not rows and not bad:
        raise RosterRefused(f"That roster has a header but no rows. Add one row per person, like:\n{EXAMPLE}")
    return ParsedRoster(rows, bad, delimiter)


def _cell(cells: list[str], where: dict[str, int], name: str) -> str:
    index = where.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _row_problem(cells: list[str], where: dict[str, int]) -> str | tuple[str, str, str | None]:
    email = normalize_email(_cell(cells, where, "email"))
    name = " ".join(_cell(cells, where, "name").split())
    username = normalize_username(_cell(cells, where, "discord_username")) or None
    if not email:
        return "the e-mail is empty"
    if not is_email(email):
        return f"`{email[:60]}` is not an e-mail address"
    if not name:
        return "the name is empty"
    if len(name) > MAX_NAME:
        return f"the name is longer than {MAX_NAME} characters"
    if username is not None and not _USERNAME.fullmatch(username):
        return f"`{username[:40]}` is not a Discord username (2 to 32 of a-z, 0-9, `_` and `.`)"
    return email, name, username


def too_big_message(size: int) -> str:
    return (
        f"That file is {size / 1024 / 1024:.1f} MB; a roster may be at most {MAX_FILE_BYTES // 1024 // 1024} MB. "
        f"Split it into smaller files (at most {MAX_ROWS:,} rows each) and import each one."
    )
