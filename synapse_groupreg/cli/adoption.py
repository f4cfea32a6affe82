"""`groupreg adoption status|report` and `groupreg uninstall`: adopting an
existing server and the clean way back (H1, H3, H6)."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from synapse_groupreg.cli.client import AdminClient, ApiError, quoted
from synapse_groupreg.store import uninstall

MODULE = "synapse_groupreg.GroupRegModule"


def _status(client: AdminClient, args: argparse.Namespace) -> Any:
    answer = client.call("GET", "/adoption")
    return {k: answer[k] for k in ("enabled", "progress", "last_pass", "enforcement")}


def _report(client: AdminClient, args: argparse.Namespace) -> Any:
    answer = client.call("GET", "/adoption")
    return {"report": answer["report"], "observed": answer["observed"]}


class UninstallRefused(Exception):
    pass


def _connect(database: dict[str, Any], base: Path) -> tuple[Any, str]:
    name = database.get("name", "sqlite3")
    args = dict(database.get("args") or {})
    if name == "sqlite3":
        path = Path(str(args.get("database", "homeserver.db")))
        if str(path) == ":memory:":
            raise UninstallRefused("an in-memory database holds nothing to remove")
        if not path.is_absolute():
            path = base / path
        if not path.exists():
            raise UninstallRefused(f"no SQLite database at {path}")
        return sqlite3.connect(str(path)), "sqlite"
    if name == "psycopg2":
        import psycopg2

        keys = ("host", "port", "user", "password", "database", "dbname", "sslmode")
        params = {k: v for k, v in args.items() if k in keys}
        if "database" in params:
            params["dbname"] = params.pop("database")
        return psycopg2.connect(**params), "postgres"
    raise UninstallRefused(f"database.name {name!r} is not sqlite3 or psycopg2")


def _uninstall(client: AdminClient, args: argparse.Namespace) -> Any:
    """H6: what would be removed (--dry-run, the default), or remove it
    (--confirm): identity data first, then the module's tables; then the
    notice bot is deactivated through Synapse's admin API."""
    config_path = Path(args.config)
    config = yaml.safe_load(config_path.read_text()) or {}
    loaded = [m for m in config.get("modules") or () if m.get("module") == MODULE]
    if loaded and not args.force:
        raise UninstallRefused(
            f"{config_path} still loads {MODULE}: remove it from `modules:` and "
            "restart Synapse first (a loaded module would make its tables again)"
        )
    server_name = str(config.get("server_name", ""))
    bot_localpart = (
        args.bot
        or (
            ((loaded[0].get("config") or {}).get("notices") or {}).get("bot_localpart")
            if loaded
            else None
        )
        or "groupreg"
    )
    bot = f"@{bot_localpart}:{server_name}"
    conn, engine = _connect(config.get("database") or {}, config_path.parent)
    try:
        tables = uninstall.inventory(conn, engine)
        plan = {
            "database": engine,
            "tables": {t.name: t.rows for t in tables},
            "identity_rows": uninstall.identity_rows(conn, tables),
            "notice_bot": bot,
            "stays_in_matrix": {
                "rooms_with_org.groupreg.room_state": (
                    uninstall.rooms_with_registration_state(conn)
                ),
                "note": "room state and past events cannot be deleted in Matrix;"
                " rooms created non-federating (m.federate: false) stay so",
            },
        }
        if not args.confirm:
            return {"dry_run": True, **plan}
        erased = uninstall.erase_identity(conn, engine, tables)
        uninstall.drop_tables(conn, engine, tables)
    finally:
        conn.close()
    return {
        "dry_run": False,
        **plan,
        "identity_rows_erased": erased,
        "tables_dropped": len(tables),
        "notice_bot_deactivated": _deactivate(client, bot),
    }


def _deactivate(client: AdminClient, bot: str) -> Any:
    if not client.token:
        return f"not done: deactivate {bot} with Synapse's admin API (needs a token)"
    try:
        client.call(
            "POST",
            f"/_synapse/admin/v1/deactivate/{quoted(bot)}",
            {"erase": True},
            prefix="",
        )
    except ApiError as e:
        return f"failed ({e.status}): {e.body}"
    except OSError as e:
        return f"failed: {e}"
    return True


def add_commands(commands: Any) -> None:
    adoption = commands.add_parser("adoption", help="adopting an existing server")
    which = adoption.add_subparsers(dest="adoption_command", required=True)
    status = which.add_parser("status", help="progress and enforcement modes")
    status.set_defaults(run=_status, routes=(("GET", "/admin/v1/adoption"),))
    report = which.add_parser(
        "report", help="what enforcement would change, and observed refusals"
    )
    report.set_defaults(run=_report, routes=(("GET", "/admin/v1/adoption"),))

    remove = commands.add_parser(
        "uninstall",
        help="remove the module's data (run after unloading the module)",
        description="Lists (default) or removes (--confirm) the module's tables,"
        " identity data first, and deactivates the notice bot. Reads the database"
        " from homeserver.yaml; refuses while homeserver.yaml still loads the"
        " module.",
    )
    remove.add_argument("--config", required=True, help="homeserver.yaml")
    mode = remove.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only list (default)")
    mode.add_argument("--confirm", action="store_true", help="remove everything")
    remove.add_argument("--bot", help="the notice bot's localpart (default groupreg)")
    remove.add_argument(
        "--force", action="store_true", help="even if homeserver.yaml loads it"
    )
    remove.set_defaults(run=_uninstall, needs_token=False, routes=())
