"""`groupreg keywords ...` and `groupreg content ...`: the prohibited-content
lists and records from a shell (C2, C4). Registered by `cli.build_parser`."""

from __future__ import annotations

import argparse
import urllib.parse
from typing import TYPE_CHECKING, Any

from synapse_groupreg.cli.client import add_paging, listing

if TYPE_CHECKING:
    from synapse_groupreg.cli.client import AdminClient


HIT_COLUMNS = (
    "id",
    "ts",
    "user_id",
    "room_id",
    "field",
    "category",
    "action",
    "keyword",
)


def _keywords_list(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", "/keywords")


def _category_path(category: str) -> str:
    return "/keywords/" + urllib.parse.quote(category, safe="")


def _keywords_show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", _category_path(args.category))


def _keywords_set(client: AdminClient, args: argparse.Namespace) -> Any:
    body: dict[str, Any] = {}
    if args.action is not None:
        body["action"] = args.action
    if args.credit_penalty is not None:
        body["credit_penalty"] = args.credit_penalty
    return client.call("PUT", _category_path(args.category), body)


def _keywords_delete(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("DELETE", _category_path(args.category))


def _keywords_import(client: AdminClient, args: argparse.Namespace) -> Any:
    """Upload a list file as it is: the server reports bad lines by number
    (including lines that are not UTF-8) and stores the rest."""
    with open(args.file, "rb") as f:
        data = f.read()
    if args.action is not None or args.credit_penalty is not None:
        # Create (or change) the category first, keeping its lists.
        _keywords_set(client, args)
    return client.call(
        "POST",
        _category_path(args.category) + "/import",
        query={
            "list": "exceptions" if args.exceptions else "words",
            "mode": "replace" if args.replace else "append",
        },
        raw=data,
        content_type="text/plain; charset=utf-8",
    )


def _content_test(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("POST", "/content/test", {"text": args.text})


def _content_hits(client: AdminClient, args: argparse.Namespace) -> Any:
    query = {
        "user_id": args.user,
        "action": args.action,
        "category": args.category,
        "since": args.since,
    }
    return listing(client, args, "/content/hits", "hits", query)


def add_commands(commands: Any) -> None:
    """`groupreg keywords ...` and `groupreg content ...` (C2, C4)."""
    keywords = commands.add_parser("keywords", help="prohibited-content lists")
    cmds = keywords.add_subparsers(dest="keywords_command", required=True)
    cmds.add_parser("list", help="categories and list sizes").set_defaults(
        run=_keywords_list, routes=(("GET", "/admin/v1/keywords"),)
    )
    show = cmds.add_parser("show", help="one category with its lists")
    show.add_argument("category")
    show.set_defaults(
        run=_keywords_show, routes=(("GET", "/admin/v1/keywords/{category}"),)
    )

    def action_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--action", choices=["block", "review"])
        p.add_argument("--credit-penalty", type=int, dest="credit_penalty")

    setting = cmds.add_parser(
        "set", help="create a category or change its action and penalty"
    )
    setting.add_argument("category")
    action_options(setting)
    setting.set_defaults(
        run=_keywords_set, routes=(("PUT", "/admin/v1/keywords/{category}"),)
    )
    delete = cmds.add_parser("delete", help="remove a category and its lists")
    delete.add_argument("category")
    delete.set_defaults(
        run=_keywords_delete, routes=(("DELETE", "/admin/v1/keywords/{category}"),)
    )
    importing = cmds.add_parser(
        "import",
        help="add a list file (UTF-8, one entry a line); bad lines are "
        "reported by number, the rest stored",
    )
    importing.add_argument("category")
    importing.add_argument("file")
    importing.add_argument(
        "--exceptions", action="store_true", help="the file is the exception list"
    )
    importing.add_argument(
        "--replace", action="store_true", help="replace the list instead of adding"
    )
    action_options(importing)
    importing.set_defaults(
        run=_keywords_import,
        routes=(
            ("PUT", "/admin/v1/keywords/{category}"),
            ("POST", "/admin/v1/keywords/{category}/import"),
        ),
    )

    content = commands.add_parser("content", help="the content filter's records")
    content_cmds = content.add_subparsers(dest="content_command", required=True)
    test = content_cmds.add_parser("test", help="which categories a text would hit")
    test.add_argument("text")
    test.set_defaults(run=_content_test, routes=(("POST", "/admin/v1/content/test"),))
    hits = content_cmds.add_parser("hits", help="refusals and review records")
    hits.add_argument("--user")
    hits.add_argument("--action", choices=["block", "review"])
    hits.add_argument("--category")
    hits.add_argument("--since", type=int, help="ms since the epoch")
    add_paging(hits)
    hits.set_defaults(
        run=_content_hits,
        columns=HIT_COLUMNS,
        routes=(("GET", "/admin/v1/content/hits"),),
    )
