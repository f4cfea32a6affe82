"""How the module meets Synapse (issue: one dispatcher per callback), through
real homeservers:

- a broken audit log never turns a refusal into a 500, on each path that
  records refusals (G6);
- the rooms, caps and federation checks fail closed with
  MODULE_UNAVAILABLE when their tables are gone (G6);
- the module starts and enforces on in-memory SQLite (Synapse's own unit
  test harness's default);
- the fast paths are on by default, and stand aside when another module
  registers the same callbacks: Synapse's own path then runs for everyone
  and both modules' rules hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import (
    ADMIN,
    ROOM_STATE,
    create_room,
    join,
    new_room,
    reason,
    send_text,
    state,
)

TINY = {
    "member_cap": 2,
    "create": {"identity": "none", "min_credit": None, "approval": False},
    "federation": False,
    "categories": ["work"],
}
CONFIG: dict[str, Any] = {
    "profile": "generic",
    "rooms": {
        "default_class": "tiny",
        "classes": {"tiny": TINY},
        "created_per_user": 1,
        "federation_allowlist": [],
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def test_refusals_stand_when_the_audit_log_is_broken(hs: Homeserver) -> None:
    """G6: every path that audits a refusal (joins at the member stage,
    creations at the create and create-request stages, remote joins at the
    join stage) still answers 403 with its reason when the audit log cannot
    be written; the fault is logged."""
    owner, second, third = hs.register(), hs.register(), hs.register()
    room_id = await new_room(hs, owner, preset="public_chat")
    assert (await join(hs, second, room_id))[0] == 200
    hs.sql("ALTER TABLE groupreg_audit_log RENAME TO groupreg_audit_log_gone")
    try:
        status, body = await join(hs, third, room_id)
        assert (status, reason(body)) == (403, "ROOM_FULL"), body
        status, body = await create_room(hs, owner)
        assert (status, reason(body)) == (403, "CREATE_LIMIT"), body
        status, body = await create_room(hs, third, org_groupreg_class="nope")
        assert (status, reason(body)) == (403, "CLASS_UNKNOWN"), body
        status, body = await join(hs, third, "!elsewhere:remote.example")
        assert (status, reason(body)) == (403, "FEDERATION_FORBIDDEN"), body
    finally:
        hs.sql("ALTER TABLE groupreg_audit_log_gone RENAME TO groupreg_audit_log")
    assert "could not audit a refusal" in hs.log_text()


async def test_rooms_checks_fail_closed_when_their_tables_are_gone(
    hs: Homeserver,
) -> None:
    """G6: with the seats table gone a join cannot be counted, with the
    serial blocks gone no code can be issued: both are refused with
    MODULE_UNAVAILABLE (fail closed by default), never a 500."""
    owner, joiner = hs.register(), hs.register()
    admin = hs.register(admin=True)
    room_id = await new_room(hs, owner, preset="public_chat")
    hs.sql("ALTER TABLE groupreg_seats RENAME TO groupreg_seats_gone")
    hs.sql("ALTER TABLE groupreg_code_blocks RENAME TO groupreg_code_blocks_gone")
    try:
        status, body = await join(hs, joiner, room_id)
        assert (status, reason(body)) == (403, "MODULE_UNAVAILABLE"), body
        # The process may still hold serials of a block; use them up.
        for _ in range(40):
            status, body = await create_room(hs, admin)
            if status != 200:
                break
        assert (status, reason(body)) == (403, "MODULE_UNAVAILABLE"), body
    finally:
        hs.sql("ALTER TABLE groupreg_seats_gone RENAME TO groupreg_seats")
        hs.sql("ALTER TABLE groupreg_code_blocks_gone RENAME TO groupreg_code_blocks")
    log = hs.log_text()
    assert "groupreg check 'caps' failed" in log
    assert "groupreg check 'rooms' failed" in log
    status, _ = await join(hs, joiner, room_id)
    assert status == 200


async def test_fast_paths_are_on(hs: Homeserver) -> None:
    """With no other module, the module's `check_event_allowed` and
    `on_new_event` run without Synapse's whole-state loads (hs.py)."""
    assert "fast paths check_event_allowed, on_new_event" in hs.log_text()


async def test_on_in_memory_sqlite_the_module_starts_and_enforces(
    homeservers: HomeserverFactory, backend: str
) -> None:
    """With `database: {name: sqlite3, args: {database: ":memory:"}}` every
    new connection is a new, empty database: the module's schema and seeds
    go through Synapse's own connection. Rooms get codes, refusals work, the
    admin API answers."""
    if backend != "sqlite":
        pytest.skip("an in-memory database is SQLite's")
    memory = homeservers(
        CONFIG,
        {"database": {"name": "sqlite3", "args": {"database": ":memory:"}}},
    )
    owner, second, third = memory.register(), memory.register(), memory.register()
    admin = memory.register(admin=True)
    room_id = await new_room(memory, owner, preset="public_chat")
    status, content = await state(memory, owner, room_id, ROOM_STATE)
    assert status == 200 and content["class"] == "tiny" and content["code"]
    assert (await join(memory, second, room_id))[0] == 200
    status, body = await join(memory, third, room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL"), body
    status, page = await Http(memory, admin.access_token).get(
        f"{ADMIN}/rooms?code={content['code']}"
    )
    assert status == 200 and page["rooms"][0]["room_id"] == room_id, page


async def test_another_module_keeps_synapse_path_and_both_hold(
    homeservers: HomeserverFactory, backend: str, tmp_path: Path
) -> None:
    """With a second module registering `check_event_allowed` and
    `on_new_event`, Synapse's own path runs for every event: the other
    module sees plain messages (with the room's state) and may refuse them,
    and this module's rules still hold."""
    if backend != "sqlite":
        pytest.skip("a fact about Synapse's callbacks, not about the database")
    seen = tmp_path / "seen"
    both = homeservers(CONFIG, start=False)
    both.extra_config["modules"] = [
        {"module": "synapse_groupreg.GroupRegModule", "config": CONFIG},
        {
            "module": "tests.support.other_module.OtherModule",
            "config": {"seen_file": str(seen)},
        },
    ]
    both.write_config()
    both.start()
    owner, second, third = both.register(), both.register(), both.register()
    room_id = await new_room(both, owner, preset="public_chat")
    assert (await send_text(both, owner, room_id, "hello"))[0] == 200
    status, _ = await send_text(both, owner, room_id, "other-module-says-no")
    assert status == 403
    assert (await join(both, second, room_id))[0] == 200
    status, body = await join(both, third, room_id)
    assert (status, reason(body)) == (403, "ROOM_FULL"), body
    # Synapse's own path: the other module got each message with the
    # room's whole state.
    lines = seen.read_text().splitlines()
    messages = [line.split() for line in lines if "m.room.message" in line]
    assert messages and all(int(n) > 0 for _, n in messages), messages
