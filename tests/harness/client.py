"""Clients for the integration tests: matrix-nio for what Element does, and
plain HTTP for the module's own APIs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import nio

from tests.harness.homeserver import Endpoint, User

REASON_FIELD = "org.groupreg.reason"


def nio_client(hs: Endpoint, user: User) -> nio.AsyncClient:
    """A logged-in matrix-nio client for `user` (no encryption store)."""
    client = nio.AsyncClient(
        hs.base_url,
        user.user_id,
        device_id=user.device_id,
        config=nio.AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False),
    )
    client.access_token = user.access_token
    client.user_id = user.user_id
    return client


@asynccontextmanager
async def clients(hs: Endpoint, *users: User) -> AsyncIterator[list[nio.AsyncClient]]:
    made = [nio_client(hs, u) for u in users]
    try:
        yield made
    finally:
        for c in made:
            await c.close()


async def error_body(response: Any) -> dict[str, Any]:
    """The JSON body behind a nio error response (nio keeps only errcode and
    message; the module's reason code sits beside them)."""
    transport = getattr(response, "transport_response", None)
    if transport is None:
        return {}
    try:
        body = await transport.json(content_type=None)
    except (aiohttp.ClientError, json.JSONDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


async def reason_of(response: Any) -> str | None:
    """`org.groupreg.reason` of a refused nio request, None if allowed."""
    if not isinstance(response, nio.ErrorResponse):
        return None
    return (await error_body(response)).get(REASON_FIELD)


class Http:
    """Plain HTTP against a homeserver, for the module's APIs."""

    def __init__(self, hs: Endpoint, token: str | None = None) -> None:
        self.hs = hs
        self.token = token

    async def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> tuple[int, Any]:
        """Returns (status, parsed JSON or text)."""
        all_headers = dict(headers or {})
        bearer = token if token is not None else self.token
        if bearer:
            all_headers["Authorization"] = f"Bearer {bearer}"
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method,
                self.hs.base_url + path,
                json=body if data is None and body is not None else None,
                data=data,
                headers=all_headers,
            ) as r,
        ):
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except json.JSONDecodeError:
                return r.status, text

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, body: object = None, **kw: Any) -> tuple[int, Any]:
        return await self.request("POST", path, body, **kw)

    async def put(self, path: str, body: object = None, **kw: Any) -> tuple[int, Any]:
        return await self.request("PUT", path, body, **kw)

    async def delete(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.request("DELETE", path, **kw)


def run_cli(
    hs: Endpoint,
    token: str | None,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `groupreg` (as `python -m synapse_groupreg.cli`) against `hs`;
    without a token it uses the login kept in `env`'s GROUPREG_CREDENTIALS.
    Its output is not a terminal, so answers come as JSON unless `--table`."""
    auth = ["--token", token] if token is not None else []
    return subprocess.run(
        [sys.executable, "-m", "synapse_groupreg.cli", "--url", hs.base_url,
         *auth, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
