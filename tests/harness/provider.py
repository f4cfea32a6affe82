"""A real HTTP verification provider for the tests (A3 b), on loopback.

It checks the homeserver's signature and answers from a table of known
people. `mode` makes it misbehave: `slow` answers after the homeserver's
timeout, `garbage` answers something that is not a verdict.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from synapse_groupreg.identity.provider import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from tests.harness.homeserver import free_port

SECRET = "test-provider-secret-0123456789"


class Provider:
    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/check"
        #: (name, document_type, number) of the people the provider knows.
        self.people: set[tuple[str, str, str]] = set()
        self.mode = "ok"
        self.slow_seconds = 4.0
        self.requests = 0
        self.bad_signatures = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        expected = "sha256=" + sign(self.secret, timestamp, body)
        if not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""), expected):
            self.bad_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        if self.mode == "garbage":
            return web.Response(text="<html>gateway says hello</html>", status=200)
        query = json.loads(body)
        known = (
            query["name"],
            query["document_type"],
            query["document_number"],
        ) in self.people
        return web.json_response(
            {
                "request_id": query["request_id"],
                "result": "match" if known else "mismatch",
            }
        )


@asynccontextmanager
async def running_provider() -> AsyncIterator[Provider]:
    provider = Provider()
    app = web.Application()
    app.router.add_post("/check", provider.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", provider.port)
    await site.start()
    try:
        yield provider
    finally:
        await runner.cleanup()
