"""Discord's error answers, built the way discord.py receives them, and the faults a test
injects: `fail_next` answers a route with one of these instead of handling it."""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass

import aiohttp
import discord

from tests.harness import limits


class UnknownEndpoint(AssertionError):
    """The bot called a Discord endpoint the harness does not model."""


@dataclass
class FakeResponse:
    """Enough of an aiohttp response for discord.HTTPException."""

    status: int
    reason: str


def forbidden(code: int, message: str) -> discord.Forbidden:
    return discord.Forbidden(FakeResponse(403, "Forbidden"), {"code": code, "message": message})  # type: ignore[arg-type]


def not_found(code: int, message: str) -> discord.NotFound:
    return discord.NotFound(FakeResponse(404, "Not Found"), {"code": code, "message": message})  # type: ignore[arg-type]


def bad_request(code: int, message: str) -> discord.HTTPException:
    return discord.HTTPException(FakeResponse(400, "Bad Request"), {"code": code, "message": message})  # type: ignore[arg-type]


def request_too_large() -> discord.HTTPException:
    """Discord's answer to uploads past the request's attachment size limit."""
    return discord.HTTPException(
        FakeResponse(413, "Payload Too Large"),  # type: ignore[arg-type]
        {"code": 40005, "message": "Request entity too large"},
    )


def unauthorized(code: int, message: str) -> discord.HTTPException:
    """A 401: discord.py raises a plain HTTPException for it."""
    return discord.HTTPException(FakeResponse(401, "Unauthorized"), {"code": code, "message": message})  # type: ignore[arg-type]


INVALID_FORM_BODY = 50035


def invalid_form_body(errors: limits.FormErrors) -> discord.HTTPException:
    """Discord's answer to a payload over one of its limits; discord.py flattens `errors` into
    the exception text as `In embeds.0.fields.0.value: Must be 1024 or fewer in length.`"""
    return discord.HTTPException(
        FakeResponse(400, "Bad Request"),  # type: ignore[arg-type]
        {"code": INVALID_FORM_BODY, "message": "Invalid Form Body", "errors": errors.tree},
    )


def server_error(status: int = 500) -> discord.DiscordServerError:
    """What discord.py raises once its own retries of a 5xx are used up."""
    return discord.DiscordServerError(
        FakeResponse(status, "Internal Server Error"),  # type: ignore[arg-type]
        {"code": 0, "message": f"{status}: Internal Server Error"},
    )


def connection_reset() -> ConnectionResetError:
    return ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")


def client_disconnected() -> aiohttp.ClientError:
    return aiohttp.ServerDisconnectedError("Server disconnected")


@dataclass
class Fault:
    """A failure the fake Discord answers with instead of handling the call."""

    method: str
    template: str
    pattern: re.Pattern[str]
    error: BaseException | type[BaseException]
    remaining: int


def template_regex(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")
