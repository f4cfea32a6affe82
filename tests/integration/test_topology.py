"""G5, G8: the module's rules hold on the worker topology of a large server
(deploy/topology.py: main, two event persisters, a background-tasks worker,
a sync worker, a client reader and a federation sender, on PostgreSQL and
Redis, behind nginx routing as Synapse's worker documentation says).

One cluster serves every test of this file (it takes most of a minute to
start). Proved here: requests go where the description sends them; caps
are exact when one room's concurrent joins are created on both event
persisters and one user's joins are persisted by both (B3); registration
codes are unique across every process that creates rooms (B4); each report
becomes exactly one case, collected by the background worker alone (E1);
keyword lists, sanctions and blacklist entries are enforced by every
process that takes requests (C4, D2, D4); content hits are written once;
the network log holds every event, login and registration exactly once
(F2).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.harness.client import Http
from tests.harness.complaints import (
    report_event,
    report_room,
    report_user,
    wait_for_cases,
)
from tests.harness.homeserver import Endpoint, Homeserver, User
from tests.harness.topology import Cluster, skip_reason
from tests.integration.groups import (
    ADMIN,
    MATRIX,
    ROOM_STATE,
    concurrent_joins,
    create_room,
    join,
    new_room,
    reason,
    room_path,
    send_text,
)

CAP = 5
JOINED_PER_USER = 3

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "content": {"reload_interval": "1s"},
    "complaints": {"poll_interval": "500ms"},
    "rooms": {
        "default_class": "five",
        "classes": {"five": {"member_cap": CAP}},
        "joined_per_user": JOINED_PER_USER,
    },
}

#: How long a change may take to reach every process before the test fails
#: (the lag itself is measured and printed, never asserted: timings depend
#: on the machine).
REACH_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def cluster(backend: str) -> Iterator[Cluster]:
    why = skip_reason(backend)
    if why is not None:
        pytest.skip(why)
    started = Cluster(CONFIG).start()
    try:
        yield started
    finally:
        started.destroy()


@pytest.fixture(scope="module")
def admin(cluster: Cluster) -> User:
    return cluster.main.register(admin=True)


def persister_of(cluster: Cluster, room_id: str) -> str:
    """The event persister Synapse shards the room to (from its events)."""
    rows = cluster.main.sql(
        "SELECT DISTINCT instance_name FROM events WHERE room_id = ?", (room_id,)
    )
    assert len(rows) == 1, rows
    return str(rows[0][0])


async def rooms_on_each_persister(
    cluster: Cluster, per_persister: int
) -> dict[str, list[tuple[User, str]]]:
    """Rooms created through the front until each persister holds
    `per_persister` of them: {persister: [(owner, room_id)]}."""
    found: dict[str, list[tuple[User, str]]] = {
        name: [] for name in cluster.topology.event_persisters
    }
    for _ in range(40):
        if all(len(rooms) >= per_persister for rooms in found.values()):
            return found
        owner = cluster.main.register()
        room_id = await new_room(cluster.front, owner, preset="public_chat")
        found[persister_of(cluster, room_id)].append((owner, room_id))
    raise AssertionError(f"room ids never hashed to every persister: {found}")


async def test_requests_go_where_the_description_routes_them(
    cluster: Cluster,
) -> None:
    """G8: through the proxy, sync goes to the sync worker, createRoom and
    login to the client reader, event sending round robin to both event
    persisters, the module's admin API to the main process."""
    user = cluster.main.register()
    room_id = await new_room(cluster.front, user)
    for n in range(4):
        assert (await send_text(cluster.front, user, room_id, f"m{n}"))[0] == 200
    http = Http(cluster.front, user.access_token)
    assert (await http.get(f"{MATRIX}/sync?timeout=0"))[0] == 200
    login = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user.localpart},
        "password": user.password,
    }
    assert (await http.post(f"{MATRIX}/login", login))[0] == 200
    assert (await http.get("/_synapse/client/groupreg/v1/status"))[0] == 200

    address = {
        f"127.0.0.1:{cluster.process(name).port}": name for name in cluster.processes
    }
    # nginx writes a request's log line after the answer is sent, so the
    # last request's line may not be there yet when its answer arrives.
    for _ in range(50):
        routed = cluster.front.routed()
        if any(entry[1].startswith("/_synapse/client/groupreg/") for entry in routed):
            break
        await asyncio.sleep(0.1)
    served: dict[str, set[str]] = {}
    for _method, path, _status, upstream in routed:
        kind = (
            "send"
            if "/send/" in path
            else path.rsplit("/", 1)[-1]
            if path.startswith(MATRIX)
            else "groupreg"
            if path.startswith("/_synapse/client/groupreg")
            else None
        )
        if kind is not None:
            served.setdefault(kind, set()).add(address[upstream])
    assert served["send"] == {"event_persister1", "event_persister2"}
    assert served["sync"] == {"sync"}
    assert served["createRoom"] == {"client_reader"}
    assert served["login"] == {"client_reader"}
    assert served["groupreg"] == {"main"}


