"""G5, B3, C4: the rules hold with a main process and a generic worker
(PostgreSQL + Redis): caps across processes, cached registry facts
invalidated on every worker, roles recorded once, keyword and link lists
reloaded."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver
from tests.harness.workers import Worker, main_with_workers, skip_reason
from tests.integration.groups import (
    ADMIN,
    CLIENT,
    concurrent_joins,
    join,
    new_room,
    put_state,
    reason,
    room_path,
    send_text,
    state,
)

CONFIG: dict[str, Any] = {
    "profile": "generic",
    "content": {"reload_interval": "2s"},
    "rooms": {
        "default_class": "ten",
        "classes": {"ten": {"member_cap": 10}, "three": {"member_cap": 3}},
    },
}


@pytest.fixture(scope="module")
def cluster(backend: str) -> Iterator[tuple[Homeserver, Worker]]:
    why = skip_reason(backend)
    if why is not None:
        pytest.skip(why)
    main, workers = main_with_workers(CONFIG, workers=1)
    try:
        yield main, workers[0]
    finally:
        for worker in workers:
            worker.destroy()
        main.destroy()


async def test_forty_joins_split_between_main_and_worker(
    cluster: tuple[Homeserver, Worker],
) -> None:
    """B3: 40 concurrent joins into a room with cap 10, half sent to the
    main process and half to the worker, each process with its own member
    linearizer: exactly ten members in the end, the rest ROOM_FULL, no 5xx."""
    main, worker = cluster
    owner = main.register()
    room_id = await new_room(main, owner, preset="public_chat")
    users = [main.register() for _ in range(40)]
    joiners = [(main if n % 2 else worker, user) for n, user in enumerate(users)]
    outcomes = await concurrent_joins(joiners, room_id)
    assert outcomes == Counter({"200": 9, "403 ROOM_FULL": 31}), outcomes
    members = main.sql(
        "SELECT COUNT(*) FROM current_state_events WHERE room_id = ?"
        " AND type = 'm.room.member' AND membership IN ('join', 'invite')",
        (room_id,),
    )
    assert members == [(10,)]


async def test_a_class_move_reaches_the_worker_at_once(
    cluster: tuple[Homeserver, Worker],
) -> None:
    """G5: the registry is cached in every process; a change made on the
    main process invalidates the worker's copy (over Redis replication), so
    the worker enforces the new cap on the next join."""
    main, worker = cluster
    owner = main.register()
    room_id = await new_room(main, owner, preset="public_chat")
    # Warm the worker's cache with the room's class (cap 10).
    assert (await join(worker, main.register(), room_id))[0] == 200
    status, body = await Http(main, owner.access_token).post(
        f"{CLIENT}/rooms/{room_path(room_id)}/class", {"class": "three"}
    )
    assert (status, body["status"]) == (200, "moved"), body
    assert (await join(worker, main.register(), room_id))[0] == 200
    status, body = await join(worker, main.register(), room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL")
    assert "limit 3" in body["error"]


async def test_roles_and_codes_recorded_once_across_processes(
    cluster: tuple[Homeserver, Worker],
) -> None:
    """B4, B5: rooms created on both processes at once get distinct codes;
    every process sees every power-levels event, yet each is recorded once."""
    main, worker = cluster
    owners = [main.register() for _ in range(10)]
    room_ids = await asyncio.gather(
        *(
            new_room(main if n % 2 else worker, owner, preset="public_chat")
            for n, owner in enumerate(owners)
        )
    )
    codes = main.sql(
        "SELECT DISTINCT code FROM groupreg_rooms WHERE room_id IN "
        f"({', '.join('?' for _ in room_ids)})",
        room_ids,
    )
    assert len(codes) == len(room_ids)

    owner, room_id = owners[0], room_ids[0]
    helper = main.register()
    assert (await join(worker, helper, room_id))[0] == 200
    status, levels = await state(worker, owner, room_id, "m.room.power_levels")
    levels["users"] = {helper.user_id: 50}
    status, body = await put_state(
        worker, owner, room_id, "m.room.power_levels", levels
    )
    assert status == 200, body
    admin = main.register(admin=True)
    for _ in range(100):
        status, detail = await Http(main, admin.access_token).get(
            f"{ADMIN}/rooms/{room_path(room_id)}"
        )
        if len(detail["admin_history"]) == 2:
            break
        await asyncio.sleep(0.1)
    assert [(r["user_id"], r["role"]) for r in detail["admin_history"]] == [
        (owner.user_id, "creator"),
        (helper.user_id, "admin"),
    ]
    await asyncio.sleep(1)  # let the worker's own on_new_event run too
    granted = main.sql(
        "SELECT COUNT(*) FROM groupreg_audit_log WHERE action = 'room.role_granted'"
        " AND target = ?",
        (room_id,),
    )
    assert granted == [(2,)]


async def test_a_keyword_list_change_reaches_the_worker_without_restart(
    cluster: tuple[Homeserver, Worker],
) -> None:
    """C4: the worker refuses a word added through the main process's admin
    API, with no restart, once its own poll of the list version (every
    `reload_interval`) has rebuilt its automaton."""
    main, worker = cluster
    admin, user = main.register(admin=True), main.register()
    room_id = await new_room(main, user)
    phrase = "工作进程测试词"
    sent = await send_text(worker, user, room_id, phrase)
    assert sent[0] == 200, sent

    status, body = await Http(main, admin.access_token).put(
        f"{ADMIN}/keywords/worker_test",
        {"action": "block", "credit_penalty": 1, "words": ["进程测试"]},
    )
    assert status == 200, body
    changed_at = time.monotonic()
    # Poll until the worker refuses (bounded so a bug cannot hang the run;
    # the lag is printed, not asserted: timings depend on the machine).
    while time.monotonic() - changed_at < 60:
        sent = await send_text(worker, user, room_id, phrase)
        if sent[0] != 200:
            break
        await asyncio.sleep(0.1)
    print(f"list change reached the worker after {time.monotonic() - changed_at:.2f} s")
    assert (sent[0], reason(sent[1])) == (403, "PROHIBITED_CONTENT")
    status, listing = await Http(worker, admin.access_token).get(f"{ADMIN}/keywords")
    assert status == 200
    assert listing["loaded_version"] == body["version"]


async def test_a_link_list_change_reaches_the_worker_without_restart(
    cluster: tuple[Homeserver, Worker],
) -> None:
    """C8 (and C7, the same mechanism): the worker refuses a link to a
    domain listed through the main process, with no restart, once its own
    poll of the links' version has reloaded them."""
    main, worker = cluster
    admin, user = main.register(admin=True), main.register()
    room_id = await new_room(main, user)
    text = "see https://www.worker-test.example/x"
    sent = await send_text(worker, user, room_id, text)
    assert sent[0] == 200, sent

    status, body = await Http(main, admin.access_token).put(
        f"{ADMIN}/links/worker_test",
        {"action": "block", "credit_penalty": 1, "domains": ["worker-test.example"]},
    )
    assert status == 200, body
    changed_at = time.monotonic()
    while time.monotonic() - changed_at < 60:
        sent = await send_text(worker, user, room_id, text)
        if sent[0] != 200:
            break
        await asyncio.sleep(0.1)
    print(f"link list reached the worker after {time.monotonic() - changed_at:.2f} s")
    assert (sent[0], reason(sent[1])) == (403, "PROHIBITED_LINK")
    status, listing = await Http(worker, admin.access_token).get(f"{ADMIN}/links")
    assert status == 200
    assert listing["loaded_version"] == body["version"]


