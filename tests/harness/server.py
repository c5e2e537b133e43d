"""A local stand-in for Discord's REST API and gateway, for start-up tests.

discord.py is pointed at it (`Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY`), so login,
application info, command sync and the gateway handshake run through discord.py's real HTTP
client and websocket code. It runs on its own event loop in a thread, because `main.main()`
runs the bot with `asyncio.run` and so blocks the test's thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.harness.gateway import QUIET_GUILD_FIELDS

APPLICATION_ID = 1_400_000_000_000_000_001
BOT_USER_ID = 1_400_000_000_000_000_002
JOINED_GUILD_ID = 1_400_000_000_000_000_100
OWNER_ID = 1_400_000_000_000_000_200

HELLO, HEARTBEAT, HEARTBEAT_ACK, IDENTIFY, DISPATCH = 10, 1, 11, 2, 0


def _user(user_id: int, name: str, *, bot: bool) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": None, "avatar": None, "bot": bot}


def _guild(guild_id: int) -> dict[str, Any]:
    return {
        "id": str(guild_id),
        "name": "Start-up Test Server",
        "unavailable": False,
        "owner_id": str(OWNER_ID),
        "member_count": 1,
        "large": False,
        "joined_at": "2026-01-01T00:00:00+00:00",
        "roles": [
            {
                "id": str(guild_id),
                "name": "@everyone",
                "permissions": "0",
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "members": [
            {
                "user": _user(BOT_USER_ID, "Rollcall", bot=True),
                "roles": [],
                "joined_at": "2026-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        ],
        "channels": [],
        **QUIET_GUILD_FIELDS,
    }


def _json(data: Any, *, status: int = 200) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly this.
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass
class DiscordServer:
    """What Discord answers. Change the fields before the bot logs in to play a failure."""

    application_id: int = APPLICATION_ID
    token_accepted: bool = True
    # A gateway close code sent right after IDENTIFY (4004 bad token, 4014 intents not allowed).
    close_after_identify: int | None = None
    joined_guild_ids: tuple[int, ...] = (JOINED_GUILD_ID,)
    calls: list[str] = field(default_factory=list)
    synced: list[tuple[str | None, list[dict[str, Any]]]] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    base_url: str = ""

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-discord", daemon=True)
        self._sockets: set[web.WebSocketResponse] = set()

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=5)
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _serve(self) -> int:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _shutdown(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- REST ----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self.calls.append(f"{request.method} {path}")
        if not self.token_accepted:
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        if request.method == "GET" and path == "/users/@me":
            return _json(_user(BOT_USER_ID, "Rollcall", bot=True))
        if request.method == "GET" and path == "/oauth2/applications/@me":
            return _json(self._application())
        prefix = f"/applications/{self.application_id}"
        if request.method == "PUT" and path == f"{prefix}/commands":
            return await self._sync(request, None)
        if request.method == "PUT" and path.startswith(f"{prefix}/guilds/") and path.endswith("/commands"):
            guild_id = path.removeprefix(f"{prefix}/guilds/").removesuffix("/commands")
            if int(guild_id) not in self.joined_guild_ids:
                return _json({"message": "Missing Access", "code": 50001}, status=403)
            return await self._sync(request, guild_id)
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": "Rollcall",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": _user(OWNER_ID, "owner", bot=False),
            "verify_key": "0" * 64,
            "flags": 0,
        }

    async def _sync(self, request: web.Request, guild_id: str | None) -> web.Response:
        commands = await request.json()
        self.synced.append((guild_id, commands))
        answered = [
            {**command, "id": str(self.application_id + 1000 + index), "application_id": str(self.application_id)}
            | {"version": "1"}
            for index, command in enumerate(commands)
        ]
        return _json(answered)

    # ---- gateway -------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.add(socket)
        try:
            await socket.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": 41250}}))
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    break
                payload = json.loads(message.data)
                if payload["op"] == HEARTBEAT:
                    await socket.send_str(json.dumps({"op": HEARTBEAT_ACK, "d": None}))
                elif payload["op"] == IDENTIFY:
                    self.identify = payload["d"]
                    if self.close_after_identify is not None:
                        await socket.close(code=self.close_after_identify)
                        break
                    await self._ready(socket)
        finally:
            self._sockets.discard(socket)
        return socket

    async def _ready(self, socket: web.WebSocketResponse) -> None:
        ready = {
            "v": 10,
            "user": _user(BOT_USER_ID, "Rollcall", bot=True),
            "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in self.joined_guild_ids],
            "session_id": "session",
            "resume_gateway_url": f"{self.base_url.replace('http', 'ws')}/gateway",
            "application": {"id": str(self.application_id), "flags": 0},
        }
        await socket.send_str(json.dumps({"op": DISPATCH, "t": "READY", "s": 1, "d": ready}))
        for sequence, guild_id in enumerate(self.joined_guild_ids, start=2):
            await socket.send_str(
                json.dumps({"op": DISPATCH, "t": "GUILD_CREATE", "s": sequence, "d": _guild(guild_id)})
            )
