"""`groupreg rooms ...`: the room registry and moves between classes (B2,
B4-B6), and `groupreg logs`: the network log (F2).

    groupreg rooms list --class large --status active
    groupreg rooms find G-1234-5678-9
    groupreg rooms show '!abc:example.org' --at 1700000000000
    groupreg rooms requests                      # moves waiting for approval
    groupreg rooms approve 17 --note "verified organiser"
    groupreg rooms category '!abc:example.org' work   # as the group's creator or admin
    groupreg rooms mute '!abc:example.org' @bob:example.org 1h --reason 刷屏
    groupreg rooms mute '!abc:example.org' all 30m --exempt @host:example.org
    groupreg rooms unmute '!abc:example.org' @bob:example.org
    groupreg rooms mutes '!abc:example.org'      # every mute, who muted, lifted
    groupreg logs --user @bob:example.org --kind login --all
"""

from __future__ import annotations

import argparse
from typing import Any

from synapse_groupreg.cli.client import AdminClient, add_paging, listing, quoted

ROOM_COLUMNS = ("code", "room_id", "class", "category", "status", "member_count")
REQUEST_COLUMNS = (
    "request_id",
    "room_id",
    "requester",
    "from_class",
    "to_class",
    "status",
    "requested_ts",
)
MUTE_COLUMNS = (
    "mute_id",
    "user_id",
    "all",
    "by",
    "reason",
    "actor",
    "until",
    "lifted_ts",
    "lifted_by",
)
LOG_COLUMNS = ("id", "ts", "kind", "user_id", "room_id", "target", "ip", "event_id")


