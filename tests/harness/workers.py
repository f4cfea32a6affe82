"""A Synapse main process with generic workers, as Synapse's worker docs set
them up: PostgreSQL shared by all, Redis for replication, the main process
reachable on a replication listener named in `instance_map`, and one config
file per worker beside the shared homeserver.yaml.

Workers need PostgreSQL and Redis (127.0.0.1:6379 here); `skip_reason`
says why a test cannot run when either is missing. Redis's pub/sub channel
is named after the server name, which carries a fresh port per test run, so
parallel runs share a Redis without hearing each other; each run also uses
a Redis database number of its own for the keys Synapse caches there.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import yaml

from tests.harness import databases
from tests.harness.homeserver import Homeserver, free_port

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379


def redis_reachable() -> bool:
    """Whether a Redis answers PING on 127.0.0.1:6379."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def skip_reason(backend: str) -> str | None:
    """Why workers cannot run on `backend` here, or None if they can."""
    if backend != "postgres":
        return "Synapse workers need PostgreSQL; this run is on SQLite"
    if databases.postgres_dsn() is None:
        return "Synapse workers need PostgreSQL, which is not reachable"
    if not redis_reachable():
        return f"Synapse workers need Redis, not reachable at {REDIS_HOST}:{REDIS_PORT}"
    return None


class Worker(Homeserver):
    """A generic worker of `main`: same server name and database, its own
    listener, config file and log. `worker_config(worker)` gives the worker's
    own config file (default: one client listener on `worker.port`)."""

    def __init__(
        self,
        main: Homeserver,
        worker_name: str,
        worker_config: Callable[[Worker], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            main.module_config,
            main.backend,
            main.extra_config,
            name=worker_name,
            share_database_of=main,
        )
        self.main = main
        self.worker_name = worker_name
        self.worker_config_path = self.dir / f"{worker_name}.yaml"
        config = (worker_config or _client_worker)(self)
        self.worker_config_path.write_text(yaml.safe_dump(config))

    def paths(self) -> dict[str, str]:
        """Where its log config and pid file are."""
        return {
            "log_config": str(self.dir / "log.yaml"),
            "pid_file": str(self.dir / f"{self.worker_name}.pid"),
        }

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "synapse.app.generic_worker",
            "-c",
            str(self.main.config_path),
            "-c",
            str(self.worker_config_path),
        ]


def _client_worker(worker: Worker) -> dict[str, Any]:
    return {
        "worker_app": "synapse.app.generic_worker",
        "worker_name": worker.worker_name,
        "worker_listeners": [
            {
                "type": "http",
                "port": worker.port,
                "bind_addresses": ["127.0.0.1"],
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "worker_log_config": worker.paths()["log_config"],
        "worker_pid_file": worker.paths()["pid_file"],
    }


def redis_config(dbid_seed: int) -> dict[str, Any]:
    """Synapse's `redis` block for a run's processes (a database number
    of their own, from a port of theirs)."""
    return {
        "enabled": True,
        "host": REDIS_HOST,
        "port": REDIS_PORT,
        "dbid": dbid_seed % 16,
    }


def main_with_workers(
    module_config: Mapping[str, Any] | None,
    workers: int = 1,
    extra_config: Mapping[str, Any] | None = None,
    share_database_of: Homeserver | None = None,
    together: bool = False,
) -> tuple[Homeserver, list[Worker]]:
    """Start a main process and `workers` generic workers on a new PostgreSQL
    database (or that of `share_database_of`, whose Synapse schema is then
    ready); stop them with `destroy()` (workers first). `together` starts
    every process at the same moment instead of the main process first."""
    replication_port = free_port()
    main = Homeserver(
        module_config,
        "postgres",
        {
            **(extra_config or {}),
            "instance_map": {"main": {"host": "127.0.0.1", "port": replication_port}},
            "redis": redis_config(replication_port),
        },
        name="main",
        share_database_of=share_database_of,
        extra_listeners=[
            {
                "port": replication_port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "resources": [{"names": ["replication"]}],
            }
        ],
    )
    started = [Worker(main, f"worker{n + 1}") for n in range(workers)]
    try:
        if together:
            with ThreadPoolExecutor(len(started) + 1) as pool:
                for future in [pool.submit(p.start) for p in (main, *started)]:
                    future.result()
        else:
            main.start()
            for worker in started:
                worker.start()
    except Exception:
        for worker in started:
            worker.destroy()
        main.destroy()
        raise
    return main, started
