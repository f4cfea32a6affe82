"""The room registry (B1, B4, B6): every group's registration code, class,
category, creator and status (moves between classes: rooms/moves.py).

The registry is the authority: the room's `org.groupreg.room` state event
shows the same facts to clients, and only content equal to the registry's
may be sent (REGISTRATION_CODE_PROTECTED). Other concerns read rooms here:
`room()` is cached in every process, cheap on hot paths; `close()` retires
a room and its code for the sanctions concern (D2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from synapse_groupreg import events
from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config.rooms import DIRECT, RoomClass, RoomsConfig
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.rooms import classes, codes
from synapse_groupreg.rooms.accountability import change_details
from synapse_groupreg.rooms.classes import InvalidField
from synapse_groupreg.standing import CreditScores, IdentityLevels
from synapse_groupreg.store.audit import LOCKED as AUDIT_LOCKED
from synapse_groupreg.store.audit import AuditStore
from synapse_groupreg.store.database import Cursor, Database
from synapse_groupreg.store.roles import ADMIN, CREATOR, RoleStore
from synapse_groupreg.store.roles import LOCKED as ROLES_LOCKED
from synapse_groupreg.store.rooms import IssuedCode, RegistrySearch, RoomRow, RoomStore
from synapse_groupreg.store.seats import SeatStore

#: The room state event that shows a group's registration (docs/openapi.yaml).
ROOM_STATE = events.ROOM_STATE


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


@attrs.frozen(slots=True)
class FirstRoles:
    """Who a new room's creation makes responsible for it (B5): its
    creators (from the create event) and admins (from its first power
    levels), with the events that say so."""

    create_event: str
    created_ts: int
    creators: tuple[str, ...]
    power_event: str | None = None
    power_ts: int = 0
    admins: Mapping[str, int] = attrs.field(factory=dict)


class CodeIssuer:
    """Hands out registration codes for rooms about to be created, from
    blocks of serial numbers this process takes from the database (one
    transaction per `SERIAL_BLOCK` rooms, none per room), and recognises
    them when the room's registration state arrives: createRoom runs in one
    process, so the code it put into the room's initial state was issued
    here, to that creator, for that class and category. Codes of creations
    that fail are never used and never reused."""

    def __init__(
        self,
        store: RoomStore,
        prefix: str,
        instance: str,
        now_ms: Callable[[], int],
        lifetime_ms: int,
    ) -> None:
        self._store = store
        self._prefix = prefix
        self._instance = instance
        self._now_ms = now_ms
        self._lifetime_ms = lifetime_ms
        self._serials: Iterator[int] = iter(())
        self._issued: dict[str, tuple[IssuedCode, int]] = {}

    async def issue(
        self, creator: str, room_class: str, category: str | None
    ) -> IssuedCode:
        serial = next(self._serials, None)
        if serial is None:
            block = await self._store.take_serial_block(self._instance, self._now_ms())
            self._serials = iter(block)
            serial = next(self._serials)
        now = self._now_ms()
        issued = IssuedCode(
            serial,
            codes.format_code(self._prefix, serial),
            creator,
            room_class,
            category,
            now,
        )
        self._forget_expired(now)
        self._issued[issued.code] = (issued, now + self._lifetime_ms)
        return issued

    def peek(self, content: Mapping[str, Any], creator: str) -> IssuedCode | None:
        """The issued code `content` (an `org.groupreg.room`) carries, if it
        was issued here to `creator` for exactly that class and category."""
        code = content.get("code")
        found = self._issued.get(code) if isinstance(code, str) else None
        if found is None:
            return None
        issued, deadline = found
        if (
            deadline <= self._now_ms()
            or issued.creator != creator
            or dict(content)
            != state_content(issued.code, issued.room_class, issued.category, creator)
        ):
            return None
        return issued

    def take(self, content: Mapping[str, Any], creator: str) -> IssuedCode | None:
        """`peek`, and the code is taken: it registers one room only."""
        issued = self.peek(content, creator)
        if issued is not None:
            del self._issued[issued.code]
        return issued

    def _forget_expired(self, now: int) -> None:
        if len(self._issued) > 1000:
            self._issued = {k: v for k, v in self._issued.items() if v[1] > now}


class RoomRegistry:
    def __init__(
        self,
        config: RoomsConfig,
        db: Database,
        store: RoomStore,
        seats: SeatStore,
        roles: RoleStore,
        audit: AuditLog,
        now_ms: Callable[[], int],
        identity_levels: IdentityLevels,
        credit: CreditScores | None,
        instance: str,
    ) -> None:
        self.config = config
        self._db = db
        self._store = store
        self._seats = seats
        self._roles = roles
        self._audit = audit
        self._now_ms = now_ms
        self._levels = identity_levels
        self._credit = credit
        self.codes = CodeIssuer(
            store, config.code_prefix, instance, now_ms, config.seat_hold_ms * 5
        )

    def now_ms(self) -> int:
        return self._now_ms()

    # -- creation -----------------------------------------------------------

    async def register(
        self,
        room_id: str,
        creator: str,
        code: IssuedCode | None,
        room_class: str,
        category: str | None,
        roles: FirstRoles,
        adopted_from_ts: int | None = None,
        encryption_exception: bool = False,
        action: str = "room.register",
        details: Mapping[str, Any] | None = None,
    ) -> RoomRow | None:
        """Register a room createRoom is making (or, `adopted_from_ts`, one
        that existed before the module: H1), with its first creators and
        admins and their audit entries, in one transaction (B4, B5). None if
        the room or the code is taken."""
        now = self._now_ms()
        audit = self._audit
        actor = creator if adopted_from_ts is None else SYSTEM

        def txn_fn(txn: Cursor) -> RoomRow | None:
            self._db.lock_table(txn, ROLES_LOCKED)
            self._db.lock_table(txn, AUDIT_LOCKED)
            row = self._store.register_txn(
                txn,
                room_id,
                code,
                room_class,
                category,
                creator,
                now,
                adopted_from_ts,
                encryption_exception,
            )
            if row is None:
                return None
            AuditStore.append_txn(
                txn,
                audit.row(
                    actor,
                    action,
                    room_id,
                    {
                        "code": row.code,
                        "class": room_class,
                        "category": category,
                        **(details or {}),
                    },
                ),
            )
            given = [
                (
                    roles.create_event,
                    roles.created_ts,
                    CREATOR,
                    dict.fromkeys(roles.creators),
                )
            ]
            if roles.power_event is not None:
                given.append(
                    (roles.power_event, roles.power_ts, ADMIN, dict(roles.admins))
                )
            for event_id, ts, role, holders in given:
                changes = self._roles.record_txn(
                    txn, room_id, event_id, 0, ts, role, holders
                )
                for change in changes or ():
                    AuditStore.append_txn(
                        txn,
                        audit.row(
                            actor,
                            f"room.role_{change.change}",
                            room_id,
                            change_details(change, event_id),
                        ),
                    )
            return row

        row = await self._db.run("register_room", txn_fn)
        if row is not None:
            await self._store.registered(row)
        return row

    async def record_refusal(self, actor: str, target: str, refusal: Refusal) -> None:
        """Every refusal is a decision, so it goes to the audit log (F1)."""
        await self._audit.record(
            actor,
            "room.refused",
            target,
            {"reason": refusal.reason.value, **refusal.params},
        )

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
