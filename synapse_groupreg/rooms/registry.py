"""The room registry (B1, B4, B6): every group's registration code, class,
category, creator and status (moves between classes: rooms/moves.py).

The registry is the authority: the room's `org.groupreg.room` state event
shows the same facts to clients, and only content equal to the registry's
may be sent (REGISTRATION_CODE_PROTECTED). Other concerns read rooms here:
`room()` is cached in every process, cheap on hot paths; `close()` retires
a room and its code for the sanctions concern (D2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config.rooms import DIRECT, RoomClass, RoomsConfig
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.rooms import classes, codes
from synapse_groupreg.rooms.classes import InvalidField, Placement
from synapse_groupreg.standing import CreditScores, IdentityLevels
from synapse_groupreg.store.rooms import RegistrySearch, RoomRow, RoomStore
from synapse_groupreg.store.seats import SeatStore

#: The room state event that shows a group's registration (API.md).
ROOM_STATE = "org.groupreg.room"


def state_content(
    code: str | None, room_class: str, category: str | None, creator: str
) -> dict[str, Any]:
    """The content of `org.groupreg.room`: {code, class, category, creator};
    direct chats have no code."""
    content: dict[str, Any] = {
        "class": room_class,
        "category": category,
        "creator": creator,
    }
    if code is not None:
        content["code"] = code
    return content


def row_state(row: RoomRow) -> dict[str, Any]:
    return state_content(row.code, row.room_class, row.category, row.creator)


class RoomRegistry:
    def __init__(
        self,
        config: RoomsConfig,
        store: RoomStore,
        seats: SeatStore,
        audit: AuditLog,
        now_ms: Callable[[], int],
        identity_levels: IdentityLevels,
        credit: CreditScores | None,
    ) -> None:
        self.config = config
        self._store = store
        self._seats = seats
        self._audit = audit
        self._now_ms = now_ms
        self._levels = identity_levels
        self._credit = credit

    def now_ms(self) -> int:
        return self._now_ms()

    async def record_refusal(self, actor: str, target: str, refusal: Refusal) -> None:
        """Every refusal is a decision, so it goes to the audit log (F1)."""
        await self._audit.record(
            actor,
            "room.refused",
            target,
            {"reason": refusal.reason.value, **refusal.params},
        )

    # -- creation -----------------------------------------------------------

    async def allocate(self, creator: str, placement: Placement) -> str:
        """A fresh registration code for a group about to be created. Called
        before the request is validated, so it reserves nothing: a code of a
        creation that fails is simply never used (and never reused)."""
        prefix = self.config.code_prefix
        return await self._store.allocate_code(
            lambda serial: codes.format_code(prefix, serial),
            creator,
            placement.room_class,
            placement.category,
            self._now_ms(),
        )

    async def register(
        self, room_id: str, sender: str, content: Mapping[str, Any]
    ) -> RoomRow | None:
        """Register a room from the `org.groupreg.room` event createRoom sends.
        None unless the content is what the module allocated for `sender`
        (direct chats: the checks vouch for them, see `register_direct`)."""
        code = content.get("code")
        room_class = content.get("class")
        category = content.get("category")
        if (
            not isinstance(code, str)
            or content.get("creator") != sender
            or set(content) != {"code", "class", "category", "creator"}
        ):
            return None
        allocated = await self._store.code(code)
        if (
            allocated is None
            or allocated.creator != sender
            or allocated.room_class != room_class
            or allocated.category != category
        ):
            return None
        return await self._register(
            room_id, code, allocated.room_class, category, sender
        )

    async def register_direct(self, room_id: str, creator: str) -> RoomRow | None:
        return await self._register(room_id, None, DIRECT, None, creator)

    async def _register(
        self,
        room_id: str,
        code: str | None,
        room_class: str,
        category: str | None,
        creator: str,
    ) -> RoomRow | None:
        row = await self._store.register(
            room_id, code, room_class, category, creator, self._now_ms()
        )
        if row is not None:
            await self._audit.record(
                creator,
                "room.register",
                room_id,
                {"code": code, "class": room_class, "category": category},
            )
        return row

    # -- lookups --------------------------------------------------------------

    async def room(self, room_id: str) -> RoomRow | None:
        """The registered room (cached in every process)."""
        return await self._store.room(room_id)

    async def find_by_code(self, text: str) -> RoomRow | None:
        """The room a typed code names (case and separators do not matter).

        Raises:
            InvalidField: the text is not a well-formed code.
        """
        code = codes.normalise_code(text)
        if code is None:
            raise InvalidField(
                "code",
                "'code' is not a registration code: a prefix, digits and a "
                "correct check digit (e.g. G000000175)",
            )
        return await self._store.room_by_code(code)

    async def rooms(
        self,
        start: int,
        limit: int,
        room_class: str | None = None,
        status: str | None = None,
        creator: str | None = None,
    ) -> list[RoomRow]:
        return await self._store.rooms(start, limit, room_class, status, creator)

    async def search(
        self, start: int, limit: int, where: RegistrySearch
    ) -> list[tuple[RoomRow, str | None]]:
        """Rooms with their names, filtered as the console asks (B4)."""
        return await self._store.search(start, limit, where)

    async def members(self, room_id: str) -> list[str]:
        return await self._seats.members(room_id)

    async def member_counts(self, room_ids: list[str]) -> dict[str, int]:
        return await self._seats.member_counts(room_ids)

    def class_of(self, row: RoomRow | None) -> RoomClass | None:
        """The configured class of a room; None for a direct chat. Rooms the
        registry does not know (created before the module was loaded, or by
        a room upgrade), and rooms of a class since removed from the
        configuration, follow the default class."""
        default = self.config.classes[self.config.default_class]
        if row is None:
            return default
        if row.room_class == DIRECT:
            return None
        return self.config.classes.get(row.room_class, default)

    # -- qualifications -----------------------------------------------------

    async def qualification(
        self, user_id: str, room_class: RoomClass, approved: bool = False
    ) -> Refusal | None:
        """B1: may `user_id` create (or move a room into) `room_class`? The
        credit requirement is skipped while the server has no credit system."""
        level = await self._levels.level_of(user_id)
        credit = (
            await self._credit.score_of(user_id)
            if self._credit is not None and room_class.create_min_credit is not None
            else None
        )
        return classes.qualification_refusal(room_class, level, credit, approved)

    async def carry_over(
        self, old_room_id: str, new_room_id: str, actor: str
    ) -> RoomRow | None:
        """A room upgrade replaced a group's room: the group, its code and its
        creator's responsibility move to the new room (B4)."""
        new = await self._store.carry_over(old_room_id, new_room_id, self._now_ms())
        if new is not None:
            await self._audit.record(
                actor,
                "room.upgraded",
                old_room_id,
                {"replacement_room": new_room_id, "code": new.code},
            )
        return new

    async def close(self, room_id: str, actor: str, reason: str) -> bool:
        """Close a group and retire its code (for D2, 关闭群组). The status
        shows in every lookup at once, on every worker."""
        closed = await self._store.close(room_id, self._now_ms())
        if closed:
            await self._audit.record(actor, "room.close", room_id, {"reason": reason})
        return closed
