"""Process settings, read once from the environment and `.env`.

Per-guild settings live in the database (see `storage/guild_config.py`); only what the
process needs before it can talk to Discord belongs here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from storage.postgres import redact_url

DEFAULT_DATABASE_PATH = Path("data/rollcall.db")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Discord ids are unsigned 64-bit snowflakes.
MAX_SNOWFLAKE = 2**64 - 1
# Far beyond any real bot (Discord recommends one shard per ~1,000 guilds), small enough to
# catch a typo before discord.py opens that many gateway connections.
MAX_SHARDS = 4096
POSTGRES_SCHEMES = ("postgresql", "postgres")
POSTGRES_URL_EXAMPLE = "postgresql://rollcall:PASSWORD@localhost:5432/rollcall"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable and the fix."""


@dataclass(frozen=True, slots=True)
class Settings:
    # Kept out of repr so a logged or printed Settings never leaks the token.
    token: str = field(repr=False)
    database_path: Path = DEFAULT_DATABASE_PATH
    log_level: str = "INFO"
    log_file: Path | None = None
    dev_guild_id: int | None = None
    shard_count: int = 1
    # None: every shard of shard_count (0..count-1).
    shard_ids: tuple[int, ...] | None = None
    # Set: PostgreSQL at this URL, and `database_path` is unused. Shown without its password.
    database_url: str | None = field(default=None, repr=False)

    # Verification e-mails (optional): without SMTP_HOST the tokens only come back as a CSV.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str | None = None
    smtp_starttls: bool = True

    def __repr__(self) -> str:
        shown = [f"{item.name}={getattr(self, item.name)!r}" for item in fields(self) if item.repr]
        if self.database_url is not None:
            shown.append(f"database_url={redact_url(self.database_url)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def log_level_number(self) -> int:
        return logging.getLevelName(self.log_level)

    @classmethod
    def from_env(cls, env_file: str | os.PathLike[str] | None = ".env") -> Settings:
        """Read the process environment, falling back to `env_file` for unset keys."""
        values: dict[str, str | None] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update(dotenv_values(env_file))
        values.update(os.environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str | None]) -> Settings:
        def get(key: str) -> str:
            return (values.get(key) or "").strip()

        token = get("DISCORD_BOT_TOKEN")
        if not token:
            raise ConfigError(
                "DISCORD_BOT_TOKEN is not set: copy .env.example to .env and paste your bot token "
                "(Discord developer portal -> your application -> Bot -> Reset Token)."
            )
        if any(ch.isspace() for ch in token):
            raise ConfigError("DISCORD_BOT_TOKEN contains spaces: paste the token exactly as the portal shows it.")

        log_level = get("LOG_LEVEL").upper() or "INFO"
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL={get('LOG_LEVEL')!r} is not valid: use one of {', '.join(LOG_LEVELS)}.")

        dev_guild_id: int | None = None
        raw_guild = get("DEV_GUILD_ID")
        if raw_guild:
            # str.isdigit() also accepts digits such as "²" that int() refuses, so only ASCII 0-9 pass.
            if not (raw_guild.isascii() and raw_guild.isdigit()) or not 0 < int(raw_guild) <= MAX_SNOWFLAKE:
                raise ConfigError(
                    f"DEV_GUILD_ID={raw_guild!r} is not a server id: enable Developer Mode in Discord, "
                    "right-click the server and Copy Server ID, or leave it empty."
                )
            dev_guild_id = int(raw_guild)

        raw_path = get("DATABASE_PATH")
        if raw_path == ":memory:":
            raise ConfigError(
                "DATABASE_PATH=':memory:' is not supported: the bot opens two connections on the database file, "
                "which would see two separate in-memory databases. Point it at a file such as data/rollcall.db."
            )
        database_path = Path(raw_path) if raw_path else DEFAULT_DATABASE_PATH
        if database_path.exists() and database_path.is_dir():
            raise ConfigError(
                f"DATABASE_PATH={raw_path!r} is a directory: point it at a file such as data/rollcall.db."
            )

        raw_url = get("DATABASE_URL")
        database_url = _postgres_url(raw_url) if raw_url else None

        raw_log_file = get("LOG_FILE")
        shard_count, shard_ids = _parse_shards(
            get("SHARD_COUNT"), get("SHARD_IDS"), uses_postgres=database_url is not None
        )
        return cls(
            token=token,
            database_path=database_path,
            log_level=log_level,
            log_file=Path(raw_log_file) if raw_log_file else None,
            dev_guild_id=dev_guild_id,
            shard_count=shard_count,
            shard_ids=shard_ids,
            database_url=database_url,
            **_smtp_settings(get),
        )


