"""`groupreg` commands for sanctions, credit, the blacklist, violations and
emergency measures (D1-D6).

    groupreg sanction room '!abc' --action suspend_posting --duration 24h --reason 刷屏
    groupreg sanction user @bob:hs --action lower_credit --amount 10 --reason '广告'
    groupreg sanction lift S17 --reason 'rectified'
    groupreg credit show @bob:hs
    groupreg blacklist add server '*.spam.example' --reason 'spam source'
    groupreg blacklist import --room '!policies:hs' --source community-bans
    groupreg blacklist export -o bans.json
    groupreg emergency suspend --keyword 赌博 --duration 24h --reason 整治  # dry run
    groupreg emergency suspend --keyword 赌博 --duration 24h --reason '...' --apply
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synapse_groupreg.cli.client import AdminClient


SANCTION_COLUMNS = (
    "sanction_id",
    "scope",
    "target",
    "action",
    "status",
    "created_ts",
    "expires_ts",
    "reason",
)
BLACKLIST_COLUMNS = (
    "entry_id",
    "kind",
    "target",
    "status",
    "source",
    "expires_ts",
    "reason",
)
POLICY_COLUMNS = ("index", "entity", "outcome", "entry_id", "why")
EMERGENCY_COLUMNS = ("room_id", "code", "class", "category", "name", "matched_keyword")
VIOLATION_COLUMNS = ("id", "ts", "user_id", "kind", "room_id", "penalty")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _body(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# -- sanctions ------------------------------------------------------------------


def _sanction_room(client: AdminClient, args: argparse.Namespace) -> Any:
    body = _body(
        action=args.action,
        reason=args.reason,
        duration=args.duration,
        deadline=args.deadline,
        rule=args.rule,
    )
    return client.call("POST", f"/rooms/{_quote(args.room_id)}/sanctions", body)


def _sanction_user(client: AdminClient, args: argparse.Namespace) -> Any:
    body = _body(
        action=args.action,
        reason=args.reason,
        amount=args.amount,
        duration=args.duration,
        rule=args.rule,
    )
    return client.call("POST", f"/users/{_quote(args.user_id)}/sanctions", body)


def _sanction_lift(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call(
        "DELETE",
        f"/sanctions/{_quote(args.sanction_id)}",
        _body(reason=args.reason),
    )


def _sanction_show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/sanctions/{_quote(args.sanction_id)}")


def _sanction_list(client: AdminClient, args: argparse.Namespace) -> Any:
    if args.room or args.user:
        # One target's sanctions, from its own resource.
        path = (
            f"/rooms/{_quote(args.room)}/sanctions"
            if args.room
            else f"/users/{_quote(args.user)}/sanctions"
        )
        return client.pages(path, "sanctions", {"status": args.status})
    query = {
        "scope": args.scope,
        "target": args.target,
        "action": args.action,
        "status": args.status,
    }
    return client.pages("/sanctions", "sanctions", query)


# -- credit -----------------------------------------------------------------------


def _credit_show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/users/{_quote(args.user_id)}/credit")


def _credit_award(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call(
        "POST",
        f"/users/{_quote(args.user_id)}/credit",
        {"amount": args.amount, "reason": args.reason},
    )


# -- blacklist --------------------------------------------------------------------


def _blacklist_add(client: AdminClient, args: argparse.Namespace) -> Any:
    body = _body(
        kind=args.kind,
        target=args.target,
        reason=args.reason,
        expires_in=args.expires_in,
    )
    return client.call("POST", "/blacklist", body)


def _blacklist_remove(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call(
        "DELETE", f"/blacklist/{_quote(args.entry_id)}", _body(reason=args.reason)
    )


def _blacklist_show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/blacklist/{_quote(args.entry_id)}")


def _blacklist_list(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {
        "kind": args.kind,
        "target": args.target,
        "status": args.status,
        "expiring_within": args.expiring_within,
    }
    return client.pages("/blacklist", "entries", query)


def _policy_room_state(client: AdminClient, room_id: str) -> list[Any]:
    """The state of a policy-list room, read with the same token through
    the client API (the token's user must be able to see the room)."""
    from synapse_groupreg.cli.client import ApiError

    answer = client.call(
        "GET", f"/_matrix/client/v3/rooms/{_quote(room_id)}/state", prefix=""
    )
    if not isinstance(answer, list):
        raise ApiError(0, {"error": f"unexpected answer for the state of {room_id}"})
    return answer


def _blacklist_import(client: AdminClient, args: argparse.Namespace) -> Any:
    from synapse_groupreg.cli.client import ApiError

    events: Any
    if args.room:
        events = _policy_room_state(client, args.room)
        source = args.source or args.room
    else:
        with open(args.file, encoding="utf-8") as f:
            document = json.load(f)
        events = document.get("events") if isinstance(document, dict) else document
        if not isinstance(events, list):
            raise ApiError(
                0, {"error": f"{args.file}: expected a list of state events"}
            )
        source = args.source or args.file
    body = _body(events=events, source=source, expires_in=args.expires_in)
    return client.call("POST", "/blacklist/policy", body)


def _blacklist_export(client: AdminClient, args: argparse.Namespace) -> Any:
    answer = client.call("GET", "/blacklist/policy")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(answer["events"], f, ensure_ascii=False, indent=2)
        return {
            "written": args.output,
            "rules": len(answer["events"]),
            "persons_not_exported": answer["persons_not_exported"],
        }
    return answer


# -- violations and emergencies ---------------------------------------------------


def _violation_record(client: AdminClient, args: argparse.Namespace) -> Any:
    body = _body(
        user_id=args.user_id,
        kind=args.kind,
        room_id=args.room,
        penalty=args.penalty,
        evidence=json.loads(args.evidence) if args.evidence else None,
    )
    return client.call("POST", "/violations", body)


def _violation_list(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {"user_id": args.user, "room_id": args.room}
    return client.pages("/violations", "violations", query)


def _emergency(client: AdminClient, args: argparse.Namespace) -> Any:
    match = _body(
        **{"class": args.room_class, "category": args.category},
        keywords=args.keyword or None,
        keyword_category=args.keyword_category,
    )
    body = _body(
        action="suspend_posting" if args.measure == "suspend" else "close",
        reason=args.reason,
        duration=args.duration,
        match=match,
        dry_run=not args.apply,
    )
    return client.call("POST", "/emergency", body)


def add_commands(commands: Any) -> None:
    """Add the commands to `groupreg`'s subparsers."""
    sanction = commands.add_parser("sanction", help="sanctions on groups and users")
    cmds = sanction.add_subparsers(dest="sanction_command", required=True)
    room = cmds.add_parser("room", help="warn, suspend_posting or close a group")
    room.add_argument("room_id")
    room.add_argument(
        "--action", required=True, choices=["warn", "suspend_posting", "close"]
    )
    room.add_argument("--reason", required=True, help="the facts")
    room.add_argument("--duration", help="e.g. 24h (suspend_posting)")
    room.add_argument("--deadline", help="time to rectify, e.g. 7d (warn)")
    room.add_argument("--rule", help="the rule cited (default: configured)")
    room.set_defaults(
        run=_sanction_room, routes=(("POST", "/admin/v1/rooms/{room_id}/sanctions"),)
    )
    user = cmds.add_parser("user", help="lower_credit, suspend_admin, revoke_creation")
    user.add_argument("user_id")
    user.add_argument(
        "--action",
        required=True,
        choices=["lower_credit", "suspend_admin", "revoke_creation"],
    )
    user.add_argument("--reason", required=True)
    user.add_argument("--amount", type=int, help="points (lower_credit)")
    user.add_argument("--duration", help="e.g. 30d (suspend_admin, revoke_creation)")
    user.add_argument("--rule")
    user.set_defaults(
        run=_sanction_user, routes=(("POST", "/admin/v1/users/{user_id}/sanctions"),)
    )
    lift = cmds.add_parser("lift", help="lift a sanction early (any but close)")
    lift.add_argument("sanction_id")
    lift.add_argument("--reason")
    lift.set_defaults(
        run=_sanction_lift, routes=(("DELETE", "/admin/v1/sanctions/{sanction_id}"),)
    )
    show = cmds.add_parser("show", help="one sanction")
    show.add_argument("sanction_id")
    show.set_defaults(
        run=_sanction_show, routes=(("GET", "/admin/v1/sanctions/{sanction_id}"),)
    )
    listing = cmds.add_parser("list", help="every sanction (all pages)")
    whose = listing.add_mutually_exclusive_group()
    whose.add_argument("--room", help="the sanctions of one group")
    whose.add_argument("--user", help="the sanctions of one user")
    listing.add_argument("--scope", choices=["room", "user"])
    listing.add_argument("--target")
    listing.add_argument("--action")
    listing.add_argument("--status", choices=["active", "ended"])
    listing.set_defaults(
        run=_sanction_list,
        columns=SANCTION_COLUMNS,
        routes=(
            ("GET", "/admin/v1/sanctions"),
            ("GET", "/admin/v1/rooms/{room_id}/sanctions"),
            ("GET", "/admin/v1/users/{user_id}/sanctions"),
        ),
    )

    credit = commands.add_parser("credit", help="credit scores")
    credit_cmds = credit.add_subparsers(dest="credit_command", required=True)
    credit_show = credit_cmds.add_parser("show", help="score, band and history")
    credit_show.add_argument("user_id")
    credit_show.set_defaults(
        run=_credit_show, routes=(("GET", "/admin/v1/users/{user_id}/credit"),)
    )
    award = credit_cmds.add_parser("award", help="give points (taking is a sanction)")
    award.add_argument("user_id")
    award.add_argument("amount", type=int)
    award.add_argument("--reason", required=True)
    award.set_defaults(
        run=_credit_award, routes=(("POST", "/admin/v1/users/{user_id}/credit"),)
    )

    blacklist = commands.add_parser("blacklist", help="the blacklist and policy lists")
    bl = blacklist.add_subparsers(dest="blacklist_command", required=True)
    add = bl.add_parser("add", help="list a user, person, room or server (or renew)")
    add.add_argument("kind", choices=["user", "person", "room", "server"])
    add.add_argument("target", help="id, alias, server name or glob; person: user id")
    add.add_argument("--reason", required=True)
    add.add_argument("--expires-in", help="e.g. 90d (default 3 years)")
    add.set_defaults(run=_blacklist_add, routes=(("POST", "/admin/v1/blacklist"),))
    remove = bl.add_parser("remove", help="remove an entry")
    remove.add_argument("entry_id")
    remove.add_argument("--reason")
    remove.set_defaults(
        run=_blacklist_remove, routes=(("DELETE", "/admin/v1/blacklist/{entry_id}"),)
    )
    bl_show = bl.add_parser("show", help="one entry")
    bl_show.add_argument("entry_id")
    bl_show.set_defaults(
        run=_blacklist_show, routes=(("GET", "/admin/v1/blacklist/{entry_id}"),)
    )
    bl_list = bl.add_parser("list", help="entries (all pages)")
    bl_list.add_argument("--kind", choices=["user", "person", "room", "server"])
    bl_list.add_argument("--target")
    bl_list.add_argument("--status", choices=["active", "ended"])
    bl_list.add_argument("--expiring-within", help="for review, e.g. 30d")
    bl_list.set_defaults(
        run=_blacklist_list,
        columns=BLACKLIST_COLUMNS,
        routes=(("GET", "/admin/v1/blacklist"),),
    )
    imp = bl.add_parser("import", help="import a Matrix policy list (m.ban rules)")
    source = imp.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="JSON list of state events (or an export)")
    source.add_argument("--room", help="a policy room to read, e.g. Draupnir's")
    imp.add_argument("--source", help="a name for the list")
    imp.add_argument("--expires-in")
    imp.set_defaults(
        run=_blacklist_import,
        columns=POLICY_COLUMNS,
        routes=(("POST", "/admin/v1/blacklist/policy"),),
    )
    exp = bl.add_parser("export", help="the blacklist as m.policy.rule.* events")
    exp.add_argument("-o", "--output", help="file to write the events to")
    exp.set_defaults(
        run=_blacklist_export, routes=(("GET", "/admin/v1/blacklist/policy"),)
    )

    violation = commands.add_parser("violation", help="record a violation")
    violation.add_argument("user_id")
    violation.add_argument("kind", help="e.g. prohibited_content:gambling")
    violation.add_argument("--room")
    violation.add_argument("--penalty", type=int)
    violation.add_argument("--evidence", help="a JSON object")
    violation.set_defaults(
        run=_violation_record, routes=(("POST", "/admin/v1/violations"),)
    )

    violations = commands.add_parser(
        "violations", help="recorded violations, oldest first (all pages)"
    )
    violations.add_argument("--user")
    violations.add_argument("--room")
    violations.set_defaults(
        run=_violation_list,
        columns=VIOLATION_COLUMNS,
        routes=(("GET", "/admin/v1/violations"),),
    )

    emergency = commands.add_parser(
        "emergency", help="suspend or close many groups (dry run unless --apply)"
    )
    emergency.add_argument("measure", choices=["suspend", "close"])
    emergency.add_argument("--reason", required=True)
    emergency.add_argument("--duration", help="e.g. 24h (suspend)")
    emergency.add_argument("--class", dest="room_class")
    emergency.add_argument("--category")
    emergency.add_argument("--keyword", action="append", help="repeatable")
    emergency.add_argument(
        "--keyword-category", help="the words of a content-filter category"
    )
    emergency.add_argument("--apply", action="store_true", help="not a dry run")
    emergency.set_defaults(
        run=_emergency,
        columns=EMERGENCY_COLUMNS,
        routes=(("POST", "/admin/v1/emergency"),),
    )
