"""Sending the verification e-mails over SMTP (aiosmtplib), when `SMTP_HOST` is set.

One connection for a whole batch, opened again once if the server drops it. A failure is
reported per address and never raised: the tokens already went back to the admin as a CSV, so
an e-mail that did not leave is something to resend, not a failed import. Nothing here logs an
address or a message body (SPEC section 6: no e-mail in any log); only counts and error types.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from config import Settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        if not settings.smtp_host or not settings.smtp_from:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )


@dataclass(frozen=True, slots=True)
class Failure:
    address: str
    reason: str


def _reason(error: BaseException) -> str:
    """Why a send failed, in words for the admin; the server's own text may quote the address,
    which is fine here (the admin's own reply) but never goes to the log."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return "the server refused the address"
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"the server answered {error.code}"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return "the server refused SMTP_USERNAME / SMTP_PASSWORD"
    if isinstance(error, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError)):
        return "the mail server could not be reached"
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return "the mail server did not answer in time"
    return type(error).__name__


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    def _client(self) -> aiosmtplib.SMTP:
        config = self._config
        implicit = config.port == IMPLICIT_TLS_PORT
        return aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=implicit,
            start_tls=config.starttls and not implicit,
            username=config.username,
            password=config.password,
            timeout=TIMEOUT_SECONDS,
        )

    def _message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        return message

    async def send_all(
        self, mails: Sequence[Mail], *, progress: Callable[[int], object] | None = None
    ) -> list[Failure]:
        """Send each mail; the failures, one per address that did not get its mail."""
        failures: list[Failure] = []
        client: aiosmtplib.SMTP | None = None
        for index, mail in enumerate(mails):
            if client is None or not client.is_connected:
                client = self._client()
                try:
                    await client.connect()
                except (aiosmtplib.SMTPException, OSError) as error:
                    # A server that cannot be reached now will not be reached for the next address either.
                    reason = _reason(error)
                    failures.extend(Failure(rest.to, reason) for rest in mails[index:])
                    client = None
                    break
            try:
                await client.send_message(self._message(mail))
            except (aiosmtplib.SMTPException, OSError) as error:
                failures.append(Failure(mail.to, _reason(error)))
            if progress is not None:
                progress(index + 1)
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        log.info("Sent %d verification e-mails, %d failed", len(mails) - len(failures), len(failures))
        return failures
