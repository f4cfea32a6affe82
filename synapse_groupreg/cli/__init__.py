"""`groupreg`: the admin API from a shell.

    export GROUPREG_URL=http://127.0.0.1:8008 GROUPREG_TOKEN=<admin access token>
    groupreg audit verify
    groupreg audit list --action identity. --limit 20
    groupreg notice --user @alice:example.org "Please update your group's name"
    groupreg keywords import gambling gambling.txt --action block --credit-penalty 15
    groupreg complaints list --status received,triaged --overdue

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
from collections.abc import Sequence

from synapse_groupreg.cli import (
    adoption,
    complaints,
    content,
    identity,
    records,
    sanctions,
)
from synapse_groupreg.cli.client import ADMIN_PREFIX, AdminClient, ApiError, Command

__all__ = ["ADMIN_PREFIX", "AdminClient", "ApiError", "build_parser", "main"]


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
    records.add_commands(commands)
    identity.add_commands(commands)
    content.add_commands(commands)
    sanctions.add_commands(commands)
    complaints.add_commands(commands)
    adoption.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.token and getattr(args, "needs_token", True):
        parser.error("an admin access token is needed: --token or GROUPREG_TOKEN")
    client = AdminClient(args.url, args.token or "")
    run: Command = args.run
    try:
        answer = run(client, args)
    except ApiError as e:
        print(json.dumps(e.body, ensure_ascii=False, indent=2), file=sys.stderr)
        return 1
    except urllib.error.URLError as e:
        print(f"cannot reach {args.url}: {e.reason}", file=sys.stderr)
        return 1
    except adoption.UninstallRefused as e:
        print(f"uninstall refused: {e}", file=sys.stderr)
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0
