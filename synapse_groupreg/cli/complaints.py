"""`groupreg complaints`: the complaint queue from a shell (E1-E4).

    groupreg complaints list --status received,triaged --overdue
    groupreg complaints show C17
    groupreg complaints assign C17 --to @moderator:example.org
    groupreg complaints decide C17 --outcome violation --note "spam links" \
        --sanction suspend_posting,duration=24h
    groupreg complaints close C17
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from synapse_groupreg.cli.client import add_paging, listing

if TYPE_CHECKING:
    from synapse_groupreg.cli.client import AdminClient


CASE_COLUMNS = (
    "case_id",
    "kind",
    "status",
    "category",
    "target_type",
    "target",
    "reports",
    "assignee",
    "overdue",
    "decide_by",
)


def _case_path(case_id: str, action: str = "") -> str:
    return f"/complaints/{urllib.parse.quote(case_id, safe='')}{action}"


def _complaints_list(client: AdminClient, args: argparse.Namespace) -> Any:
    query: dict[str, Any] = {
        "status": args.status,
        "kind": args.kind,
        "category": args.category,
        "assignee": args.assignee,
        "target": args.target,
        "overdue": None if args.overdue is None else str(args.overdue).lower(),
        "held": None if args.held is None else str(args.held).lower(),
    }
    return listing(client, args, "/complaints", "cases", query)


def _complaints_show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", _case_path(args.case_id))


def _complaints_assign(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"assignee": args.to} if args.to else {}
    return client.call("POST", _case_path(args.case_id, "/assign"), body)


def parse_sanction(text: str) -> dict[str, Any]:
    """A `--sanction`: a JSON object, or `action[,key=value...]` such as
    `suspend_posting,duration=24h` (`amount` is a number)."""
    if text.lstrip().startswith("{"):
        value = json.loads(text)
        if not isinstance(value, dict):
            raise argparse.ArgumentTypeError("a sanction must be a JSON object")
        return value
    action, *pairs = [part.strip() for part in text.split(",")]
    sanction: dict[str, Any] = {"action": action}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(
                f"{pair!r}: write key=value, e.g. duration=24h"
            )
        sanction[key] = int(value) if key == "amount" else value
    return sanction


def _complaints_decide(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {
        "outcome": args.outcome,
        "note": args.note,
        "sanctions": args.sanction,
        "record_violation": args.record_violation,
    }
    return client.call("POST", _case_path(args.case_id, "/decision"), body)


def _complaints_close(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"note": args.note} if args.note else {}
    return client.call("POST", _case_path(args.case_id, "/close"), body)


def add_commands(commands: Any) -> None:
    complaints = commands.add_parser(
        "complaints", help="the complaint queue: cases, assignment, decisions"
    )
    sub = complaints.add_subparsers(dest="complaints_command", required=True)
    listing = sub.add_parser("list", help="cases, oldest first")
    listing.add_argument("--status", help="comma-separated, e.g. received,triaged")
    listing.add_argument("--kind", choices=["complaint", "appeal"])
    listing.add_argument("--category")
    listing.add_argument("--assignee")
    listing.add_argument("--target")
    overdue = listing.add_mutually_exclusive_group()
    overdue.add_argument(
        "--overdue", action="store_const", const=True, help="past a deadline"
    )
    overdue.add_argument("--on-time", dest="overdue", action="store_const", const=False)
    listing.add_argument(
        "--held", action="store_const", const=True, help="opened over a rate"
    )
    add_paging(listing)
    listing.set_defaults(
        run=_complaints_list,
        columns=CASE_COLUMNS,
        routes=(("GET", "/admin/v1/complaints"),),
    )
    show = sub.add_parser("show", help="one case with reports and history")
    show.add_argument("case_id", help="e.g. C17")
    show.set_defaults(
        run=_complaints_show, routes=(("GET", "/admin/v1/complaints/{case_id}"),)
    )
    assign = sub.add_parser("assign", help="give a case to an admin (acknowledges)")
    assign.add_argument("case_id")
    assign.add_argument("--to", help="the admin's user id (default: yourself)")
    assign.set_defaults(
        run=_complaints_assign,
        routes=(("POST", "/admin/v1/complaints/{case_id}/assign"),),
    )
    decide = sub.add_parser("decide", help="decide a case")
    decide.add_argument("case_id")
    decide.add_argument(
        "--outcome",
        required=True,
        choices=["violation", "no_violation", "invalid", "reversed", "upheld"],
    )
    decide.add_argument("--note", required=True, help="the reasons (sent to reporters)")
    decide.add_argument(
        "--sanction",
        action="append",
        default=[],
        type=parse_sanction,
        help="repeatable: JSON, or action[,key=value...] e.g. warn,deadline=3d",
    )
    decide.add_argument(
        "--no-violation-record",
        dest="record_violation",
        action="store_false",
        help="do not record the violation of the case's subject (credit penalty)",
    )
    decide.set_defaults(
        run=_complaints_decide,
        routes=(("POST", "/admin/v1/complaints/{case_id}/decision"),),
    )
    close = sub.add_parser("close", help="close a decided case")
    close.add_argument("case_id")
    close.add_argument("--note")
    close.set_defaults(
        run=_complaints_close,
        routes=(("POST", "/admin/v1/complaints/{case_id}/close"),),
    )
