"""Start-up: settings, the database and Discord's answers at login, each failure as one line.

Discord is played by `tests.harness.server` on 127.0.0.1; discord.py's real HTTP client and
gateway code talk to it. Failures go through `main.main()` in-process (its return value is the
exit status, its stderr is captured); only the checks that need a real process exit spawn one.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

import main
from bot import create_bot
from bot.heap import GC_THRESHOLDS
from config import ConfigError, Settings
from tests.harness import private
from tests.harness.server import APPLICATION_ID, JOINED_GUILD_ID, DiscordServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_KEYS = ("DISCORD_BOT_TOKEN", "DATABASE_PATH", "DATABASE_URL", "LOG_LEVEL", "LOG_FILE", "DEV_GUILD_ID")
NOT_JOINED_GUILD_ID = 1_400_000_000_000_000_999
STOP_TIMEOUT = 5.0


@pytest.fixture
def discord_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscordServer]:
    server = DiscordServer()
    server.start()
    monkeypatch.setattr(Route, "BASE", f"{server.base_url}/api/v10")
    monkeypatch.setattr(
        DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"{server.base_url.replace('http', 'ws')}/gateway")
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def process_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean environment in an empty folder, and the root logger put back afterwards
    (`main.setup_logging` configures it for the whole process)."""
    for key in SETTINGS_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "a.good.token")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield tmp_path
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)