async def test_a_mute_holds_on_every_process(
    cluster: tuple[Homeserver, Worker],
) -> None:
    """B8, G5: a mute made through the main process refuses the member's
    sends through the worker, and one lifted through the worker frees them
    on the main process (the mutes in force are one cached entry that
    every process drops on a change); a `!mute` typed through the worker
    is run where reactions run, and holds on both."""
    main, worker = cluster
    owner, member = main.register(), main.register()
    room_id = await new_room(main, owner, preset="public_chat")
    assert (await join(worker, member, room_id))[0] == 200
    mutes = f"{CLIENT}/rooms/{room_path(room_id)}/mutes"

    async def sends(endpoint: Homeserver | Worker, expect: int) -> tuple[int, Any]:
        deadline = time.monotonic() + 10
        while True:
            sent = await send_text(endpoint, member, room_id, "hello")
            if sent[0] == expect or time.monotonic() > deadline:
                return sent
            await asyncio.sleep(0.1)

    status, body = await Http(main, owner.access_token).post(
        mutes, {"user_id": member.user_id, "duration": "1h"}
    )
    assert status == 200, body
    sent = await sends(worker, 403)
    assert (sent[0], reason(sent[1])) == (403, "MEMBER_MUTED"), sent
    status, body = await Http(worker, owner.access_token).delete(
        f"{mutes}/{room_path(member.user_id)}"
    )
    assert status == 200, body
    assert (await sends(main, 200))[0] == 200

    typed = await Http(worker, owner.access_token).put(
        f"/_matrix/client/v3/rooms/{room_path(room_id)}/send/m.room.message/mute1",
        {"msgtype": "m.text", "body": f"!mute {member.user_id} 1h"},
    )
    assert typed[0] == 200, typed
    for endpoint in (main, worker):
        sent = await sends(endpoint, 403)
        assert (sent[0], reason(sent[1])) == (403, "MEMBER_MUTED"), sent
