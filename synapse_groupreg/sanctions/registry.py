"""What sanctions need of the room registry (B1, B4), as a small protocol.

The registry (room classes, categories, registration codes) is another
concern's; closing a room retires its code and lists it as closed there,
the statements name the code, and emergency measures select rooms by class
and category. `RegistryDirectory` answers over the room registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import attrs

from synapse_groupreg.store.rooms import ACTIVE

if TYPE_CHECKING:
    from synapse_groupreg.rooms.registry import RoomRegistry

_PAGE = 1000


@attrs.frozen(slots=True)
class RegisteredRoom:
    room_id: str
    code: str | None
    room_class: str | None
    category: str | None


class SelectionUnavailable(Exception):
    """The registry cannot select rooms by class or category."""


class RoomDirectory(Protocol):
    async def describe(self, room_id: str) -> RegisteredRoom | None:
        """The room's registration code, class and category, if registered."""
        ...

    async def mark_closed(self, room_id: str, actor: str, reason: str) -> None:
        """List the room as closed and retire its registration code (D2)."""
        ...

    async def select(
        self, room_class: str | None, category: str | None
    ) -> list[RegisteredRoom]:
        """Open rooms of a class and/or category (D6).

        Raises:
            SelectionUnavailable: the registry has no classes.
        """
        ...


class RegistryDirectory:
    """`RoomDirectory` over the room registry (B1, B4): the registry lists
    a closed room as closed and retires its code, and selects open rooms by
    class and category."""

    def __init__(self, registry: RoomRegistry) -> None:
        self._registry = registry

    async def describe(self, room_id: str) -> RegisteredRoom | None:
        row = await self._registry.room(room_id)
        if row is None:
            return None
        return RegisteredRoom(row.room_id, row.code, row.room_class, row.category)

    async def mark_closed(self, room_id: str, actor: str, reason: str) -> None:
        await self._registry.close(room_id, actor, reason)

    async def select(
        self, room_class: str | None, category: str | None
    ) -> list[RegisteredRoom]:
        if room_class is not None and room_class not in self._registry.config.classes:
            known = ", ".join(sorted(self._registry.config.classes))
            raise SelectionUnavailable(
                f"there is no room class '{room_class}'; the classes are: {known}"
            )
        found: list[RegisteredRoom] = []
        start = 0
        while True:
            rows = await self._registry.rooms(
                start, _PAGE, room_class=room_class, status=ACTIVE
            )
            found.extend(
                RegisteredRoom(r.room_id, r.code, r.room_class, r.category)
                for r in rows
                if category is None or r.category == category
            )
            if len(rows) < _PAGE:
                return found
            start += _PAGE
