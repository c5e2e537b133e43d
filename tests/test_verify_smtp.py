"""With SMTP_* set, each new token is also e-mailed: to a real SMTP server (aiosmtpd) on loopback
that the test starts and reads. Failures are listed per address and never fail the import."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from config import Settings
from tests.verify_support import final_reply, import_roster, switch_on, tokens_from

REFUSED = "nobody@example.org"


class Mailbox:
    """The loopback server's handler: keeps every delivered message; refuses one address."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def settings(db_path: Path, mailbox: Mailbox) -> Settings:
    return Settings(
        token="test-token",
        database_path=db_path,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,  # type: ignore[attr-defined]
        smtp_from="rollcall@example.org",
        smtp_starttls=False,
    )


async def test_each_new_token_is_emailed_and_a_refused_address_is_listed(h, mailbox):
    await switch_on(h)
    result = await import_roster(
        h, f"email,name\nada@example.org,Ada Lovelace\n{REFUSED},Nobody\ngrace@example.org,Grace Hopper\n"
    )
    tokens = tokens_from(final_reply(result))
    delivered = {message["To"]: message for message in mailbox.messages}
    assert sorted(delivered) == ["ada@example.org", "grace@example.org"]
    ada = delivered["ada@example.org"]
    assert ada["From"] == "rollcall@example.org" and "Rollcall Test Server" in ada["Subject"]
    body = ada.get_payload(decode=True).decode()
    assert tokens["ada@example.org"] in body and "Ada Lovelace" in body
    report = [sent for sent in result.own if sent.kind == "followup" and "E-mailed" in sent.content]
    assert len(report) == 1 and report[0].ephemeral
    assert "E-mailed 2 of 3" in report[0].content
    assert f"{REFUSED}: the server refused the address" in report[0].content


async def test_refresh_emails_the_new_token(h, mailbox):
    await switch_on(h)
    await import_roster(h, "email,name\nada@example.org,Ada\n")
    refreshed = await h.command("verify refresh", user="admin", channel="admin", email="ada@example.org")
    new = tokens_from(refreshed.reply)["ada@example.org"]
    assert new in mailbox.messages[-1].get_payload(decode=True).decode()


@pytest.fixture
def unreachable_settings(db_path: Path) -> Settings:
    return Settings(
        token="test-token",
        database_path=db_path,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_from="rollcall@example.org",
        smtp_starttls=False,
    )


class TestUnreachableServer:
    @pytest.fixture
    def settings(self, unreachable_settings: Settings) -> Settings:
        return unreachable_settings

    async def test_an_unreachable_server_fails_every_address_but_not_the_import(self, h):
        await switch_on(h)
        result = await import_roster(h, "email,name\nada@example.org,Ada\ngrace@example.org,Grace\n")
        assert "Imported **2** roster entries" in final_reply(result).content
        assert "roster-tokens.csv" in [name for name, _ in final_reply(result).files]
        report = [sent for sent in result.own if sent.kind == "followup" and "E-mailed" in sent.content]
        assert "E-mailed 0 of 2" in report[0].content
        assert "ada@example.org: the mail server could not be reached" in report[0].content


BASE = {"DISCORD_BOT_TOKEN": "t", "SMTP_HOST": "mail.example.org", "SMTP_FROM": "bot@example.org"}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT"),
        ({"SMTP_PORT": "70000"}, "SMTP_PORT"),
        ({"SMTP_FROM": ""}, "SMTP_FROM"),
        ({"SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS"),
        ({"SMTP_USERNAME": "bot"}, "SMTP_USERNAME and SMTP_PASSWORD"),
    ],
)
def test_bad_smtp_settings_stop_the_bot_with_the_variable_named(changes, named):
    from config import ConfigError

    with pytest.raises(ConfigError, match=named):
        Settings.from_mapping({**BASE, **changes})


def test_smtp_settings_are_read_and_the_password_stays_out_of_the_text_form():
    settings = Settings.from_mapping(
        {**BASE, "SMTP_PORT": "465", "SMTP_USERNAME": "bot", "SMTP_PASSWORD": "hunter2", "SMTP_STARTTLS": "no"}
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("mail.example.org", 465, False)
    assert "hunter2" not in repr(settings)
    assert Settings.from_mapping({"DISCORD_BOT_TOKEN": "t"}).smtp_host is None
