"""`groupreg`: the admin API from a shell.

    groupreg --url https://matrix.example.org login --user admin
    groupreg rooms list --class large
    groupreg audit verify
    groupreg complaints list --status received,triaged --overdue
    groupreg --json logs --user @bob:example.org --all | jq ...

Every command is one or more calls to `/_synapse/client/groupreg/admin/v1`
(a few to Synapse's own client API), with the token of `groupreg login`
(kept in a 0600 file), `--token` or `GROUPREG_TOKEN`. Answers are a table
on a terminal and JSON otherwise (`--json` / `--table` choose).

Exit status: 0 done; 1 the server refused or could not be reached (its
error is printed); 2 bad usage; 3 done in part: something inside the
answer failed (an import row, a measure, a notice), listed on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
from collections.abc import Sequence
from typing import Any

from synapse_groupreg.cli import (
    adoption,
    complaints,
    content,
    governance,
    identity,
    lists,
    login,
    records,
    rooms,
    sanctions,
)
from synapse_groupreg.cli.client import ADMIN_PREFIX, AdminClient, ApiError, Command
from synapse_groupreg.cli.output import (
    OK,
    PARTLY_FAILED,
    REFUSED,
    cell,
    problems,
    show,
)

__all__ = ["ADMIN_PREFIX", "AdminClient", "ApiError", "build_parser", "main"]

DEFAULT_URL = "http://127.0.0.1:8008"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groupreg", description="synapse-groupreg admin API from the shell."
    )
    parser.add_argument(
        "--url",
        help="homeserver base URL (env GROUPREG_URL; default: the server of"
        f" the last login, else {DEFAULT_URL})",
    )
    parser.add_argument(
        "--token",
        help="an access token (env GROUPREG_TOKEN; default: the last login's)",
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument(
        "--json", dest="as_json", action="store_const", const=True, help="print JSON"
    )
    form.add_argument(
        "--table",
        dest="as_json",
        action="store_const",
        const=False,
        help="print tables (the default on a terminal)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    login.add_commands(commands)
    records.add_commands(commands)
    identity.add_commands(commands)
    rooms.add_commands(commands)
    content.add_commands(commands)
    lists.add_commands(commands)
    sanctions.add_commands(commands)
    complaints.add_commands(commands)
    adoption.add_commands(commands)
    governance.add_commands(commands)
    return parser


def _url(args: argparse.Namespace) -> str:
    url = (
        args.url
        or os.environ.get("GROUPREG_URL")
        or login.stored_default_url()
        or DEFAULT_URL
    )
    return str(url).rstrip("/")


def _token(args: argparse.Namespace, url: str) -> str | None:
    if args.token or os.environ.get("GROUPREG_TOKEN"):
        return str(args.token or os.environ["GROUPREG_TOKEN"])
    kept = login.stored_login(url)
    return str(kept["access_token"]) if kept else None


def _refusal(e: ApiError, as_json: bool) -> str:
    if as_json or not isinstance(e.body, dict):
        return json.dumps(e.body, ensure_ascii=False, indent=2)
    body: dict[str, Any] = e.body
    code = " ".join(
        str(part)
        for part in (
            e.status or None,
            body.get("errcode"),
            body.get("org.groupreg.reason"),
        )
        if part
    )
    message = body.get("error") or body.get("problem") or cell(body, 300)
    extra = {
        k: v
        for k, v in body.items()
        if k not in ("errcode", "error", "problem", "org.groupreg.reason", "ok")
    }
    lines = [f"groupreg: {code + ': ' if code else ''}{message}"]
    lines += [f"  {k}: {cell(v, 200)}" for k, v in extra.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    as_json = args.as_json if args.as_json is not None else not sys.stdout.isatty()
    url = _url(args)
    args.url = url
    try:
        token = _token(args, url)
    except ApiError as e:
        print(_refusal(e, as_json), file=sys.stderr)
        return REFUSED
    if not token and getattr(args, "needs_token", True):
        parser.error(
            f"no access token for {url}: run `groupreg login`, or give --token"
            " or GROUPREG_TOKEN"
        )
    client = AdminClient(url, token or "")
    run: Command = args.run
    try:
        answer = run(client, args)
    except ApiError as e:
        print(_refusal(e, as_json), file=sys.stderr)
        return REFUSED
    except urllib.error.URLError as e:
        print(f"groupreg: cannot reach {url}: {e.reason}", file=sys.stderr)
        return REFUSED
    except adoption.UninstallRefused as e:
        print(f"groupreg: uninstall refused: {e}", file=sys.stderr)
        return REFUSED
    show(answer, as_json, sys.stdout, getattr(args, "columns", None))
    failed = problems(answer)
    if failed:
        print("groupreg: done in part; these failed:", file=sys.stderr)
        for problem in failed:
            print(f"  {problem}", file=sys.stderr)
        return PARTLY_FAILED
    return OK
