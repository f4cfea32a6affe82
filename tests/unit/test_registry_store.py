"""The registry's storage without a homeserver (B4, B3, B5): codes from
blocks of never-reused serials, a registration bound to the code issued for
it and recorded with its first roles in one transaction, closing and
retiring, and the cached read invalidated by each write."""

from __future__ import annotations

from typing import Any

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config import parse_config
from synapse_groupreg.rooms.codes import format_code
from synapse_groupreg.rooms.registry import FirstRoles, RoomRegistry, state_content
from synapse_groupreg.standing import RealNameOff
from synapse_groupreg.store import Store
from synapse_groupreg.store.database import apply_migrations
from synapse_groupreg.store.rooms import CLOSED, SERIAL_BLOCK, IssuedCode
from tests.support.memory import MemoryDatabase, memory_store, resolve

ALICE = "@alice:memory.example"
ROLES = FirstRoles("$create", 1, (ALICE,), "$power", 1, {ALICE: 100})


def _registry(store: Store) -> RoomRegistry:
    config = parse_config({"profile": "generic"})
    now = [1000]
    return RoomRegistry(
        config.rooms,
        store.db,
        store.rooms,
        store.seats,
        store.roles,
        AuditLog(store.audit, lambda: now[0]),
        lambda: now[0],
        RealNameOff(),
        None,
        "test",
    )


def _issue(registry: RoomRegistry, category: str | None = None) -> IssuedCode:
    return resolve(registry.codes.issue(ALICE, "standard", category))


def _register(registry: RoomRegistry, room_id: str, code: IssuedCode | None) -> Any:
    return resolve(registry.register(room_id, ALICE, code, "standard", None, ROLES))


def test_codes_come_from_blocks_one_transaction_a_block() -> None:
    """B4: serials are handed out in order from blocks; a block costs one
    transaction, a code none."""
    store, memory, _ = memory_store()
    registry = _registry(store)
    before = memory.transactions
    issued = [_issue(registry) for _ in range(SERIAL_BLOCK + 1)]
    assert [c.code for c in issued[:2]] == [format_code("G", 1), format_code("G", 2)]
    assert issued[-1].serial == SERIAL_BLOCK + 1
    assert memory.transactions - before == 2


def test_a_code_registers_one_room_for_its_creator_only() -> None:
    """B4: the registration state must carry exactly what was issued, to
    the creator it was issued to, and binds once."""
    store, _, _ = memory_store()
    registry = _registry(store)
    code = _issue(registry)
    content = state_content(code.code, "standard", None, ALICE)
    assert registry.codes.take(content, "@bob:memory.example") is None
    assert registry.codes.take({**content, "class": "big"}, ALICE) is None
    assert registry.codes.take(content, ALICE) == code
    assert registry.codes.take(content, ALICE) is None  # taken
    assert _register(registry, "!a:x", code) is not None
    assert _register(registry, "!b:x", code) is None  # the code names a room


def test_registration_and_first_roles_are_one_transaction() -> None:
    """B5, createRoom's cost: the room, its code, its creator and admins and
    their audit entries commit together."""
    store, memory, _ = memory_store()
    registry = _registry(store)
    code = _issue(registry)
    before = memory.transactions
    row = _register(registry, "!a:x", code)
    assert memory.transactions - before == 1
    assert row is not None and row.code == code.code
    roles = memory.conn.execute(
        "SELECT user_id, role, power_level FROM groupreg_room_roles ORDER BY role DESC"
    ).fetchall()
    assert roles == [(ALICE, "creator", None), (ALICE, "admin", 100)]
    actions = [
        r[0]
        for r in memory.conn.execute(
            "SELECT action FROM groupreg_audit_log ORDER BY seq"
        ).fetchall()
    ]
    assert actions == ["room.register", "room.role_granted", "room.role_granted"]


def test_closing_retires_the_code_and_it_is_never_given_again() -> None:
    """B4, D2: a closed room's code is retired; later codes are new, even
    when the newest rows are deleted."""
    store, memory, _ = memory_store()
    registry = _registry(store)
    code = _issue(registry)
    _register(registry, "!a:x", code)
    assert resolve(store.rooms.close("!a:x", 5)) is True
    assert resolve(store.rooms.close("!a:x", 6)) is False
    retired = memory.conn.execute(
        "SELECT retired_ts FROM groupreg_codes WHERE code = ?", (code.code,)
    ).fetchall()
    assert retired == [(5,)]
    memory.conn.execute("DELETE FROM groupreg_codes")
    memory.conn.execute("DELETE FROM groupreg_rooms")
    fresh = _registry(store)  # a process that starts now takes a new block
    assert _issue(fresh).serial == SERIAL_BLOCK + 1


def test_serials_given_before_blocks_are_never_given_again() -> None:
    """A database whose codes were allocated one by one (schema rooms v1)
    starts its first block after the highest serial."""
    memory = MemoryDatabase.empty()
    rooms_v1 = [
        m for m in memory.migrations if not (m.component == "rooms" and m.version > 1)
    ]
    apply_migrations(memory.conn, "sqlite", rooms_v1)
    memory.conn.executemany(
        "INSERT INTO groupreg_codes (serial, code, creator, room_class,"
        " allocated_ts) VALUES (?, ?, ?, 'standard', 1)",
        [(n, format_code("G", n), ALICE) for n in range(1, 21)],
    )
    memory.conn.commit()
    apply_migrations(memory.conn, "sqlite", memory.migrations)
    store, _, _ = memory_store(memory)
    assert _issue(_registry(store)).serial == 2 * SERIAL_BLOCK + 1


def test_room_reads_are_cached_and_writes_invalidate_them() -> None:
    """Hot paths read rooms from memory; a change is seen at once."""
    store, memory, _ = memory_store()
    rooms = store.rooms
    registry = _registry(store)
    assert resolve(rooms.room("!a:x")) is None
    _register(registry, "!a:x", _issue(registry))
    row = resolve(rooms.room("!a:x"))
    assert row is not None and row.room_class == "standard"
    before = memory.transactions
    for _ in range(100):
        resolve(rooms.room("!a:x"))
    assert memory.transactions == before
    resolve(rooms.set_class("!a:x", "medium", "work"))
    moved = resolve(rooms.room("!a:x"))
    assert moved is not None and (moved.room_class, moved.category) == (
        "medium",
        "work",
    )
    resolve(rooms.close("!a:x", 9))
    closed = resolve(rooms.room("!a:x"))
    assert closed is not None and closed.status == CLOSED


def test_an_upgrade_carries_the_registration_over() -> None:
    """B4: the code moves to the replacement room, once."""
    store, memory, _ = memory_store()
    rooms = store.rooms
    registry = _registry(store)
    code = _issue(registry, "work")
    resolve(registry.register("!old:x", ALICE, code, "standard", "work", ROLES))
    new = resolve(rooms.carry_over("!old:x", "!new:x", 3))
    assert new is not None and (new.code, new.room_class, new.creator) == (
        code.code,
        "standard",
        ALICE,
    )
    old = resolve(rooms.room("!old:x"))
    assert old is not None and (old.status, old.code, old.replaced_by) == (
        "upgraded",
        None,
        "!new:x",
    )
    assert resolve(rooms.room_by_code(code.code)) == new
    assert resolve(rooms.carry_over("!old:x", "!other:x", 4)) is None
    bound = memory.conn.execute(
        "SELECT room_id FROM groupreg_codes WHERE code = ?", (code.code,)
    ).fetchall()
    assert bound == [("!new:x",)]
