"""Which databases the integration tests run on, and a fresh one per homeserver.

SQLite always. PostgreSQL when `GROUPREG_TEST_POSTGRES` names a server
(a libpq URL or "host=... user=..." string) or when 127.0.0.1:5432 answers;
each homeserver then gets a database of its own, created here and dropped
when it stops. `GROUPREG_TEST_POSTGRES=off` skips PostgreSQL.
"""

from __future__ import annotations

import functools
import os
import secrets
from typing import Any

import psycopg2
import psycopg2.extensions

_DEFAULT_DSN = (
    "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
)


def postgres_dsn() -> str | None:
    """The maintenance DSN to create databases with, or None if unreachable."""
    return _probe(os.environ.get("GROUPREG_TEST_POSTGRES", "").strip())


@functools.cache
def _probe(setting: str) -> str | None:
    if setting.lower() in ("off", "no", "0", "false"):
        return None
    dsn = setting or _DEFAULT_DSN
    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.Error:
        return None
    conn.close()
    return dsn


def backends() -> list[str]:
    return ["sqlite", "postgres"] if postgres_dsn() else ["sqlite"]


def _admin_conn() -> Any:
    dsn = postgres_dsn()
    assert dsn is not None
    conn = psycopg2.connect(dsn)
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    return conn


def create_postgres_database() -> dict[str, Any]:
    """A new empty database as Synapse wants it (UTF8, C collation); returns
    the `args` block of Synapse's database config."""
    name = f"groupreg_test_{secrets.token_hex(5)}"
    conn = _admin_conn()
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
                " TEMPLATE template0"
            )
    finally:
        conn.close()
    params = psycopg2.extensions.parse_dsn(postgres_dsn() or "")
    return {
        "user": params.get("user", "postgres"),
        "host": params.get("host", "127.0.0.1"),
        "port": int(params.get("port", 5432)),
        "database": name,
        "cp_min": 1,
        "cp_max": 8,
    }


def drop_postgres_database(name: str) -> None:
    conn = _admin_conn()
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        conn.close()


def connect(args: dict[str, Any]) -> Any:
    """A psycopg2 connection to a homeserver's database (autocommit)."""
    conn = psycopg2.connect(
        host=args["host"], port=args["port"], user=args["user"], dbname=args["database"]
    )
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    return conn
