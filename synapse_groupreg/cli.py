"""`groupreg`: the admin API from a shell.

    export GROUPREG_URL=http://127.0.0.1:8008 GROUPREG_TOKEN=<admin access token>
    groupreg audit verify
    groupreg audit list --action identity. --limit 20
    groupreg notice --user @alice:example.org "Please update your group's name"
    groupreg keywords import gambling gambling.txt --action block --credit-penalty 15

Every command is one or more calls to `/_synapse/client/groupreg/admin/v1`;
answers are printed as JSON. Exit status: 0 on success, 1 when the server
refused (its error is printed), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from synapse_groupreg.cli_content import add_keyword_commands

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
    ) -> Any:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        url = self.base_url + ADMIN_PREFIX + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = (
            raw
            if raw is not None
            else (json.dumps(body).encode() if body is not None else None)
        )
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                text = r.read().decode("utf-8")
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


def _audit_list(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {"actor": args.actor, "action": args.action, "target": args.target}
    if args.all:
        return client.pages("/audit", "entries", query)
    return client.call(
        "GET", "/audit", query={**query, "from": args.start, "limit": args.limit}
    )


def _audit_verify(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", "/audit/verify")


def _notice(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"body": args.text, "user_id": args.user, "room_id": args.room}
    return client.call("POST", "/notices", {k: v for k, v in body.items() if v})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groupreg", description="synapse-groupreg admin API from the shell."
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("GROUPREG_URL", "http://127.0.0.1:8008"),
        help="homeserver base URL (env GROUPREG_URL)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("GROUPREG_TOKEN"),
        help="a server admin's access token (env GROUPREG_TOKEN)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    audit = commands.add_parser("audit", help="the hash-chained audit log")
    audit_cmds = audit.add_subparsers(dest="audit_command", required=True)
    listing = audit_cmds.add_parser("list", help="entries, oldest first")
    listing.add_argument("--actor")
    listing.add_argument("--action", help="a name, or a prefix ending in '.'")
    listing.add_argument("--target")
    listing.add_argument("--from", dest="start", type=int, default=0)
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--all", action="store_true", help="follow every page")
    listing.set_defaults(run=_audit_list)
    verify = audit_cmds.add_parser("verify", help="recompute the whole chain")
    verify.set_defaults(run=_audit_verify)

    notice = commands.add_parser("notice", help="have the notice bot write")
    target = notice.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="direct message to this user")
    target.add_argument("--room", help="notice into this room (the bot must be in it)")
    notice.add_argument("text")
    notice.set_defaults(run=_notice)
    add_keyword_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("an admin access token is needed: --token or GROUPREG_TOKEN")
    client = AdminClient(args.url, args.token)
    run: Command = args.run
    try:
        answer = run(client, args)
    except ApiError as e:
        print(json.dumps(e.body, ensure_ascii=False, indent=2), file=sys.stderr)
        return 1
    except urllib.error.URLError as e:
        print(f"cannot reach {args.url}: {e.reason}", file=sys.stderr)
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
