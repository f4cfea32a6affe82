"""G5 for D1-D4: with a main process and a generic worker (PostgreSQL +
Redis), a sanction, a lift, a blacklist entry or a credit change made on one
process is enforced by the other at once: the cached sets are invalidated
on every worker, none of them restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver, User
from tests.harness.workers import Worker, main_with_workers, skip_reason
from tests.integration.groups import ADMIN, CLIENT, MATRIX, new_room


@pytest.fixture(scope="module")
def cluster(backend: str) -> Iterator[tuple[Homeserver, Worker]]:
    why = skip_reason(backend)
    if why is not None:
        pytest.skip(why)
    main, workers = main_with_workers({"profile": "generic"}, workers=1)
    try:
        yield main, workers[0]
    finally:
        for worker in workers:
            worker.destroy()
        main.destroy()


async def _say(hs: Homeserver, user: User, room_id: str) -> tuple[int, Any]:
    txn = f"t{time.monotonic_ns()}"
    return await Http(hs, user.access_token).put(
        f"{MATRIX}/rooms/{room_id}/send/m.room.message/{txn}",
        {"msgtype": "m.text", "body": "hi"},
    )


async def _eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 20
) -> None:
    """Replication is asynchronous: wait (bounded) for the other process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the other process never saw the change")


def _reason(answer: Any) -> str | None:
    return answer.get("org.groupreg.reason") if isinstance(answer, dict) else None


async def test_sanctions_reach_the_worker(cluster: tuple[Homeserver, Worker]) -> None:
    """G5/D2: a suspension applied on the main process refuses messages
    sent through the worker, and its lift lets them through again."""
    main, worker = cluster
    admin, user = main.register(admin=True), main.register()
    room_id = await new_room(main, user, name="r", preset="public_chat")
    assert (await _say(worker, user, room_id))[0] == 200  # the worker is warm
    status, sanction = await Http(main, admin.access_token).post(
        f"{ADMIN}/rooms/{room_id}/sanctions",
        {"action": "suspend_posting", "duration": "1h", "reason": "x"},
    )
    assert status == 200, sanction

    async def refused_on_worker() -> bool:
        status, answer = await _say(worker, user, room_id)
        return status == 403 and _reason(answer) == "ROOM_SUSPENDED"

    await _eventually(refused_on_worker)
    status, _ = await Http(main, admin.access_token).delete(
        f"{ADMIN}/sanctions/{sanction['sanction_id']}?reason=ok"
    )
    assert status == 200

    async def allowed_on_worker() -> bool:
        return (await _say(worker, user, room_id))[0] == 200

    await _eventually(allowed_on_worker)


async def test_blacklist_and_credit_reach_the_other_process(
    cluster: tuple[Homeserver, Worker],
) -> None:
    """G5/D1/D4: a blacklist entry added through the worker's admin API is
    enforced by the main process; a credit change made on the main process
    is what the worker answers."""
    main, worker = cluster
    admin, user = main.register(admin=True), main.register()
    room_id = await new_room(main, user, name="r", preset="public_chat")
    assert (await _say(main, user, room_id))[0] == 200
    status, entry = await Http(worker, admin.access_token).post(
        f"{ADMIN}/blacklist", {"kind": "user", "target": user.user_id, "reason": "x"}
    )
    assert status == 200, entry

    async def refused_on_main() -> bool:
        status, answer = await _say(main, user, room_id)
        return status == 403 and _reason(answer) == "BLACKLISTED"

    await _eventually(refused_on_main)

    own = Http(worker, user.access_token)
    assert (await own.get(f"{CLIENT}/credit"))[1]["score"] == 100
    status, _ = await Http(main, admin.access_token).post(
        f"{ADMIN}/users/{user.user_id}/sanctions",
        {"action": "lower_credit", "amount": 12, "reason": "x"},
    )
    assert status == 200

    async def worker_sees_the_score() -> bool:
        _, view = await own.get(f"{CLIENT}/credit")
        return bool(view["score"] == 88)

    await _eventually(worker_sees_the_score)
