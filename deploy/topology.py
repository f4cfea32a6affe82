"""The worker topology of a large Synapse server, described once.

Three things are made from this description, so they cannot drift apart:

- the test harness starts these processes and an nginx in front of them
  (`tests/harness/topology.py`), and the topology tests prove the module's
  rules hold there (`tests/integration/test_topology.py`);
- the container stack (`docker/compose.yaml`, its worker configs, nginx and
  Prometheus configs), written by `scripts/stack.py generate`;
- the reverse proxy's routing (`deploy/nginx.py`), the same in both.

The shape is the one Synapse's worker documentation (docs/workers.md,
Synapse 1.163) describes for a big server: the main process, event
persistence sharded over two `stream_writers.events` workers, background
tasks moved to a worker (`run_background_tasks_on`), a sync worker and a
client reader for the client API, and a federation sender
(`federation_sender_instances`). Routing follows that page's lists of
endpoints per worker type (section "synapse.app.generic_worker"):

- "Sync requests" go to the sync worker;
- "Event sending requests" go round robin to the two event persisters,
  which also create the events (the page: event sending "can be balanced
  by the room ID in the URI (or the full URI, or even just round robin)");
  Synapse then persists each room's events on the persister its room id
  hashes to, so one room's concurrent joins are created on both;
- "Client API requests", "Encryption requests", "Registration/login
  requests", user directory search and room pagination go to the client
  reader;
- everything else, the module's own API included, goes to the main process
  (Synapse's report endpoints are only served there: rest/__init__.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

MAIN = "main"

#: Listener kinds an instance can have; a port is chosen per (instance, kind).
HTTP, REPLICATION, METRICS = "http", "replication", "metrics"


@attrs.frozen(slots=True)
class Instance:
    """One Synapse process.

    Attributes:
        name: "main", or the worker's `worker_name`.
        role: what it does, in a few words (comments, docs).
        http_port: its HTTP listener (in containers; tests pick free ports).
            Every HTTP listener answers `/health`.
        resources: the resource names on that listener; empty for processes
            that take no requests (health only).
        replication_port: its replication listener, for the main process and
            the stream writers that `instance_map` must name.
        metrics_port: its Prometheus listener.
    """

    name: str
    role: str
    http_port: int
    resources: tuple[str, ...]
    metrics_port: int
    replication_port: int | None = None

    @property
    def is_main(self) -> bool:
        return self.name == MAIN

    @property
    def app(self) -> str:
        if self.is_main:
            return "synapse.app.homeserver"
        return "synapse.app.generic_worker"

    @property
    def takes_requests(self) -> bool:
        return "client" in self.resources


@attrs.frozen(slots=True)
class Route:
    """Requests whose path matches one of `patterns` go to `to` (several
    instances: round robin). `group` is the heading of the list in
    Synapse's worker documentation the patterns come from."""

    group: str
    patterns: tuple[str, ...]
    to: tuple[str, ...]
    #: The proxy's name for the instances in `to`.
    upstream: str


@attrs.frozen(slots=True)
class Topology:
    instances: tuple[Instance, ...]
    #: In order: the first route whose pattern matches wins; the rest go
    #: to the main process.
    routes: tuple[Route, ...]
    event_persisters: tuple[str, ...]
    background: str
    federation_senders: tuple[str, ...]

    def instance(self, name: str) -> Instance:
        for instance in self.instances:
            if instance.name == name:
                return instance
        raise KeyError(name)

    @property
    def workers(self) -> tuple[Instance, ...]:
        return tuple(i for i in self.instances if not i.is_main)

    def shared_config(
        self, host_of: Callable[[Instance], str], port_of: PortOf
    ) -> dict[str, Any]:
        """The keys every process reads (homeserver.yaml): where to reach
        the main process and the event persisters, who writes the events
        stream, who runs background tasks, who sends federation traffic."""
        return {
            "instance_map": {
                i.name: {"host": host_of(i), "port": port_of(i, REPLICATION)}
                for i in self.instances
                if i.replication_port is not None
            },
            "stream_writers": {"events": list(self.event_persisters)},
            "run_background_tasks_on": self.background,
            "federation_sender_instances": list(self.federation_senders),
        }

    def listeners(
        self,
        instance: Instance,
        bind: str,
        port_of: PortOf,
        consent: bool = False,
    ) -> list[dict[str, Any]]:
        """The instance's listeners: HTTP (with `x_forwarded`, as it sits
        behind the proxy), replication where it has one, metrics. `consent`
        adds Synapse's consent pages (the covenant, A9) to the main
        process, where the proxy's default route sends `/_matrix/consent`."""
        http_names = list(instance.resources) or ["health"]
        if consent and instance.is_main:
            http_names.append("consent")
        found: list[dict[str, Any]] = [
            {
                "type": "http",
                "port": port_of(instance, HTTP),
                "bind_addresses": [bind],
                "x_forwarded": True,
                "resources": [{"names": http_names, "compress": False}],
            }
        ]
        if instance.replication_port is not None:
            found.append(
                {
                    "type": "http",
                    "port": port_of(instance, REPLICATION),
                    "bind_addresses": [bind],
                    "resources": [{"names": ["replication"]}],
                }
            )
        found.append(
            {
                "type": "metrics",
                "port": port_of(instance, METRICS),
                "bind_addresses": [bind],
            }
        )
        return found

    def worker_config(
        self, instance: Instance, bind: str, port_of: PortOf, paths: Mapping[str, str]
    ) -> dict[str, Any]:
        """A worker's own config file (beside the shared homeserver.yaml).
        `paths` gives `log_config` and `pid_file`."""
        assert not instance.is_main
        return {
            "worker_app": instance.app,
            "worker_name": instance.name,
            "worker_listeners": self.listeners(instance, bind, port_of),
            "worker_log_config": paths["log_config"],
            "worker_pid_file": paths["pid_file"],
        }

    def upstreams(self) -> dict[str, tuple[str, ...]]:
        """The proxy's upstreams, by name: the routes' and the main
        process's (where everything else goes)."""
        found: dict[str, tuple[str, ...]] = {MAIN: (MAIN,)}
        for route in self.routes:
            found.setdefault(route.upstream, route.to)
        return found


