"""`groupreg media ...` and `groupreg links ...`: the media lists (C7) and
link lists (C8) from a shell. Registered by `cli.build_parser`.

`import` reads hashes or domains locally and sends the category's new lists
with one PUT (merged with what is listed, unless `--replace`):

- `groupreg media import CATEGORY DIR` hashes every file under DIR:
  SHA-256 of each, and the perceptual hash of each image (Pillow);
- `groupreg media import CATEGORY FILE` reads a hash file: one hash a
  line, `sha256:<64 hex>` or `phash:<16 hex>` (a bare hash is told by its
  length), `#` comment lines;
- `groupreg links import CATEGORY FILE` reads one domain (or URL) a line.

Lines that are not what they should be are reported by number and left out.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from synapse_groupreg.cli.client import ApiError

if TYPE_CHECKING:
    from synapse_groupreg.cli.client import AdminClient

_KINDS = {"media": ("sha256", "phash"), "links": ("domains",)}


def _path(family: str, category: str) -> str:
    return f"/{family}/" + urllib.parse.quote(category, safe="")


def _list(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", f"/{args.family}")


def _show(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("GET", _path(args.family, args.category))


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if args.action is not None:
        body["action"] = args.action
    if args.credit_penalty is not None:
        body["credit_penalty"] = args.credit_penalty
    return body


def _set(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("PUT", _path(args.family, args.category), _settings(args))


def _delete(client: AdminClient, args: argparse.Namespace) -> Any:
    return client.call("DELETE", _path(args.family, args.category))


def _lines(path: str) -> Iterator[tuple[int, str]]:
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            text = line.strip()
            if text and not text.startswith("#"):
                yield number, text


def hash_entry(text: str) -> tuple[str, str] | None:
    """(kind, hash) of one line of a hash file, or None."""
    kind, _, value = text.partition(":")
    if not value:
        kind, value = ("sha256" if len(text) == 64 else "phash"), text
    value = value.strip().lower()
    digits = {"sha256": 64, "phash": 16}.get(kind.strip().lower())
    if digits is None or len(value) != digits:
        return None
    try:
        int(value, 16)
    except ValueError:
        return None
    return kind.strip().lower(), value


def hash_directory(
    folder: str,
) -> tuple[dict[str, list[str]], list[dict[str, Any]], int]:
    """The hashes of every file under `folder`: (lists, problems, files)."""
    from synapse_groupreg.media.hashing import listed_phash

    found: dict[str, list[str]] = {"sha256": [], "phash": []}
    problems: list[dict[str, Any]] = []
    files = 0
    for root, _, names in sorted(os.walk(folder)):
        for name in sorted(names):
            path = os.path.join(root, name)
            files += 1
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
                f.seek(0)
                phash = listed_phash(f)
            found["sha256"].append(digest)
            if phash is None:
                problems.append(
                    {"line": path, "error": "not an image: listed by SHA-256 only"}
                )
            else:
                found["phash"].append(f"{phash:016x}")
    return found, problems, files


def _read(args: argparse.Namespace) -> tuple[dict[str, list[str]], list[Any], int]:
    if args.family == "media":
        if os.path.isdir(args.path):
            return hash_directory(args.path)
        found: dict[str, list[str]] = {"sha256": [], "phash": []}
        problems: list[dict[str, Any]] = []
        read = 0
        for number, text in _lines(args.path):
            read += 1
            entry = hash_entry(text)
            if entry is None:
                problems.append(
                    {
                        "line": number,
                        "error": "is not 'sha256:<64 hex>' or 'phash:<16 hex>'",
                    }
                )
            else:
                found[entry[0]].append(entry[1])
        return found, problems, read
    domains = [text for _, text in _lines(args.path)]
    return {"domains": domains}, [], len(domains)


def _import(client: AdminClient, args: argparse.Namespace) -> Any:
    lists, problems, read = _read(args)
    lists = {kind: values for kind, values in lists.items() if values or args.replace}
    body = _settings(args)
    if not args.replace:
        try:
            current = client.call("GET", _path(args.family, args.category))
        except ApiError as e:
            if e.status != 404:
                raise
            current = {}
        for kind in lists:
            held = list(current.get(kind, []))
            known = set(held)
            lists[kind] = held + [v for v in lists[kind] if v not in known]
    body.update(lists)
    answer = client.call("PUT", _path(args.family, args.category), body)
    return {
        "category": args.category,
        "read": read,
        **{kind: len(answer.get(kind, [])) for kind in _KINDS[args.family]},
        "version": answer.get("version"),
        "errors": problems,
    }


def add_commands(commands: Any) -> None:
    """`groupreg media ...` (C7) and `groupreg links ...` (C8)."""
    helps = {
        "media": ("media lists: SHA-256 and perceptual hashes", "a directory of "
                  "files to hash, or a hash file (sha256:<hex> / phash:<hex> a line)"),
        "links": ("link lists: denied domains", "a file of domains, one a line"),
    }  # fmt: skip
    for family, (about, source) in helps.items():
        group = commands.add_parser(family, help=about)
        cmds = group.add_subparsers(dest=f"{family}_command", required=True)
        one = f"/admin/v1/{family}/{{category}}"
        cmds.add_parser("list", help="categories and list sizes").set_defaults(
            run=_list, family=family, routes=(("GET", f"/admin/v1/{family}"),)
        )
        show = cmds.add_parser("show", help="one category with its lists")
        show.add_argument("category")
        show.set_defaults(run=_show, family=family, routes=(("GET", one),))

        def action_options(p: argparse.ArgumentParser) -> None:
            p.add_argument("--action", choices=["block", "review"])
            p.add_argument("--credit-penalty", type=int, dest="credit_penalty")

        setting = cmds.add_parser(
            "set", help="create a category or change its action and penalty"
        )
        setting.add_argument("category")
        action_options(setting)
        setting.set_defaults(run=_set, family=family, routes=(("PUT", one),))
        delete = cmds.add_parser("delete", help="remove a category and its lists")
        delete.add_argument("category")
        delete.set_defaults(run=_delete, family=family, routes=(("DELETE", one),))
        importing = cmds.add_parser(
            "import", help=f"add to a category's lists from {source}"
        )
        importing.add_argument("category")
        importing.add_argument("path")
        importing.add_argument(
            "--replace", action="store_true", help="replace the lists instead"
        )
        action_options(importing)
        importing.set_defaults(
            run=_import, family=family, routes=(("GET", one), ("PUT", one))
        )
