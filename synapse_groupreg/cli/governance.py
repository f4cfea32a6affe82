"""`groupreg me|roles|users show|audit checkpoints`: who holds which module
role (G7), one user's whole standing, and the audit chain's signed
checkpoints (F1)."""

from __future__ import annotations

import argparse
from typing import Any

from synapse_groupreg.cli.client import AdminClient, add_paging, listing, quoted


def _me(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", "/me")


def _roles(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", "/roles")


def _user(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/users/{quoted(args.user_id)}")


def _checkpoints(client: AdminClient, args: argparse.Namespace) -> Any:
    return listing(client, args, "/audit/checkpoints", "checkpoints", {})


def _checkpoint_now(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("POST", "/audit/checkpoints", {})


def add_commands(commands: Any) -> None:
    me = commands.add_parser("me", help="the module roles your token holds")
    me.set_defaults(run=_me, routes=(("GET", "/admin/v1/me"),))
    roles = commands.add_parser("roles", help="who holds which module role")
    roles.set_defaults(run=_roles, routes=(("GET", "/admin/v1/roles"),))
    users = commands.add_parser("users", help="one user's standing")
    which = users.add_subparsers(dest="users_command", required=True)
    show = which.add_parser(
        "show",
        help="identity level and masked identity, credit, sanctions,"
        " complaints, blacklist entries",
    )
    show.add_argument("user_id")
    show.set_defaults(run=_user, routes=(("GET", "/admin/v1/users/{user_id}"),))
    checkpoints = commands.add_parser(
        "checkpoints", help="the audit chain's signed checkpoints (F1)"
    )
    steps = checkpoints.add_subparsers(dest="checkpoints_command", required=True)
    listed = steps.add_parser("list", help="newest first")
    add_paging(listed)
    listed.set_defaults(
        run=_checkpoints, routes=(("GET", "/admin/v1/audit/checkpoints"),)
    )
    now = steps.add_parser("now", help="sign the chain's head now")
    now.set_defaults(
        run=_checkpoint_now, routes=(("POST", "/admin/v1/audit/checkpoints"),)
    )