def _is_plain_number(text: str) -> bool:
    # str.isdigit() also accepts digits such as "²" that int() refuses, so only ASCII 0-9 pass.
    return text.isascii() and text.isdigit()


def _parse_shards(raw_count: str, raw_ids: str, *, uses_postgres: bool) -> tuple[int, tuple[int, ...] | None]:
    """SHARD_COUNT (default 1) and SHARD_IDS (default: all of them), checked against each other."""
    if raw_count and (not _is_plain_number(raw_count) or not 1 <= int(raw_count) <= MAX_SHARDS):
        raise ConfigError(f"SHARD_COUNT={raw_count!r} is not valid: use a whole number from 1 to {MAX_SHARDS}.")
    shard_count = int(raw_count) if raw_count else 1
    if shard_count > 1 and not uses_postgres:
        raise ConfigError(
            f"SHARD_COUNT={shard_count} needs PostgreSQL: shard processes share one database, and SQLite is one "
            "process's file. Set DATABASE_URL=postgresql://... or SHARD_COUNT=1."
        )
    if not raw_ids:
        return shard_count, None
    parts = [part.strip() for part in raw_ids.split(",")]
    if not all(_is_plain_number(part) for part in parts):
        raise ConfigError(
            f"SHARD_IDS={raw_ids!r} is not valid: list shard numbers separated by commas, like 0,1, "
            "or leave it empty for all of them."
        )
    ids = [int(part) for part in parts]
    too_big = [shard for shard in ids if shard >= shard_count]
    if too_big:
        raise ConfigError(
            f"SHARD_IDS={raw_ids!r} names shard {too_big[0]}, but SHARD_COUNT={shard_count} numbers shards "
            f"0 to {shard_count - 1}: fix one of the two."
        )
    if len(set(ids)) != len(ids):
        raise ConfigError(f"SHARD_IDS={raw_ids!r} lists a shard twice: name each shard once, like 0,1.")
    return shard_count, tuple(sorted(ids))


def _postgres_url(raw: str) -> str:
    """`raw` if it is a URL asyncpg can connect with, else a `ConfigError` naming DATABASE_URL."""
    problem = None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError as error:
        problem = str(error)
    else:
        if parts.scheme not in POSTGRES_SCHEMES:
            problem = "it must start with postgresql://"
        elif not parts.hostname and "host=" not in parts.query:
            problem = "it names no server"
    if problem is not None:
        raise ConfigError(
            f"DATABASE_URL={redact_url(raw)!r} is not a PostgreSQL URL ({problem}): use the form "
            f"{POSTGRES_URL_EXAMPLE}, or leave DATABASE_URL empty to use SQLite at DATABASE_PATH."
        )
    return raw


SMTP_BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _smtp_settings(get: Callable[[str], str]) -> dict[str, object]:
    """SMTP_* for the verification e-mails; all optional, checked only when SMTP_HOST is set."""
    host = get("SMTP_HOST")
    if not host:
        return {}
    raw_port = get("SMTP_PORT") or "587"
    if not (raw_port.isascii() and raw_port.isdigit()) or not 0 < int(raw_port) < 65536:
        raise ConfigError(f"SMTP_PORT={raw_port!r} is not a port: use a number such as 587 (STARTTLS) or 465 (TLS).")
    sender = get("SMTP_FROM")
    if not sender or "@" not in sender:
        raise ConfigError(
            "SMTP_FROM is not set to an address: with SMTP_HOST set, the verification e-mails need a sender, "
            "such as SMTP_FROM=rollcall@example.org."
        )
    raw_starttls = get("SMTP_STARTTLS").lower() or "true"
    if raw_starttls not in SMTP_BOOLEANS:
        raise ConfigError(f"SMTP_STARTTLS={get('SMTP_STARTTLS')!r} is not valid: use true or false.")
    username = get("SMTP_USERNAME") or None
    password = get("SMTP_PASSWORD") or None
    if (username is None) != (password is None):
        raise ConfigError(
            "SMTP_USERNAME and SMTP_PASSWORD go together: set both, or neither for a server without login."
        )
    return {
        "smtp_host": host,
        "smtp_port": int(raw_port),
        "smtp_username": username,
        "smtp_password": password,
        "smtp_from": sender,
        "smtp_starttls": SMTP_BOOLEANS[raw_starttls],
    }
