"""The registry's storage without a homeserver (B4, B3): codes from the
never-reused sequence, registration bound to the allocation, closing and
retiring, and the cached read invalidated by each write."""

from __future__ import annotations

from synapse_groupreg.rooms.codes import format_code
from synapse_groupreg.store.rooms import CLOSED
from tests.support.memory import memory_store, resolve

ALICE = "@alice:memory.example"


def code_maker(serial: int) -> str:
    return format_code("G", serial)


def test_codes_follow_the_sequence_and_bind_once() -> None:
    """B4: each allocation takes the next serial; a code binds to one room,
    only for the creator it was allocated to."""
    store, _, _ = memory_store()
    rooms = store.rooms
    first = resolve(rooms.allocate_code(code_maker, ALICE, "small", None, 1))
    second = resolve(rooms.allocate_code(code_maker, ALICE, "small", "work", 2))
    assert (first, second) == (format_code("G", 1), format_code("G", 2))
    assert resolve(rooms.register("!a:x", first, "small", None, "@bob:x", 3)) is None
    row = resolve(rooms.register("!a:x", first, "small", None, ALICE, 3))
    assert row is not None and row.code == first
    assert resolve(rooms.register("!b:x", first, "small", None, ALICE, 4)) is None


def test_closing_retires_the_code_and_it_is_never_given_again() -> None:
    """B4, D2 groundwork: a closed room's code is retired; later codes are
    new, even when the newest rows are deleted."""
    store, memory, _ = memory_store()
    rooms = store.rooms
    code = resolve(rooms.allocate_code(code_maker, ALICE, "small", None, 1))
    resolve(rooms.register("!a:x", code, "small", None, ALICE, 2))
    assert resolve(rooms.close("!a:x", 5)) is True
    assert resolve(rooms.close("!a:x", 6)) is False
    retired = memory.conn.execute(
        "SELECT retired_ts FROM groupreg_codes WHERE code = ?", (code,)
    ).fetchall()
    assert retired == [(5,)]
    memory.conn.execute("DELETE FROM groupreg_codes")
    memory.conn.execute("DELETE FROM groupreg_rooms")
    again = resolve(rooms.allocate_code(code_maker, ALICE, "small", None, 7))
    assert again != code and again == format_code("G", 2)


def test_room_reads_are_cached_and_writes_invalidate_them() -> None:
    """Hot paths read rooms from memory; a change is seen at once."""
    store, memory, _ = memory_store()
    rooms = store.rooms
    assert resolve(rooms.room("!a:x")) is None
    code = resolve(rooms.allocate_code(code_maker, ALICE, "small", None, 1))
    resolve(rooms.register("!a:x", code, "small", None, ALICE, 2))
    row = resolve(rooms.room("!a:x"))
    assert row is not None and row.room_class == "small"
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
    code = resolve(rooms.allocate_code(code_maker, ALICE, "small", "work", 1))
    resolve(rooms.register("!old:x", code, "small", "work", ALICE, 2))
    new = resolve(rooms.carry_over("!old:x", "!new:x", 3))
    assert new is not None and (new.code, new.room_class, new.creator) == (
        code,
        "small",
        ALICE,
    )
    old = resolve(rooms.room("!old:x"))
    assert old is not None and (old.status, old.code, old.replaced_by) == (
        "upgraded",
        None,
        "!new:x",
    )
    assert resolve(rooms.room_by_code(code)) == new
    assert resolve(rooms.carry_over("!old:x", "!other:x", 4)) is None
    bound = memory.conn.execute(
        "SELECT room_id FROM groupreg_codes WHERE code = ?", (code,)
    ).fetchall()
    assert bound == [("!new:x",)]
