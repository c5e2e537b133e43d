"""Process settings, read once from the environment and `.env`.

Per-guild settings live in the database (see `storage/guild_config.py`); only what the
process needs before it can talk to Discord belongs here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_DATABASE_PATH = Path("data/rollcall.db")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable and the fix."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str
    database_path: Path = DEFAULT_DATABASE_PATH
    log_level: str = "INFO"
    log_file: Path | None = None
    dev_guild_id: int | None = None

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
            if not raw_guild.isdigit() or int(raw_guild) <= 0:
                raise ConfigError(
                    f"DEV_GUILD_ID={raw_guild!r} is not a server id: enable Developer Mode in Discord, "
                    "right-click the server and Copy Server ID, or leave it empty."
                )
            dev_guild_id = int(raw_guild)

        raw_path = get("DATABASE_PATH")
        database_path = Path(raw_path) if raw_path else DEFAULT_DATABASE_PATH
        if database_path.exists() and database_path.is_dir():
            raise ConfigError(
                f"DATABASE_PATH={raw_path!r} is a directory: point it at a file such as data/rollcall.db."
            )

        raw_log_file = get("LOG_FILE")
        return cls(
            token=token,
            database_path=database_path,
            log_level=log_level,
            log_file=Path(raw_log_file) if raw_log_file else None,
            dev_guild_id=dev_guild_id,
        )
