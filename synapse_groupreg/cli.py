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
        binary: bool = False,
    ) -> Any:
        """One call; the parsed JSON answer (or the bytes, with `binary`)."""
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


def _export_verify(client: AdminClient | None, args: argparse.Namespace) -> Any:
    from synapse_groupreg.export import ExportInvalid, verify_export

    with open(args.file, "rb") as f:
        document = f.read()
    try:
        header = verify_export(document, server_verify_keys(args.url))
    except ExportInvalid as e:
        raise ApiError(0, {"ok": False, "problem": str(e)}) from None
    return {"ok": True, "header": header}


def _quoted(user_id: str) -> str:
    return urllib.parse.quote(user_id, safe="")


def _identity_import(client: AdminClient, args: argparse.Namespace) -> Any:
    with open(args.file, "rb") as f:
        data = f.read()
    is_csv = args.format == "csv" or (
        args.format is None and args.file.endswith(".csv")
    )
    content_type = "text/csv" if is_csv else "application/json"
    return client.call(
        "POST", "/identities/import", raw=data, content_type=content_type
    )


def _identity_show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/identities/{_quoted(args.user_id)}")


def _identity_pending(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.pages("/identities/pending", "submissions", {})


def _identity_decide(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"reason": args.reason} if args.reason else {}
    return client.call(
        "POST", f"/identities/pending/{args.submission_id}/{args.verdict}", body
    )


def _identity_reveal(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call(
        "POST", f"/identities/{_quoted(args.user_id)}/reveal", {"reason": args.reason}
    )


def _add_identity_commands(commands: Any) -> None:
    identity = commands.add_parser("identities", help="real-name identities (A)")
    sub = identity.add_subparsers(dest="identity_command", required=True)
    bulk = sub.add_parser("import", help="verify users in bulk from CSV or JSON")
    bulk.add_argument("file")
    bulk.add_argument("--format", choices=["csv", "json"], help="default: by extension")
    bulk.set_defaults(run=_identity_import)
    show = sub.add_parser("show", help="a user's masked identity and level")
    show.add_argument("user_id")
    show.set_defaults(run=_identity_show)
    pending = sub.add_parser("pending", help="self-service submissions awaiting review")
    pending.set_defaults(run=_identity_pending)
    for verdict in ("approve", "reject"):
        decide = sub.add_parser(verdict, help=f"{verdict} a pending submission")
        decide.add_argument("submission_id")
        decide.add_argument("--reason")
        decide.set_defaults(run=_identity_decide, verdict=verdict)
    reveal = sub.add_parser("reveal", help="the plaintext identity (audited)")
    reveal.add_argument("user_id")
    reveal.add_argument(
        "--reason", required=True, help="why; recorded in the audit log"
    )
    reveal.set_defaults(run=_identity_reveal)


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

    export = commands.add_parser("export", help="download a signed JSONL export")
    export.add_argument("--sections", help="comma-separated, e.g. audit,network (all)")
    export.add_argument("--since", type=int, help="ms since the epoch, inclusive")
    export.add_argument("--until", type=int, help="ms since the epoch, exclusive")
    export.add_argument("-o", "--output", required=True, help="file to write")
    export.set_defaults(run=_export)
    check = commands.add_parser(
        "export-verify",
        help="check an export's signature against the server's published key",
    )
    check.add_argument("file")
    check.set_defaults(run=_export_verify, needs_token=False)

    notice = commands.add_parser("notice", help="have the notice bot write")
    target = notice.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="direct message to this user")
    target.add_argument("--room", help="notice into this room (the bot must be in it)")
    notice.add_argument("text")
    notice.set_defaults(run=_notice)
    _add_identity_commands(commands)
    add_keyword_commands(commands)

    # Sanctions, credit, blacklist, violations, emergencies (D1-D6); imported
    # here as that module uses this one's client.
    from synapse_groupreg.cli_sanctions import add_commands as add_sanction_commands

    add_sanction_commands(commands)

    # The complaint queue (E1-E4); imported here as that module uses this
    # one's client.
    from synapse_groupreg.cli_complaints import add_commands as add_complaint_commands

    add_complaint_commands(commands)
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
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
