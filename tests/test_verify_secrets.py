"""No token and no e-mail address in any log record at any level, and none in a message anyone
but the admin who asked (or the member themselves) can read."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from cogs.verification.redact import REDACTED
from tests.verify_support import final_reply, import_roster, switch_on, tokens_from, verify_by_command, verify_by_dm
from utils.tokens import normalize_token

ROSTER = "email,name\nada@example.org,Ada\ngrace@example.org,Grace\nalan@example.org,Alan\n"
EMAILS = ("ada@example.org", "grace@example.org", "alan@example.org")


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return [formatter.format(record) for record in self.records]


@pytest.fixture
def captured() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def secrets_in(text: str, tokens: dict[str, str]) -> list[str]:
    found = [email for email in EMAILS if email in text.lower()]
    for token in tokens.values():
        if token in text or normalize_token(token) in text.upper():
            found.append("a token")
    return found


async def test_no_token_or_email_in_any_log_record_or_public_message(h, captured, clock, discord_side):
    await switch_on(h)
    tokens = tokens_from(final_reply(await import_roster(h, ROSTER)))
    first = await h.member_join("first")
    second = await h.member_join("second")
    await verify_by_dm(h, first, "ada@example.org", tokens["ada@example.org"])
    await verify_by_command(h, second, "ada@example.org", tokens["ada@example.org"])  # another member's
    await verify_by_command(h, second, "grace@example.org", "WRONG-WRONG")
    for _ in range(3):
        await verify_by_command(h, second, "grace@example.org", tokens["alan@example.org"])
    locked = await h.command("verify me", user=second, channel="verification")
    assert "Too many failed attempts" in locked.text
    refreshed = await h.command("verify refresh", user="admin", channel="admin", email="alan@example.org")
    tokens["alan (new)"] = tokens_from(refreshed.reply)["alan@example.org"]
    await h.command("verify list", user="admin", channel="admin")
    await h.command("verify remove", user="admin", channel="admin", email="grace@example.org")
    await h.command("verify export", user="admin", channel="admin")
    clock.advance(minutes=10)
    await h.bot.run_due_jobs()
    await h.idle()
    assert discord_side.of_kind("kick")  # the flow went all the way to the deadline

    assert any(record.levelno == logging.DEBUG for record in captured.records)
    leaks = [(text, secrets_in(text, tokens)) for text in captured.texts() if secrets_in(text, tokens)]
    assert not leaks, leaks

    for sent in discord_side.sent:
        if sent.kind in ("message", "edit"):
            readable = sent.text + "".join(data.decode("utf-8", "replace") for _, data in sent.files)
            assert not secrets_in(readable, tokens), sent
        elif sent.kind in ("response", "followup") and secrets_in(sent.text, tokens):
            assert sent.ephemeral, sent


def test_the_gateway_debug_log_of_a_modal_submit_is_redacted(h, captured):
    event = {
        "op": 0,
        "t": "INTERACTION_CREATE",
        "d": {
            "type": 5,
            "data": {
                "custom_id": "rollcall:verify:modal:1:2",
                "components": [
                    {"type": 1, "components": [{"type": 4, "custom_id": "e", "value": "ada@example.org"}]},
                    {"type": 1, "components": [{"type": 4, "custom_id": "t", "value": "ABCD-EFGH-JKMN-PQRS"}]},
                ],
            },
        },
    }
    # discord.py's own line for every event it receives, at DEBUG.
    logging.getLogger("discord.gateway").debug("For Shard ID %s: WebSocket Event: %s", 0, event)
    text = captured.texts()[-1]
    assert "ada@example.org" not in text and "ABCD-EFGH-JKMN-PQRS" not in text
    assert REDACTED in text and "rollcall:verify:modal" in text
    assert event["d"]["data"]["components"][0]["components"][0]["value"] == "ada@example.org"  # not mutated