async def test_room_caps_exact_with_joins_created_on_both_persisters(
    cluster: Cluster,
) -> None:
    """B3, G5: twelve concurrent joins into each of four rooms (two sharded
    to each event persister), sent through the proxy, which hands them to
    both persisters in turn: so each room's joins are created on two
    processes at once, and one of them forwards its events to the other.
    Every room ends with exactly CAP members, the rest ROOM_FULL, no 5xx."""
    rooms = await rooms_on_each_persister(cluster, 2)
    all_rooms = [room_id for pairs in rooms.values() for _, room_id in pairs]
    joiners = {
        room_id: [cluster.main.register() for _ in range(12)] for room_id in all_rooms
    }
    outcomes = await asyncio.gather(
        *(
            concurrent_joins([(cluster.front, u) for u in users], room_id)
            for room_id, users in joiners.items()
        )
    )
    for room_id, outcome in zip(all_rooms, outcomes, strict=True):
        assert outcome == Counter({"200": CAP - 1, "403 ROOM_FULL": 12 - CAP + 1}), (
            room_id,
            outcome,
        )
        members = cluster.main.sql(
            "SELECT COUNT(*) FROM current_state_events WHERE room_id = ?"
            " AND type = 'm.room.member' AND membership IN ('join', 'invite')",
            (room_id,),
        )
        assert members == [(CAP,)]


async def test_a_users_join_limit_holds_across_persisters(cluster: Cluster) -> None:
    """B3, G5: one user joins six rooms at once, three sharded to each
    event persister, through the proxy: exactly JOINED_PER_USER joins land,
    the others are JOIN_LIMIT, whichever persister writes them."""
    rooms = await rooms_on_each_persister(cluster, 3)
    user = cluster.main.register()
    room_ids = [room_id for pairs in rooms.values() for _, room_id in pairs[:3]]
    answers = await asyncio.gather(
        *(join(cluster.front, user, room_id) for room_id in room_ids)
    )
    outcome = Counter(
        "200" if status == 200 else f"{status} {reason(body)}"
        for status, body in answers
    )
    assert outcome == Counter(
        {"200": JOINED_PER_USER, "403 JOIN_LIMIT": 6 - JOINED_PER_USER}
    ), answers
    joined = cluster.main.sql(
        "SELECT COUNT(*) FROM current_state_events WHERE state_key = ?"
        " AND type = 'm.room.member' AND membership = 'join'",
        (user.user_id,),
    )
    assert joined == [(JOINED_PER_USER,)]


async def test_registration_codes_unique_across_every_room_creator(
    cluster: Cluster, admin: User
) -> None:
    """B4, G5: twenty rooms created at once, through the proxy (client
    reader) and directly on every other process that takes requests, get
    twenty distinct codes, each in its room's state from the start."""
    takers: list[Endpoint] = [cluster.front, *cluster.request_takers().values()]
    owners = [cluster.main.register() for _ in range(20)]
    answers = await asyncio.gather(
        *(
            create_room(takers[n % len(takers)], owner, preset="public_chat")
            for n, owner in enumerate(owners)
        )
    )
    room_ids = []
    for status, answer in answers:
        assert status == 200, answer
        room_ids.append(answer["room_id"])
    codes = dict(
        cluster.main.sql(
            "SELECT room_id, code FROM groupreg_rooms WHERE room_id IN "
            f"({', '.join('?' for _ in room_ids)})",
            room_ids,
        )
    )
    assert len(set(codes.values())) == len(room_ids) == len(codes)
    synapse_admin = Http(cluster.main, admin.access_token)
    for room_id, code in codes.items():
        status, body = await synapse_admin.get(
            f"/_synapse/admin/v1/rooms/{room_path(room_id)}/state"
        )
        assert status == 200, body
        [registration] = [e for e in body["state"] if e["type"] == ROOM_STATE]
        assert registration["content"]["code"] == code


