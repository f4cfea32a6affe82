"""What sanctions need of the room registry (B1, B4), as a small protocol.

The registry (room classes, categories, registration codes) is another
concern's; closing a room retires its code and lists it as closed there,
the statements name the code, and emergency measures select rooms by class
and category. Until a registry is wired in, `NoRegistry` answers: no
codes, nothing to retire, no selection by class.
"""

from __future__ import annotations

from typing import Protocol

import attrs


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


class NoRegistry:
    """No room registry: rooms have no codes, classes or categories."""

    async def describe(self, room_id: str) -> RegisteredRoom | None:
        return None

    async def mark_closed(self, room_id: str, actor: str, reason: str) -> None:
        return None

    async def select(
        self, room_class: str | None, category: str | None
    ) -> list[RegisteredRoom]:
        raise SelectionUnavailable(
            "room classes and categories are not available on this server"
        )
