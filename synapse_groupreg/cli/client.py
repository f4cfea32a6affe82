"""The admin API client the `groupreg` commands share."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

ADMIN_PREFIX = "/_synapse/client/groupreg/admin/v1"


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class AdminClient:
    """A thin client for the admin API."""

    def __init__(self, base_url: str, token: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        query: dict[str, Any] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        binary: bool = False,
        prefix: str = ADMIN_PREFIX,
    ) -> Any:
        """One call; the parsed JSON answer (or the bytes, with `binary`).
        `path` is below the admin API unless `prefix` says otherwise ("" for
        Synapse's own APIs)."""
        params = {k: v for k, v in (query or {}).items() if v is not None}
        url = self.base_url + prefix + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = (
            raw
            if raw is not None
            else (json.dumps(body).encode() if body is not None else None)
        )
        request = urllib.request.Request(url, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                payload: bytes = r.read()
                if binary:
                    return payload
                text = payload.decode("utf-8")
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                raise ApiError(e.code, json.loads(text)) from None
            except json.JSONDecodeError:
                raise ApiError(e.code, text) from None
        return json.loads(text) if text else {}

    def pages(self, path: str, key: str, query: dict[str, Any]) -> list[Any]:
        """Follow `next_token` until the list ends."""
        items: list[Any] = []
        query = dict(query)
        while True:
            answer = self.call("GET", path, query=query)
            items.extend(answer.get(key, []))
            if "next_token" not in answer:
                return items
            query["from"] = answer["next_token"]


Command = Callable[[AdminClient, argparse.Namespace], Any]


def add_paging(parser: argparse.ArgumentParser) -> None:
    """`--from`, `--limit` and `--all`, as every list command has them."""
    parser.add_argument("--from", dest="start", type=int, default=0)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--all", action="store_true", help="follow every page")


def listing(
    client: AdminClient,
    args: argparse.Namespace,
    path: str,
    key: str,
    query: dict[str, Any],
) -> Any:
    """A list command's answer: one page (`--from`, `--limit`), or with
    `--all` every item of every page."""
    if args.all:
        return client.pages(path, key, query)
    return client.call(
        "GET", path, query={**query, "from": args.start, "limit": args.limit}
    )


def quoted(value: str) -> str:
    """A user id, room id or other path segment, escaped for a URL path."""
    return urllib.parse.quote(value, safe="")