async def test_each_report_is_one_case_collected_on_the_background_worker(
    cluster: Cluster, admin: User
) -> None:
    """E1, G5: reports made through Synapse's endpoints (served by the main
    process only) while the background worker collects: six event reports,
    a room report and a user report become eight cases, each holding one
    report; two more rounds of the collector change nothing. Only the
    background worker runs the collector and exports the complaint gauges."""
    owner, poster = cluster.main.register(), cluster.main.register()
    room_id = await new_room(cluster.front, owner, preset="public_chat")
    assert (await join(cluster.front, poster, room_id))[0] == 200
    event_ids = []
    for n in range(6):
        status, sent = await send_text(cluster.front, poster, room_id, f"bad {n}")
        assert status == 200, sent
        event_ids.append(sent["event_id"])
    await asyncio.gather(
        *(report_event(cluster.front, owner, room_id, e, "spam") for e in event_ids),
        report_room(cluster.front, poster, room_id, "spam room"),
        report_user(cluster.front, owner, poster.user_id, "spammer"),
    )
    http = Http(cluster.front, admin.access_token)
    targets = {*event_ids, room_id, poster.user_id}

    def ours(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in cases if c["target"] in targets]

    cases = await wait_for_cases(http, "status=received", lambda c: len(ours(c)) >= 8)
    await asyncio.sleep(1.5)  # three more runs of the collector (500 ms)
    _, again = await http.get(f"{ADMIN}/complaints?status=received&limit=1000")
    assert sorted(c["case_id"] for c in ours(again["cases"])) == sorted(
        c["case_id"] for c in ours(cases)
    )
    assert sorted(c["target"] for c in ours(cases)) == sorted(targets)
    assert all(c["reports"] == 1 for c in ours(cases)), ours(cases)

    collectors = {
        name for name, hs in cluster.processes.items() if "took in" in hs.log_text()
    }
    assert collectors == {"background"}
    gauges = {
        name
        for name in cluster.processes
        if "groupreg_complaints_open{" in cluster.metrics(name)
    }
    assert gauges == {"background"}


async def _until_each(
    processes: dict[str, Homeserver],
    refused: Callable[[Homeserver], Awaitable[bool]],
) -> dict[str, float]:
    """Ask every process, concurrently and again and again, until each one
    refuses; answers the seconds each took (bounded by REACH_TIMEOUT)."""
    started = time.monotonic()

    async def one(hs: Homeserver) -> float:
        while time.monotonic() - started < REACH_TIMEOUT:
            if await refused(hs):
                return time.monotonic() - started
            await asyncio.sleep(0.05)
        raise AssertionError(f"{hs.dir.name} never enforced the change")

    lags = await asyncio.gather(*(one(hs) for hs in processes.values()))
    return dict(zip(processes, lags, strict=True))


def _print_lags(what: str, lags: dict[str, float]) -> None:
    shown = ", ".join(f"{name} {lag:.2f}s" for name, lag in lags.items())
    print(f"{what} enforced after: {shown}")


