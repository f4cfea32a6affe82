"""The large-server topology of `deploy/topology.py` as real processes: a
main process, two event persisters, a background-tasks worker, a sync
worker, a client reader and a federation sender on one PostgreSQL database
and Redis, behind a real nginx routing with the rules the container stack
uses too (`deploy/nginx.py`).

    cluster = Cluster(module_config).start()
    cluster.front          # the proxy: what clients talk to
    cluster.process("sync")  # one process, to talk to it directly
    cluster.destroy()
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deploy.nginx import render_server
from deploy.topology import (
    HTTP,
    LARGE_SERVER,
    MAIN,
    METRICS,
    REPLICATION,
    Instance,
    Topology,
)
from tests.harness.homeserver import Homeserver, free_port
from tests.harness.proxy import Nginx, nginx_binary
from tests.harness.workers import Worker, redis_config
from tests.harness.workers import skip_reason as workers_skip_reason

LOOPBACK = "127.0.0.1"


def skip_reason(backend: str) -> str | None:
    """Why the topology cannot run here, or None."""
    why = workers_skip_reason(backend)
    if why is None and nginx_binary() is None:
        why = "the topology tests route through nginx, which is not installed"
    return why


class _Main(Homeserver):
    """The main process with the listeners the topology gives it."""

    def __init__(
        self,
        cluster: Cluster,
        module_config: Mapping[str, Any] | None,
        extra_config: Mapping[str, Any],
    ) -> None:
        self._cluster = cluster
        super().__init__(module_config, "postgres", extra_config, name="main")

    def synapse_config(self) -> dict[str, Any]:
        config = super().synapse_config()
        topology = self._cluster.topology
        config["listeners"] = topology.listeners(
            topology.instance(MAIN), LOOPBACK, self._port_of
        )
        return config

    def _port_of(self, instance: Instance, kind: str) -> int:
        if (instance.name, kind) == (MAIN, HTTP):
            return self.port
        return self._cluster.port_of(instance, kind)


class Cluster:
    """Every process of `topology`, with the module loaded from
    `module_config` (None: plain Synapse, for baselines)."""

    def __init__(
        self,
        module_config: Mapping[str, Any] | None,
        topology: Topology = LARGE_SERVER,
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.topology = topology
        self._ports: dict[tuple[str, str], int] = {}
        for instance in topology.instances:
            self._ports[(instance.name, METRICS)] = free_port()
            if instance.replication_port is not None:
                self._ports[(instance.name, REPLICATION)] = free_port()
        shared = topology.shared_config(lambda _: LOOPBACK, self.port_of)
        self.main = _Main(
            self,
            module_config,
            {
                **(extra_config or {}),
                **shared,
                "enable_metrics": True,
                "redis": redis_config(self._ports[(MAIN, REPLICATION)]),
            },
        )
        self._ports[(MAIN, HTTP)] = self.main.port
        self.workers: dict[str, Worker] = {}
        for instance in topology.workers:
            worker = Worker(self.main, instance.name, self._worker_config(instance))
            self.workers[instance.name] = worker
            self._ports[(instance.name, HTTP)] = worker.port
        proxy_port = free_port()
        self.front = Nginx(
            render_server(
                topology,
                f"{LOOPBACK}:{proxy_port}",
                lambda i: f"{LOOPBACK}:{self.port_of(i, HTTP)}",
            ),
            proxy_port,
        )

    def _worker_config(self, instance: Instance) -> Any:
        def config(worker: Worker) -> dict[str, Any]:
            def port_of(i: Instance, kind: str) -> int:
                if (i.name, kind) == (instance.name, HTTP):
                    return worker.port
                return self.port_of(i, kind)

            return self.topology.worker_config(
                instance, LOOPBACK, port_of, worker.paths()
            )

        return config

    def port_of(self, instance: Instance, kind: str) -> int:
        return self._ports[(instance.name, kind)]

    # -- processes -------------------------------------------------------------

    def process(self, name: str) -> Homeserver:
        """One process by its instance name ("main", "sync", ...)."""
        return self.main if name == MAIN else self.workers[name]

    @property
    def processes(self) -> dict[str, Homeserver]:
        return {MAIN: self.main, **self.workers}

    def request_takers(self) -> dict[str, Homeserver]:
        """The processes with a client listener: each one creates events
        for the requests it gets."""
        return {
            i.name: self.process(i.name)
            for i in self.topology.instances
            if i.takes_requests
        }

    def start(self) -> Cluster:
        """The main process first (it applies the module's schema), then
        every worker at once, then the proxy."""
        try:
            self.main.start()
            with ThreadPoolExecutor(len(self.workers)) as pool:
                for future in [pool.submit(w.start) for w in self.workers.values()]:
                    future.result()
            self.front.start()
        except Exception:
            self.destroy()
            raise
        return self

    def destroy(self) -> None:
        """Stop the proxy and every process (workers first), drop the
        database."""
        self.front.destroy()
        for worker in self.workers.values():
            worker.destroy()
        self.main.destroy()

    def metrics(self, name: str) -> str:
        """One process's Prometheus text."""
        url = f"http://{LOOPBACK}:{self._ports[(name, METRICS)]}/_synapse/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            text: str = r.read().decode()
        return text
