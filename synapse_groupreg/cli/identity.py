"""`groupreg identities ...`: real-name identities from a shell (A3, A6)."""

from __future__ import annotations

import argparse
from typing import Any

from synapse_groupreg.cli.client import AdminClient, quoted

IMPORT_COLUMNS = ("row", "user_id", "status", "level", "field", "reason", "error")


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
    return client.call("GET", f"/identities/{quoted(args.user_id)}")


def _identity_pending(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.pages("/identities/pending", "submissions", {})


def _identity_decide(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {"reason": args.reason} if args.reason else {}
    return client.call(
        "POST", f"/identities/pending/{args.submission_id}/{args.verdict}", body
    )


def _identity_verify(client: AdminClient, args: argparse.Namespace) -> Any:
    body = {
        "name": args.name,
        "document_type": args.document_type,
        "document_number": args.document_number,
    }
    if args.method:
        body["method"] = args.method
    return client.call("PUT", f"/identities/{quoted(args.user_id)}", body)


def _identity_guardian(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call(
        "POST",
        f"/identities/{quoted(args.user_id)}/guardian_consent",
        {"reference": args.reference},
    )


def _identity_keys(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", "/identities/keys")


def _identity_reveal(client: AdminClient, args: argparse.Namespace) -> Any:
    body: dict[str, Any] = {"reason": args.reason}
    if args.no_statement:
        body["statement"] = False
    return client.call("POST", f"/identities/{quoted(args.user_id)}/reveal", body)


def _reveal_list(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {"status": args.status, "mine": "true" if args.mine else None}
    return client.pages("/identities/reveals", "requests", query)


#: The route each four-eyes step calls.
REVEAL_STEP_ROUTES = {
    "approve": (("POST", "/admin/v1/identities/reveals/{request_id}/approve"),),
    "refuse": (("POST", "/admin/v1/identities/reveals/{request_id}/refuse"),),
    "read": (("GET", "/admin/v1/identities/reveals/{request_id}"),),
}


def _reveal_step(client: AdminClient, args: argparse.Namespace) -> Any:
    path = f"/identities/reveals/{quoted(args.request_id)}"
    if args.step == "read":
        return client.call("GET", path)
    body = {"reason": args.reason} if args.step == "refuse" else {}
    return client.call("POST", f"{path}/{args.step}", body)


def add_commands(commands: Any) -> None:
    identity = commands.add_parser("identities", help="real-name identities (A)")
    sub = identity.add_subparsers(dest="identity_command", required=True)
    bulk = sub.add_parser("import", help="verify users in bulk from CSV or JSON")
    bulk.add_argument("file")
    bulk.add_argument("--format", choices=["csv", "json"], help="default: by extension")
    bulk.set_defaults(
        run=_identity_import,
        columns=IMPORT_COLUMNS,
        routes=(("POST", "/admin/v1/identities/import"),),
    )
    show = sub.add_parser("show", help="a user's masked identity and level")
    show.add_argument("user_id")
    show.set_defaults(
        run=_identity_show, routes=(("GET", "/admin/v1/identities/{user_id}"),)
    )
    pending = sub.add_parser("pending", help="self-service submissions awaiting review")
    pending.set_defaults(
        run=_identity_pending, routes=(("GET", "/admin/v1/identities/pending"),)
    )
    for verdict in ("approve", "reject"):
        decide = sub.add_parser(verdict, help=f"{verdict} a pending submission")
        decide.add_argument("submission_id")
        decide.add_argument("--reason")
        decide.set_defaults(
            run=_identity_decide,
            verdict=verdict,
            routes=(
                ("POST", f"/admin/v1/identities/pending/{{submission_id}}/{verdict}"),
            ),
        )
    verify = sub.add_parser("verify", help="verify one user with a document (A3 a)")
    verify.add_argument("user_id")
    verify.add_argument("--name", required=True)
    verify.add_argument(
        "--document-type",
        required=True,
        choices=[
            "resident_id",
            "hmt_residence_permit",
            "foreign_permanent_residence_id",
            "home_return_permit",
            "passport",
        ],
    )
    verify.add_argument("--document-number", required=True)
    verify.add_argument("--method", choices=["admin", "import"], help="default: admin")
    verify.set_defaults(
        run=_identity_verify, routes=(("PUT", "/admin/v1/identities/{user_id}"),)
    )
    guardian = sub.add_parser(
        "guardian-consent", help="record a guardian's consent for a minor (A7)"
    )
    guardian.add_argument("user_id")
    guardian.add_argument(
        "--reference", required=True, help="where the signed consent is kept"
    )
    guardian.set_defaults(
        run=_identity_guardian,
        routes=(("POST", "/admin/v1/identities/{user_id}/guardian_consent"),),
    )
    keys = sub.add_parser("keys", help="rows per encryption key (key rotation)")
    keys.set_defaults(
        run=_identity_keys, routes=(("GET", "/admin/v1/identities/keys"),)
    )
    reveal = sub.add_parser(
        "reveal",
        help="ask for the plaintext identity (audited); with four eyes another"
        " identity officer approves, then `reveal-read` shows it once",
    )
    reveal.add_argument("user_id")
    reveal.add_argument(
        "--reason", required=True, help="why; recorded in the audit log"
    )
    reveal.add_argument(
        "--no-statement",
        action="store_true",
        help="do not tell the person (a legal hold), where statements are on",
    )
    reveal.set_defaults(
        run=_identity_reveal,
        routes=(("POST", "/admin/v1/identities/{user_id}/reveal"),),
    )
    listing = sub.add_parser("reveals", help="reveal requests, newest first")
    listing.add_argument("--status", help="e.g. pending or pending,approved")
    listing.add_argument("--mine", action="store_true", help="only your own")
    listing.set_defaults(
        run=_reveal_list, routes=(("GET", "/admin/v1/identities/reveals"),)
    )
    for step, text in (
        ("approve", "approve another officer's reveal request"),
        ("refuse", "refuse a reveal request (or withdraw your own)"),
        ("read", "read the plaintext of your approved request, once"),
    ):
        command = sub.add_parser(f"reveal-{step}", help=text)
        command.add_argument("request_id")
        if step == "refuse":
            command.add_argument("--reason", required=True)
        command.set_defaults(
            run=_reveal_step, step=step, routes=REVEAL_STEP_ROUTES[step]
        )
