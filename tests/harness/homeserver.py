"""Real Synapse processes for the integration tests.

Each `Homeserver` is a fresh Synapse: its own folder, generated config and
signing key, free loopback ports, SQLite or a new PostgreSQL database, rate
limits relaxed, and synapse-groupreg loaded with the config the test group
gives. It is started as a child process, waited on until `/health` answers,
and stopped by PID.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import yaml
from signedjson.key import generate_signing_key, write_signing_keys

from tests.harness import databases

REPO = Path(__file__).resolve().parents[2]

#: Every running homeserver, so a failing test can show their logs.
RUNNING: list[Homeserver] = []

_RELAXED = {"per_second": 10000, "burst_count": 10000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _RELAXED,
    "rc_registration": _RELAXED,
    "rc_login": {"address": _RELAXED, "account": _RELAXED, "failed_attempts": _RELAXED},
    "rc_admin_redaction": _RELAXED,
    "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
    "rc_joins_per_room": _RELAXED,
    "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
    "rc_3pid_validation": _RELAXED,
    "rc_room_creation": _RELAXED,
    "rc_reports": _RELAXED,
    "rc_presence": {"per_user": _RELAXED},
    "rc_profile": _RELAXED,
}


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports come from the block just below the kernel's ephemeral range. Asking
# the kernel for port 0 hands out an ephemeral port, and between closing the
# probe and Synapse binding it an outgoing connection (a client, a database
# or federation connection) may take the same port: CI saw "Address already
# in use" that way. Outgoing connections never use ports below the range, and
# each run starts at a random place in the block and never hands a port out
# twice, so two runs on one machine are unlikely to meet either.
_PORT_BLOCK = 10_000
_port_high = _ephemeral_low()
_port_low = max(1024, _port_high - _PORT_BLOCK)


def _share_of_block() -> None:
    """Under pytest-xdist each worker takes its own slice of the block, so
    two workers of one run never hand out the same port."""
    global _port_low, _port_high
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count < 2:
        return
    index = int(worker[2:])
    size = (_port_high - _port_low) // count
    _port_low, _port_high = _port_low + index * size, _port_low + (index + 1) * size


_share_of_block()
_next_port = itertools.count(random.randrange(_port_high - _port_low))
_port_lock = threading.Lock()


def free_port() -> int:
    """A loopback port that nothing listens on and that this run has not
    handed out before."""
    span = _port_high - _port_low
    with _port_lock:
        for _ in range(span):
            port = _port_low + next(_next_port) % span
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError(f"no free loopback port in {_port_low}-{_port_high - 1}")


class Endpoint(Protocol):
    """What clients need of a server: where it answers (a homeserver, one
    process of a cluster, or the proxy in front of one)."""

    @property
    def base_url(self) -> str: ...


@attrs.frozen(slots=True)
class User:
    user_id: str
    access_token: str
    device_id: str
    localpart: str
    password: str


class HomeserverFailed(RuntimeError):
    pass


class Homeserver:
    """One Synapse process with the module loaded.

    Args:
        module_config: the module's `config:` block; None runs Synapse
            without the module (for baselines).
        backend: "sqlite" or "postgres".
        extra_config: homeserver.yaml keys to add or override.
        share_database_of: run as another process of that homeserver: same
            server name and database (PostgreSQL), own ports and folder.
        server_name: the server name, when it must differ from
            `localhost:<client port>` (federation names the TLS port).
        extra_listeners: listeners to add beside the client one.
    """

    def __init__(
        self,
        module_config: Mapping[str, Any] | None,
        backend: str = "sqlite",
        extra_config: Mapping[str, Any] | None = None,
        name: str = "hs",
        share_database_of: Homeserver | None = None,
        server_name: str | None = None,
        extra_listeners: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.backend = backend
        self.dir = Path(tempfile.mkdtemp(prefix=f"groupreg-{name}-"))
        self.port = free_port()
        self.server_name: str = (
            share_database_of.server_name
            if share_database_of
            else server_name or f"localhost:{self.port}"
        )
        self.extra_listeners = [dict(listener) for listener in extra_listeners]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.config_path = self.dir / "homeserver.yaml"
        self.log_path = self.dir / "homeserver.log"
        self.stderr_path = self.dir / "stderr.log"
        self.shared_secret = secrets.token_hex(16)
        self.owns_database = share_database_of is None
        self.db_args: dict[str, Any] = (
            dict(share_database_of.db_args)
            if share_database_of
            else databases.create_postgres_database()
            if backend == "postgres"
            else {"database": str(self.dir / "homeserver.db")}
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.module_config = dict(module_config) if module_config is not None else None
        self.extra_config = dict(extra_config or {})
        self._users = 0
        self.write_config()

    # -- configuration ------------------------------------------------------

    def synapse_config(self) -> dict[str, Any]:
        db: dict[str, Any] = (
            {"name": "psycopg2", "args": self.db_args}
            if self.backend == "postgres"
            else {"name": "sqlite3", "args": self.db_args}
        )
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "public_baseurl": self.base_url + "/",
            "pid_file": str(self.dir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client", "keys"], "compress": False}],
                },
                *self.extra_listeners,
            ],
            "database": db,
            "log_config": str(self.dir / "log.yaml"),
            "media_store_path": str(self.dir / "media"),
            "signing_key_path": str(self.dir / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "enable_registration": False,
            "bcrypt_rounds": 4,
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            **_RATE_LIMITS,
        }
        if self.module_config is not None:
            config["modules"] = [
                {
                    "module": "synapse_groupreg.GroupRegModule",
                    "config": self.module_config,
                }
            ]
        config.update(self.extra_config)
        return config

    def write_config(self) -> None:
        key_path = self.dir / "signing.key"
        if not key_path.exists():
            with key_path.open("w") as f:
                write_signing_keys(f, [generate_signing_key("a_test")])
        log_config = {
            "version": 1,
            "formatters": {
                "precise": {
                    "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s"
                    " - %(request)s - %(message)s"
                }
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "filters": ["context"],
                    "encoding": "utf8",
                }
            },
            "filters": {
                "context": {"()": "synapse.logging.context.LoggingContextFilter"}
            },
            "loggers": {
                "synapse": {"level": "INFO"},
                "synapse_groupreg": {"level": "DEBUG"},
                "synapse.storage.SQL": {"level": "INFO"},
            },
            "root": {"level": "INFO", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (self.dir / "log.yaml").write_text(yaml.safe_dump(log_config))
        self.config_path.write_text(
            yaml.safe_dump(self.synapse_config(), allow_unicode=True)
        )

    # -- process --------------------------------------------------------------

    def command(self) -> list[str]:
        """How the process is started (workers start differently)."""
        return [
            sys.executable,
            "-m",
            "synapse.app.homeserver",
            "-c",
            str(self.config_path),
        ]

    def start(self, timeout: float = 90.0) -> Homeserver:
        """Start Synapse and wait until it answers `/health`."""
        stderr = self.stderr_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.dir,
            stdout=stderr,
            stderr=stderr,
            env=self._env(),
        )
        stderr.close()
        RUNNING.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise HomeserverFailed(
                    f"Synapse exited with {code}:\n{self.output_tail()}"
                )
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(self.base_url + "/health", timeout=2) as r,
            ):
                if r.status == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise HomeserverFailed(f"Synapse did not become healthy:\n{self.output_tail()}")

    def _env(self) -> dict[str, str]:
        # The module under test is the checkout these tests belong to, even
        # when another copy is installed in the virtualenv.
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        return {**os.environ, "PYTHONPATH": path}

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the process by PID: SIGTERM, then SIGKILL if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self in RUNNING:
            RUNNING.remove(self)

    def restart(self) -> Homeserver:
        self.stop()
        return self.start()

    def destroy(self) -> None:
        """Stop, drop its PostgreSQL database and remove its folder (a failed
        test has shown the log by then; `GROUPREG_KEEP_SERVERS=1` keeps the
        folders for a closer look)."""
        self.stop()
        if self.backend == "postgres" and self.owns_database:
            databases.drop_postgres_database(self.db_args["database"])
        if not os.environ.get("GROUPREG_KEEP_SERVERS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def run_to_exit(self, timeout: float = 60.0) -> tuple[int, str]:
        """Run Synapse expecting it to stop by itself (bad config); returns
        the exit code and everything it printed."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(self.config_path),
            ],
            cwd=self.dir,
            capture_output=True,
            env=self._env(),
            timeout=timeout,
            check=False,
        )
        return result.returncode, (result.stdout + result.stderr).decode(
            "utf-8", "replace"
        )

    def output_tail(self, lines: int = 80) -> str:
        parts = []
        for path in (self.stderr_path, self.log_path):
            if path.exists():
                text = path.read_text("utf-8", "replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(parts)

    def log_text(self) -> str:
        return (
            self.log_path.read_text("utf-8", "replace")
            if self.log_path.exists()
            else ""
        )

    # -- users ------------------------------------------------------------------

    def register(self, localpart: str | None = None, admin: bool = False) -> User:
        """Register through the shared-secret admin API."""
        self._users += 1
        localpart = localpart or f"user{self._users}_{secrets.token_hex(3)}"
        password = secrets.token_hex(8)
        nonce = self._http("GET", "/_synapse/admin/v1/register")["nonce"]
        kind = "admin" if admin else "notadmin"
        mac = hmac.new(
            self.shared_secret.encode(),
            b"\x00".join(p.encode() for p in (nonce, localpart, password, kind)),
            hashlib.sha1,
        ).hexdigest()
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac,
        }
        answer = self._http("POST", "/_synapse/admin/v1/register", body)
        return User(
            answer["user_id"],
            answer["access_token"],
            answer["device_id"],
            localpart,
            password,
        )

    def _http(
        self, method: str, path: str, body: object = None, token: str | None = None
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    # -- database ---------------------------------------------------------------

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run SQL on the homeserver's own database (tests that tamper or
        look behind the API). `?` placeholders on both engines."""
        if self.backend == "postgres":
            conn = databases.connect(self.db_args)
            try:
                with conn.cursor() as cur:
                    cur.execute(query.replace("?", "%s"), tuple(params))
                    return list(cur.fetchall()) if cur.description else []
            finally:
                conn.close()
        lite = sqlite3.connect(self.db_args["database"], timeout=30)
        try:
            cur = lite.execute(query, tuple(params))
            rows = cur.fetchall()
            lite.commit()
            return rows
        finally:
            lite.close()


@contextlib.contextmanager
def running(
    module_config: Mapping[str, Any] | None,
    backend: str = "sqlite",
    extra_config: Mapping[str, Any] | None = None,
) -> Iterator[Homeserver]:
    hs = Homeserver(module_config, backend, extra_config)
    try:
        yield hs.start()
    finally:
        hs.destroy()