def _rooms_list(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {"class": args.room_class, "status": args.status, "creator": args.creator}
    return listing(client, args, "/rooms", "rooms", query)


def _rooms_find(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", "/rooms", query={"code": args.code})


def _rooms_show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/rooms/{quoted(args.room_id)}", query={"at": args.at})


def _requests(client: AdminClient, args: argparse.Namespace) -> Any:
    return listing(client, args, "/class-requests", "requests", {"status": args.status})


def _decide(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"decision": args.decision}
    if args.note:
        body["note"] = args.note
    return client.call("POST", f"/class-requests/{args.request_id}", body)


def _move(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"class": args.room_class, "category": args.category}
    return client.call(
        "POST",
        f"/rooms/{quoted(args.room_id)}/class",
        {k: v for k, v in body.items() if v is not None},
    )


def _category(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call(
        "PUT",
        f"/_synapse/client/groupreg/v1/rooms/{quoted(args.room_id)}/category",
        {"category": args.category},
        prefix="",
    )


def _mutes(client: AdminClient, args: argparse.Namespace) -> Any:
    return listing(client, args, f"/rooms/{quoted(args.room_id)}/mutes", "mutes", {})


def _mute(client: AdminClient, args: argparse.Namespace) -> Any:
    """B8, as a platform moderator (the token's user holds `moderator`)."""
    body: dict[str, Any] = {"duration": args.duration}
    if args.target == "all":
        body["all"] = True
        if args.exempt:
            body["exempt"] = args.exempt
    else:
        body["user_id"] = args.target
    if args.reason:
        body["reason"] = args.reason
    return client.call(
        "POST",
        f"/_synapse/client/groupreg/v1/rooms/{quoted(args.room_id)}/mutes",
        body,
        prefix="",
    )


def _unmute(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call(
        "DELETE",
        f"/_synapse/client/groupreg/v1/rooms/{quoted(args.room_id)}"
        f"/mutes/{quoted(args.target)}",
        prefix="",
    )


def _logs(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {
        "user_id": args.user,
        "room_id": args.room,
        "kind": args.kind,
        "since": args.since,
        "until": args.until,
    }
    return listing(client, args, "/logs", "entries", query)


def add_commands(commands: Any) -> None:
    rooms = commands.add_parser("rooms", help="the room registry and class moves")
    sub = rooms.add_subparsers(dest="rooms_command", required=True)
    listing = sub.add_parser("list", help="registered rooms, oldest first")
    listing.add_argument("--class", dest="room_class")
    listing.add_argument("--status", choices=["active", "closed", "upgraded"])
    listing.add_argument("--creator")
    add_paging(listing)
    listing.set_defaults(
        run=_rooms_list, columns=ROOM_COLUMNS, routes=(("GET", "/admin/v1/rooms"),)
    )
    find = sub.add_parser("find", help="the room with a registration code")
    find.add_argument("code", help="case, spaces and hyphens do not matter")
    find.set_defaults(
        run=_rooms_find, columns=ROOM_COLUMNS, routes=(("GET", "/admin/v1/rooms"),)
    )
    show = sub.add_parser("show", help="one room, with its whole admin history")
    show.add_argument("room_id")
    show.add_argument("--at", type=int, help="who was responsible then (ms)")
    show.set_defaults(run=_rooms_show, routes=(("GET", "/admin/v1/rooms/{room_id}"),))
    requests = sub.add_parser("requests", help="class moves waiting for approval")
    requests.add_argument(
        "--status",
        choices=["pending", "approved", "rejected", "superseded"],
        default="pending",
    )
    add_paging(requests)
    requests.set_defaults(
        run=_requests,
        columns=REQUEST_COLUMNS,
        routes=(("GET", "/admin/v1/class-requests"),),
    )
    for decision, verb in (("approve", "approve"), ("reject", "reject")):
        decide = sub.add_parser(verb, help=f"{verb} a queued class move")
        decide.add_argument("request_id", type=int)
        decide.add_argument("--note", help="the reason, kept in the audit log")
        decide.set_defaults(
            run=_decide,
            decision=decision,
            routes=(("POST", "/admin/v1/class-requests/{request_id}"),),
        )
    move = sub.add_parser(
        "move",
        help="move a group to another class as a server admin (the room must"
        " fit it: an adopted room over its cap, once a bigger class exists)",
    )
    move.add_argument("room_id")
    move.add_argument("room_class", metavar="class")
    move.add_argument("--category")
    move.set_defaults(run=_move, routes=(("POST", "/admin/v1/rooms/{room_id}/class"),))
    category = sub.add_parser(
        "category",
        help="declare a group's category (the token's user must be its creator"
        " or an admin of it)",
    )
    category.add_argument("room_id")
    category.add_argument("category")
    category.set_defaults(
        run=_category, routes=(("PUT", "/v1/rooms/{room_id}/category"),)
    )

    mutes = sub.add_parser("mutes", help="every mute of a group, newest first (B8)")
    mutes.add_argument("room_id")
    add_paging(mutes)
    mutes.set_defaults(
        run=_mutes,
        columns=MUTE_COLUMNS,
        routes=(("GET", "/admin/v1/rooms/{room_id}/mutes"),),
    )
    mute = sub.add_parser(
        "mute",
        help="mute a member, or everyone ('all'), as the platform (B8; the"
        " token's user holds the moderator role)",
    )
    mute.add_argument("room_id")
    mute.add_argument("target", help="a user id, or 'all'")
    mute.add_argument("duration", help="1s to 30d, e.g. 30m, 1h, 7d")
    mute.add_argument("--reason", help="stated to the member")
    mute.add_argument(
        "--exempt", action="append", help="with 'all': who may still speak"
    )
    mute.set_defaults(run=_mute, routes=(("POST", "/v1/rooms/{room_id}/mutes"),))
    unmute = sub.add_parser("unmute", help="lift a mute now (a user id, or 'all')")
    unmute.add_argument("room_id")
    unmute.add_argument("target")
    unmute.set_defaults(
        run=_unmute, routes=(("DELETE", "/v1/rooms/{room_id}/mutes/{target}"),)
    )

    logs = commands.add_parser("logs", help="the network log (F2), oldest first")
    logs.add_argument("--user")
    logs.add_argument("--room")
    logs.add_argument(
        "--kind",
        choices=[
            "registration",
            "login",
            "room_create",
            "join",
            "leave",
            "kick",
            "invite",
            "ban",
            "knock",
            "message",
            "event",
        ],
    )
    logs.add_argument("--since", type=int, help="ms since the epoch, inclusive")
    logs.add_argument("--until", type=int, help="ms since the epoch, exclusive")
    add_paging(logs)
    logs.set_defaults(
        run=_logs, columns=LOG_COLUMNS, routes=(("GET", "/admin/v1/logs"),)
    )
