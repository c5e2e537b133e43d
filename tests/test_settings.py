"""Process settings: `.env` + environment, and how main.py fails on bad ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_main(tmp_path: Path, env_file: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    if env_file is not None:
        (tmp_path / ".env").write_text(env_file)
    clean_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DISCORD_BOT_TOKEN", "LOG_LEVEL", "DEV_GUILD_ID", "DATABASE_URL"}
    }
    clean_env.update(env)
    clean_env["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "main.py")],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_token_exits_2_with_one_line_naming_the_variable(tmp_path):
    result = run_main(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_BOT_TOKEN" in lines[0] and ".env" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_invalid_log_level_exits_2_naming_it(tmp_path):
    result = run_main(tmp_path, DISCORD_BOT_TOKEN="abc.def.ghi", LOG_LEVEL="LOUD")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "LOG_LEVEL" in result.stderr


def test_invalid_dev_guild_id_exits_2_naming_it(tmp_path):
    result = run_main(tmp_path, env_file="DISCORD_BOT_TOKEN=abc\nDEV_GUILD_ID=my-server\n")
    assert result.returncode == 2
    assert "DEV_GUILD_ID" in result.stderr and "Traceback" not in result.stderr


def test_from_env_reads_dotenv_and_defaults(tmp_path, monkeypatch):
    for key in ("DISCORD_BOT_TOKEN", "DATABASE_PATH", "LOG_LEVEL", "DEV_GUILD_ID", "LOG_FILE"):
        monkeypatch.delenv(key, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_BOT_TOKEN=from-file\nDEV_GUILD_ID=123\n")
    settings = Settings.from_env(env_file)
    assert settings.token == "from-file"
    assert settings.database_path == Path("data/rollcall.db")
    assert settings.log_level == "INFO"
    assert settings.dev_guild_id == 123


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_BOT_TOKEN=from-file\n")
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "from-env")
    assert Settings.from_env(env_file).token == "from-env"


def test_settings_can_be_built_in_code():
    settings = Settings(token="t", database_path=Path("x.db"))
    assert settings.database_path == Path("x.db") and settings.dev_guild_id is None


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({}, "DISCORD_BOT_TOKEN"),
        ({"DISCORD_BOT_TOKEN": "has space"}, "DISCORD_BOT_TOKEN"),
        ({"DISCORD_BOT_TOKEN": "t", "DEV_GUILD_ID": "-5"}, "DEV_GUILD_ID"),
        ({"DISCORD_BOT_TOKEN": "t", "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_variable(values, variable):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_mapping(values)


async def test_sigterm_closes_the_bot_and_returns_normally():
    import asyncio
    import signal

    from main import serve_until_signalled

    closed = asyncio.Event()

    async def start() -> None:
        await closed.wait()

    async def close() -> None:
        closed.set()

    serving = asyncio.create_task(serve_until_signalled(start(), close))
    await asyncio.sleep(0)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, timeout=5)
    assert closed.is_set()


async def test_the_bot_ending_by_itself_needs_no_signal():
    from main import serve_until_signalled

    calls = []

    async def start() -> None:
        calls.append("started")

    async def close() -> None:
        calls.append("closed")

    await serve_until_signalled(start(), close)
    assert calls == ["started"]
