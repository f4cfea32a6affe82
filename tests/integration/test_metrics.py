"""G4: the module's Prometheus metrics on Synapse's own metrics listener:
decisions by check and outcome, check latency."""

from __future__ import annotations

import asyncio
import re
import urllib.request

import nio
import pytest

from tests.harness.client import Http, clients, reason_of
from tests.harness.homeserver import Homeserver, free_port
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"


METRICS_PORT = free_port()


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    server = homeservers({"profile": "generic"}, {"enable_metrics": True}, start=False)
    server.extra_listeners.append(
        {"port": METRICS_PORT, "bind_addresses": ["127.0.0.1"], "type": "metrics"}
    )
    server.write_config()
    return server.start()


def _scrape() -> str:
    url = f"http://127.0.0.1:{METRICS_PORT}/_synapse/metrics"
    with urllib.request.urlopen(url, timeout=10) as r:
        return str(r.read().decode())


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 if absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_decisions_and_latency_are_exported(hs: Homeserver) -> None:
    """G4: a refused and an allowed message each count under the content
    check, by outcome, and the check's latency histogram fills."""
    admin, user = hs.register(admin=True), hs.register()
    status, body = await Http(hs, admin.access_token).put(
        f"{ADMIN}/keywords/metrics_test",
        {"action": "block", "credit_penalty": 0, "words": ["度量测试词"]},
    )
    assert status == 200, body
    async with clients(hs, user) as (client,):
        room = await client.room_create(name="metrics")
        assert isinstance(room, nio.RoomCreateResponse), room
        refused, allowed = None, None
        for _ in range(50):  # the lists reload every couple of seconds
            refused = await client.room_send(
                room.room_id,
                "m.room.message",
                {"msgtype": "m.text", "body": "度量测试词"},
            )
            if await reason_of(refused) == "PROHIBITED_CONTENT":
                break
            await asyncio.sleep(0.2)
        assert await reason_of(refused) == "PROHIBITED_CONTENT"
        allowed = await client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "hello"}
        )
        assert isinstance(allowed, nio.RoomSendResponse), allowed

    text = _scrape()
    labels = {"check": "content", "server_name": hs.server_name}
    assert (
        _sample(
            text, "groupreg_decisions_total", outcome="PROHIBITED_CONTENT", **labels
        )
        >= 1
    )
    assert _sample(text, "groupreg_decisions_total", outcome="allow", **labels) >= 1
    assert _sample(text, "groupreg_check_seconds_count", **labels) >= 2