#: `port_of(instance, kind)`: the port of one listener of an instance.
PortOf = Callable[[Instance, str], int]


def fixed_ports(instance: Instance, kind: str) -> int:
    """The ports written in the description (containers use these)."""
    port = {
        HTTP: instance.http_port,
        REPLICATION: instance.replication_port,
        METRICS: instance.metrics_port,
    }[kind]
    if port is None:
        raise KeyError(f"{instance.name} has no {kind} listener")
    return port


_CS = "^/_matrix/client/(api/v1|r0|v3|unstable)"
_CS3 = "^/_matrix/client/(r0|v3|unstable)"

SYNC: Sequence[str] = (
    "^/_matrix/client/(r0|v3)/sync$",
    "^/_matrix/client/(api/v1|r0|v3)/events$",
    "^/_matrix/client/(api/v1|r0|v3)/initialSync$",
    "^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$",
)
EVENT_SENDING: Sequence[str] = (
    f"{_CS}/rooms/.*/redact",
    f"{_CS}/rooms/.*/send",
    f"{_CS}/rooms/.*/state/",
    f"{_CS}/rooms/.*/(join|invite|leave|ban|unban|kick)$",
    f"{_CS}/join/",
    f"{_CS}/knock/",
    f"{_CS}/profile/",
)
CLIENT_READER: Sequence[str] = (
    # Client API requests
    f"{_CS}/createRoom$",
    f"{_CS}/publicRooms$",
    f"{_CS}/rooms/.*/joined_members$",
    f"{_CS}/rooms/.*/context/.*$",
    f"{_CS}/rooms/.*/members$",
    f"{_CS}/rooms/.*/state$",
    "^/_matrix/client/v1/rooms/.*/hierarchy$",
    "^/_matrix/client/(v1|unstable)/rooms/.*/relations/",
    "^/_matrix/client/v1/rooms/.*/threads$",
    f"{_CS3}/account/3pid$",
    f"{_CS3}/account/whoami$",
    f"{_CS3}/account/deactivate$",
    "^/_matrix/client/(r0|v3)/delete_devices$",
    f"{_CS}/devices(/|$)",
    "^/_matrix/client/versions$",
    f"{_CS}/voip/turnServer$",
    f"{_CS}/rooms/.*/event/",
    f"{_CS}/joined_rooms$",
    "^/_matrix/client/v1/rooms/.*/timestamp_to_event$",
    "^/_matrix/client/(api/v1|r0|v3|unstable/.*)/rooms/.*/aliases",
    f"{_CS}/search$",
    f"{_CS3}/user/.*/filter(/|$)",
    f"{_CS}/directory/room/.*$",
    f"{_CS3}/capabilities$",
    f"{_CS3}/notifications$",
    "^/_synapse/admin/v1/rooms/[^/]+$",
    # Encryption requests
    f"{_CS3}/keys/query$",
    f"{_CS3}/keys/changes$",
    f"{_CS3}/keys/claim$",
    f"{_CS3}/room_keys/",
    f"{_CS3}/keys/upload",
    f"{_CS}/keys/device_signing/upload$",
    f"{_CS}/keys/signatures/upload$",
    # Registration/login requests
    f"{_CS}/login$",
    f"{_CS3}/register$",
    f"{_CS3}/register/available$",
    "^/_matrix/client/v1/register/m.login.registration_token/validity$",
    f"{_CS3}/password_policy$",
    # User directory search requests
    f"{_CS3}/user_directory/search$",
    # Pagination: every request for one room to one instance (one reader).
    f"{_CS}/rooms/.*/messages$",
)

PERSISTERS = ("event_persister1", "event_persister2")

LARGE_SERVER = Topology(
    instances=(
        Instance(
            MAIN,
            "main process: admin and module APIs, reports, federation in",
            8008,
            ("client", "federation"),
            metrics_port=9100,
            replication_port=9093,
        ),
        Instance(
            PERSISTERS[0],
            "event persister (stream_writers.events), event sending",
            8011,
            ("client",),
            metrics_port=9101,
            replication_port=9111,
        ),
        Instance(
            PERSISTERS[1],
            "event persister (stream_writers.events), event sending",
            8012,
            ("client",),
            metrics_port=9102,
            replication_port=9112,
        ),
        Instance(
            "background",
            "background tasks (run_background_tasks_on)",
            8013,
            (),
            metrics_port=9103,
        ),
        Instance("sync", "client worker: /sync", 8014, ("client",), metrics_port=9104),
        Instance(
            "client_reader",
            "client worker: client reads, login, registration, createRoom",
            8015,
            ("client",),
            metrics_port=9105,
        ),
        Instance(
            "federation_sender",
            "federation sender (federation_sender_instances)",
            8016,
            (),
            metrics_port=9106,
        ),
    ),
    routes=(
        Route("Sync requests", tuple(SYNC), ("sync",), "sync"),
        Route(
            "Event sending requests", tuple(EVENT_SENDING), PERSISTERS, "event_senders"
        ),
        Route(
            "Client API, encryption, registration/login, user directory and"
            " pagination requests",
            tuple(CLIENT_READER),
            ("client_reader",),
            "client_reader",
        ),
    ),
    event_persisters=PERSISTERS,
    background="background",
    federation_senders=("federation_sender",),
)
