"""`groupreg audit|export|export-verify|notice`: the records (F1, F3) and
the notice bot from a shell."""

from __future__ import annotations

import argparse
import json
import urllib.request
from typing import Any

from synapse_groupreg.cli.client import AdminClient, ApiError, add_paging, listing

AUDIT_COLUMNS = ("seq", "ts", "actor", "action", "target")


def _audit_list(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {"actor": args.actor, "action": args.action, "target": args.target}
    return listing(client, args, "/audit", "entries", query)


def _audit_verify(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", "/audit/verify")


def _notice(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"body": args.text, "user_id": args.user, "room_id": args.room}
    return client.call("POST", "/notices", {k: v for k, v in body.items() if v})


def _export(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {"sections": args.sections, "since": args.since, "until": args.until}
    document: bytes = client.call("GET", "/export", query=query, binary=True)
    with open(args.output, "wb") as f:
        f.write(document)
    return {"written": args.output, "bytes": len(document)}


def server_verify_keys(base_url: str) -> dict[str, bytes]:
    """The homeserver's published signing keys (`/_matrix/key/v2/server`)."""
    import base64

    url = base_url.rstrip("/") + "/_matrix/key/v2/server"
    with urllib.request.urlopen(url, timeout=30) as r:
        published = json.loads(r.read())
    keys = {**published.get("old_verify_keys", {}), **published.get("verify_keys", {})}
    return {
        key_id: base64.b64decode(entry["key"] + "=" * (-len(entry["key"]) % 4))
        for key_id, entry in keys.items()
    }


def live_head_check(client: AdminClient, head: dict[str, Any]) -> dict[str, Any]:
    """Compare an export's `audit_head` with the server's chain now (F1):
    the entry it names must still be there with the same hash, and the
    chain must verify against its signed checkpoints."""
    seq, digest = int(head.get("seq") or 0), str(head.get("hash") or "")
    problems: list[str] = []
    if seq:
        page = client.call("GET", "/audit", query={"from": seq, "limit": 1})
        entries = page.get("entries", [])
        if not entries or entries[0]["seq"] != seq:
            problems.append(
                f"entry {seq}, the head when the export was made, is missing"
                " from the live chain: entries were removed"
            )
        elif entries[0]["hash"] != digest:
            problems.append(
                f"entry {seq} has hash {entries[0]['hash'][:16]}… now, the export"
                f" recorded {digest[:16]}…: the chain up to it was rewritten"
            )
    verdict = client.call("GET", "/audit/verify")
    problems.extend(p["message"] for p in verdict.get("problems", []))
    return {"ok": not problems, "problems": problems, "verify": verdict}


def _export_verify(client: AdminClient, args: argparse.Namespace) -> Any:
    """The export's signature against the server's published keys; with an
    admin token (an auditor's), also its audit head against the live chain."""
    from synapse_groupreg.export import ExportInvalid, verify_export

    with open(args.file, "rb") as f:
        document = f.read()
    try:
        header = verify_export(document, server_verify_keys(args.url))
    except ExportInvalid as e:
        raise ApiError(0, {"ok": False, "problem": str(e)}) from None
    if not client.token:
        return {
            "ok": True,
            "header": header,
            "live": {"compared": False, "why": "no token (--token or GROUPREG_TOKEN)"},
        }
    live = live_head_check(client, dict(header.get("audit_head") or {}))
    answer = {"ok": live["ok"], "header": header, "live": {"compared": True, **live}}
    if not live["ok"]:
        raise ApiError(0, answer)
    return answer


def add_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the hash-chained audit log")
    audit_cmds = audit.add_subparsers(dest="audit_command", required=True)
    listing = audit_cmds.add_parser("list", help="entries, oldest first")
    listing.add_argument("--actor")
    listing.add_argument("--action", help="a name, or a prefix ending in '.'")
    listing.add_argument("--target")
    add_paging(listing)
    listing.set_defaults(
        run=_audit_list, columns=AUDIT_COLUMNS, routes=(("GET", "/admin/v1/audit"),)
    )
    verify = audit_cmds.add_parser("verify", help="recompute the whole chain")
    verify.set_defaults(run=_audit_verify, routes=(("GET", "/admin/v1/audit/verify"),))

    export = commands.add_parser("export", help="download a signed JSONL export")
    export.add_argument("--sections", help="comma-separated, e.g. audit,network (all)")
    export.add_argument("--since", type=int, help="ms since the epoch, inclusive")
    export.add_argument("--until", type=int, help="ms since the epoch, exclusive")
    export.add_argument("-o", "--output", required=True, help="file to write")
    export.set_defaults(run=_export, routes=(("GET", "/admin/v1/export"),))
    check = commands.add_parser(
        "export-verify",
        help="check an export's signature against the server's published key;"
        " with a token, its audit head against the live chain too",
    )
    check.add_argument("file")
    check.set_defaults(run=_export_verify, needs_token=False, routes=())

    notice = commands.add_parser("notice", help="have the notice bot write")
    target = notice.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="direct message to this user")
    target.add_argument("--room", help="notice into this room (the bot must be in it)")
    notice.add_argument("text")
    notice.set_defaults(run=_notice, routes=(("POST", "/admin/v1/notices"),))