def run_main(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    status = main.main()
    return status, capsys.readouterr().err.strip().splitlines()


def assert_one_line(lines: list[str], *needles: str) -> None:
    assert len(lines) == 1, lines
    assert lines[0].startswith("rollcall: "), lines
    for needle in needles:
        assert needle in lines[0], lines


def leftover_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Non-daemon threads started since `before` that do not end: they would keep a real process
    from exiting. A closed aiosqlite connection's thread ends a moment after `close()` returns."""
    started = [t for t in threading.enumerate() if t not in before and not t.daemon]
    for thread in started:
        thread.join(timeout=STOP_TIMEOUT)
    return [t for t in started if t.is_alive()]


# ---- start-up against Discord -------------------------------------------------------------


async def serve_until_ready(bot: discord.Client) -> asyncio.Task[None]:
    """`main.run(bot)` in a task, returned once the bot saw READY and its guilds."""
    # discord.py waits this long after the last GUILD_CREATE before READY; 2 s by default.
    private.skip_guild_ready_wait(bot)
    runner = asyncio.create_task(main.run(bot))
    ready = asyncio.create_task(wait_until_ready(bot))
    done, _ = await asyncio.wait({runner, ready}, timeout=STOP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if runner in done:
            runner.result()
        raise AssertionError("the bot did not become ready")
    return runner


async def wait_until_ready(bot: discord.Client) -> None:
    # `wait_until_ready` needs the event that `async with bot` (inside main.run) creates.
    while bot._ready is discord.utils.MISSING:
        await asyncio.sleep(0)
    await bot.wait_until_ready()


async def stop(bot: discord.Client, runner: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(runner, timeout=STOP_TIMEOUT)


async def test_start_logs_in_syncs_commands_connects_and_stops_cleanly(discord_server, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    bot = create_bot(Settings(token="a.good.token", database_path=tmp_path / "rollcall.db"))
    thresholds_before = gc.get_threshold()
    runner = await serve_until_ready(bot)
    try:
        assert discord_server.calls[:3] == [
            "GET /users/@me",
            "GET /oauth2/applications/@me",
            f"PUT /applications/{APPLICATION_ID}/commands",
        ]
        assert bot.application_id == APPLICATION_ID
        [(guild_id, commands)] = discord_server.synced
        assert guild_id is None
        assert {"help", "here", "config", "attendance"} <= {command["name"] for command in commands}
        assert discord_server.identify is not None
        intents = discord.Intents._from_value(discord_server.identify["intents"])
        assert intents.guilds and intents.members
        assert bot.get_guild(JOINED_GUILD_ID) is not None
        assert bot.jobs._scheduler.running
        # main.run sets the process's collector up at READY (bot/heap.py).
        for _ in range(100):
            if gc.get_threshold() == GC_THRESHOLDS:
                break
            await asyncio.sleep(0)
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds_before)
        await stop(bot, runner)
    assert runner.result() is None
    assert bot.is_closed()
    with pytest.raises(ValueError):
        await bot.db.fetch_one("SELECT 1")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]


async def test_another_application_on_the_same_database_syncs_its_commands(discord_server, tmp_path):
    settings = Settings(token="a.good.token", database_path=tmp_path / "rollcall.db")
    for application_id in (APPLICATION_ID, APPLICATION_ID, APPLICATION_ID + 7):
        discord_server.application_id = application_id
        bot = create_bot(settings)
        await stop(bot, await serve_until_ready(bot))
    synced_for = [call for call in discord_server.calls if call.startswith("PUT")]
    assert synced_for == [
        f"PUT /applications/{APPLICATION_ID}/commands",
        f"PUT /applications/{APPLICATION_ID + 7}/commands",
    ]


def test_a_dev_guild_the_bot_is_not_in_exits_2_with_one_line(discord_server, process_env, monkeypatch, capsys):
    monkeypatch.setenv("DEV_GUILD_ID", str(NOT_JOINED_GUILD_ID))
    status, lines = run_main(capsys)
    assert status == 2
    assert_one_line(lines, f"DEV_GUILD_ID={NOT_JOINED_GUILD_ID}", "not in")
    assert f"PUT /applications/{APPLICATION_ID}/guilds/{NOT_JOINED_GUILD_ID}/commands" in discord_server.calls
    assert discord_server.identify is None


def test_a_rejected_token_exits_2_with_one_line(discord_server, process_env, capsys):
    discord_server.token_accepted = False
    status, lines = run_main(capsys)
    assert status == 2
    assert_one_line(lines, "DISCORD_BOT_TOKEN", "Reset Token")
    assert discord_server.calls == ["GET /users/@me"]


def test_a_token_the_gateway_refuses_exits_2_with_one_line(discord_server, process_env, capsys):
    discord_server.close_after_identify = 4004
    status, lines = run_main(capsys)
    assert status == 2
    assert_one_line(lines, "DISCORD_BOT_TOKEN", "Reset Token")


def test_missing_privileged_intents_exit_2_with_one_line(discord_server, process_env, capsys):
    discord_server.close_after_identify = 4014
    status, lines = run_main(capsys)
    assert status == 2
    assert_one_line(lines, "Server Members intent")


# ---- bad settings, each reported before Discord is contacted ------------------------------


def _file(folder: Path, name: str, text: str = "x") -> Path:
    path = folder / name
    path.write_text(text)
    return path


# Each case: the variable, a function of the test's folder giving its bad value, and a word of the fix.
BAD_SETTINGS = {
    "database-under-a-file": ("DATABASE_PATH", lambda folder: _file(folder, "plain") / "rollcall.db", "point it at"),
    "database-is-a-text-file": (
        "DATABASE_PATH",
        lambda folder: _file(folder, "notes.db", "not a database\n" * 100),
        "point it at a new file",
    ),
    "database-in-memory": ("DATABASE_PATH", lambda folder: ":memory:", "Point it at a file"),
    "log-file-under-a-file": ("LOG_FILE", lambda folder: _file(folder, "plain") / "bot.log", "point it at"),
    "log-file-is-a-folder": ("LOG_FILE", lambda folder: folder, "point it at"),
    "superscript-server-id": ("DEV_GUILD_ID", lambda folder: "²", "Copy Server ID"),
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_a_bad_setting_exits_2_with_one_line_before_discord_is_contacted(
    case, discord_server, process_env, monkeypatch, capsys
):
    variable, bad_value, fix = BAD_SETTINGS[case]
    monkeypatch.setenv(variable, str(bad_value(process_env)))
    # Should the setting get through, login fails at once instead of the bot serving for ever.
    discord_server.token_accepted = False
    threads = set(threading.enumerate())
    status, lines = run_main(capsys)
    assert status == 2
    assert_one_line(lines, f"{variable}=", fix)
    assert discord_server.calls == []
    assert leftover_threads(threads) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_database_in_a_read_only_folder_exits_2_with_one_line(discord_server, process_env, monkeypatch, capsys):
    folder = process_env / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    monkeypatch.setenv("DATABASE_PATH", str(folder / "rollcall.db"))
    discord_server.token_accepted = False
    try:
        status, lines = run_main(capsys)
    finally:
        folder.chmod(0o755)
    assert status == 2
    assert_one_line(lines, "DATABASE_PATH=")
    assert discord_server.calls == []


def test_a_text_file_as_database_lets_the_process_exit(tmp_path):
    """The half-open database connection's thread used to keep the process alive for ever."""
    (tmp_path / "notes.db").write_text("not a database\n" * 100)
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_KEYS}
    env.update(DISCORD_BOT_TOKEN="a.good.token", DATABASE_PATH="notes.db", PYTHONPATH=str(PROJECT_ROOT))
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "main.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "DATABASE_PATH='notes.db'" in result.stderr
    assert "Traceback" not in result.stderr


# ---- settings ------------------------------------------------------------------------------


def test_repr_of_settings_does_not_show_the_token():
    settings = Settings(token="secret.token.value", database_path=Path("x.db"))
    assert "secret.token.value" not in repr(settings)
    assert "x.db" in repr(settings)


@pytest.mark.parametrize("value", ["²", "١٢٣", "18446744073709551616", "0"])
def test_dev_guild_id_must_be_a_plain_snowflake(value):
    with pytest.raises(ConfigError, match="DEV_GUILD_ID"):
        Settings.from_mapping({"DISCORD_BOT_TOKEN": "t", "DEV_GUILD_ID": value})


def test_memory_database_is_refused_by_the_settings():
    with pytest.raises(ConfigError, match="DATABASE_PATH=':memory:'"):
        Settings.from_mapping({"DISCORD_BOT_TOKEN": "t", "DATABASE_PATH": ":memory:"})


# ---- the voice-library warning ---------------------------------------------------------------


def test_building_the_bot_prints_no_voice_library_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    caplog.set_level(logging.WARNING, logger="discord")
    create_bot(Settings(token="t", database_path=tmp_path / "r.db"))
    assert not [r for r in caplog.records if "voice will NOT be supported" in r.getMessage()]


# ---- /help in a DM ---------------------------------------------------------------------------


async def test_help_in_a_dm_lists_what_everyone_may_use(h):
    result = await h.dm_command("help", user="member")
    assert result.ephemeral
    assert "/here" in result.text and "/help" in result.text
    assert "/config" not in result.text and "/attendance open" not in result.text
    # The one /attendance command everyone may use: their own record.
    assert "/attendance history" in result.text
    assert "server" in result.text


# ---- the Makefile ------------------------------------------------------------------------------

FAKE_OLD_PYTHON = """#!{python}
# Answers `-c CODE` as a Python 3.10 would; anything else (such as `-m venv`) is a bug.
import sys
if sys.argv[1:2] != ["-c"]:
    sys.exit("fake python: unexpected arguments " + repr(sys.argv[1:]))
sys.version_info = (3, 10, 12, "final", 0)
exec(sys.argv[2])
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_refuses_an_old_python_with_one_line_before_creating_the_venv(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text(FAKE_OLD_PYTHON.format(python=sys.executable))
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["make", "-C", str(PROJECT_ROOT), "--no-print-directory", "install", f"PYTHON={fake}", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "3.11" in lines[0] and "3.10" in lines[0]
    assert result.stdout == ""
    assert not venv.exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_accepts_python_3_11(tmp_path):
    venv = tmp_path / "venv"
    result = subprocess.run(
        [
            "make",
            "-C",
            str(PROJECT_ROOT),
            "--no-print-directory",
            "-n",
            "install",
            f"PYTHON={sys.executable}",
            f"VENV={venv}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert f"{sys.executable} -m venv {venv}" in result.stdout


# ---- the README's invite ------------------------------------------------------------------------


def test_the_invite_asks_for_each_features_permissions_and_no_others():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    posting = discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True, attach_files=True, read_message_history=True
    )
    every_feature = discord.Permissions(posting.value)
    every_feature.update(manage_roles=True, kick_members=True, create_events=True)
    assert f"permissions integer `{posting.value}`" in readme
    assert f"permissions={every_feature.value}" in readme
    assert f"`{every_feature.value}`" in readme
    for extra in ("Manage Roles", "Kick Members", "Create Events"):
        assert extra in readme