async def test_keywords_sanctions_and_blacklist_reach_every_process(
    cluster: Cluster, admin: User
) -> None:
    """C4, D2, D4, G5: a keyword category, a room suspension and a user
    blacklist entry, each made through the admin API on the main process,
    are enforced by every process that takes requests (messages sent to
    each directly). Every refusal of the keyword is one content hit,
    whichever process refused it (each process flushes its own)."""
    takers = cluster.request_takers()
    assert set(takers) == {
        "main",
        "event_persister1",
        "event_persister2",
        "sync",
        "client_reader",
    }
    http = Http(cluster.front, admin.access_token)
    poster = cluster.main.register()
    room_id = await new_room(cluster.front, poster, preset="public_chat")
    for hs in takers.values():  # every process warm, every cache filled
        assert (await send_text(hs, poster, room_id, "拓扑测试词"))[0] == 200

    refusals: Counter[str] = Counter()

    def refuses(text: str, code: str) -> Callable[[Homeserver], Awaitable[bool]]:
        async def check(hs: Homeserver) -> bool:
            status, answer = await send_text(hs, poster, room_id, text)
            if status == 403 and reason(answer) == code:
                refusals[code] += 1
                return True
            assert status == 200, answer
            return False

        return check

    status, body = await http.put(
        f"{ADMIN}/keywords/topology_test",
        {"action": "block", "credit_penalty": 0, "words": ["拓扑测试"]},
    )
    assert status == 200, body
    _print_lags(
        "keyword list",
        await _until_each(takers, refuses("拓扑测试词", "PROHIBITED_CONTENT")),
    )

    async def hits() -> int:
        _, listing = await http.get(
            f"{ADMIN}/content/hits?user_id={room_path(poster.user_id)}&limit=1000"
        )
        return len(listing["hits"])

    deadline = time.monotonic() + REACH_TIMEOUT
    while await hits() < refusals["PROHIBITED_CONTENT"] and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)  # another flush of every process
    assert await hits() == refusals["PROHIBITED_CONTENT"] == len(takers)

    status, sanction = await http.post(
        f"{ADMIN}/rooms/{room_path(room_id)}/sanctions",
        {"action": "suspend_posting", "duration": "1h", "reason": "topology"},
    )
    assert status == 200, sanction
    _print_lags(
        "room suspension", await _until_each(takers, refuses("hi", "ROOM_SUSPENDED"))
    )
    status, _ = await http.delete(
        f"{ADMIN}/sanctions/{sanction['sanction_id']}?reason=done"
    )
    assert status == 200

    other = await new_room(cluster.front, poster, preset="public_chat")
    for hs in takers.values():
        assert (await send_text(hs, poster, other, "hello"))[0] == 200
    status, entry = await http.post(
        f"{ADMIN}/blacklist",
        {"kind": "user", "target": poster.user_id, "reason": "topology"},
    )
    assert status == 200, entry

    async def blacklisted(hs: Homeserver) -> bool:
        status, answer = await send_text(hs, poster, other, "hello")
        return status == 403 and reason(answer) == "BLACKLISTED"

    _print_lags("blacklist entry", await _until_each(takers, blacklisted))


async def test_network_log_complete_and_nothing_counted_twice(
    cluster: Cluster, admin: User
) -> None:
    """F2, G5: registrations (main process), logins (client reader), the
    room's creation (client reader) and its joins and messages (both
    persisters), all recorded exactly once: the log's event ids are the
    room's events in Synapse's own table, each once; one registration
    entry per user, one login entry per login. Checked again after two
    more flushes of every process."""
    users = [cluster.main.register() for _ in range(4)]
    owner = users[0]
    room_id = await new_room(cluster.front, owner, preset="public_chat")
    for user in users[1:]:
        assert (await join(cluster.front, user, room_id))[0] == 200
    for n, user in enumerate(users * 3):
        assert (await send_text(cluster.front, user, room_id, f"n{n}"))[0] == 200
    login = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": owner.localpart},
        "password": owner.password,
    }
    for _ in range(2):
        status, body = await Http(cluster.front).post(f"{MATRIX}/login", login)
        assert status == 200, body

    events = {
        event_id: event_type
        for event_id, event_type in cluster.main.sql(
            "SELECT event_id, type FROM events WHERE room_id = ?", (room_id,)
        )
    }
    http = Http(cluster.front, admin.access_token)

    async def entries(query: str) -> list[dict[str, Any]]:
        status, body = await http.get(f"{ADMIN}/logs?{query}&limit=1000")
        assert status == 200, body
        return list(body["entries"])

    async def settled() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        in_room = await entries(f"room_id={room_path(room_id)}")
        logins = await entries(f"user_id={room_path(owner.user_id)}&kind=login")
        return in_room, logins

    deadline = time.monotonic() + REACH_TIMEOUT
    in_room, logins = await settled()
    while (len(in_room) < len(events) or len(logins) < 2) and (
        time.monotonic() < deadline
    ):
        await asyncio.sleep(0.2)
        in_room, logins = await settled()
    await asyncio.sleep(2.5)  # two more flushes everywhere
    in_room, logins = await settled()

    logged = Counter(e["event_id"] for e in in_room)
    assert logged == Counter(dict.fromkeys(events, 1))
    kinds = Counter(e["kind"] for e in in_room)
    assert (kinds["room_create"], kinds["join"], kinds["message"]) == (1, 4, 12)
    assert len(logins) == 2
    for user in users:
        registrations = await entries(
            f"user_id={room_path(user.user_id)}&kind=registration"
        )
        assert len(registrations) == 1, registrations
