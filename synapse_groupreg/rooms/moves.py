"""Moving a room to another class, and declaring its category (B2, B6).

The creator asks; qualifications and the room's fit (members, encryption,
remote members) are checked at once; a class that needs platform approval
queues the request for a server admin, whose approval re-checks the fit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import attrs

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.config.rooms import RoomClass, RoomsConfig
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.rooms import classes
from synapse_groupreg.rooms.classes import InvalidField
from synapse_groupreg.rooms.registry import RoomRegistry
from synapse_groupreg.store.class_requests import ClassRequest, ClassRequestStore
from synapse_groupreg.store.rooms import ACTIVE, RoomRow, RoomStore

logger = logging.getLogger(__name__)


class Unpublished(Exception):
    """No member could publish the changed `org.groupreg.room`; the
    registry was put back, so nothing changed."""

    def __init__(self, room_id: str) -> None:
        super().__init__(room_id)
        self.room_id = room_id


@attrs.frozen(slots=True)
class MoveOutcome:
    """What asking to move a room gave: moved now, or queued for approval."""

    moved: bool
    room: RoomRow
    request: ClassRequest | None = None


class ClassMoves:
    def __init__(
        self,
        config: RoomsConfig,
        registry: RoomRegistry,
        rooms: RoomStore,
        requests: ClassRequestStore,
        audit: AuditLog,
        now_ms: Callable[[], int],
        publish: Callable[[RoomRow], Awaitable[str | None]],
    ) -> None:
        self.config = config
        self._publish = publish
        self._registry = registry
        self._store = rooms
        self._requests = requests
        self._audit = audit
        self._now_ms = now_ms

    def _target(self, name: str, category: object) -> RoomClass:
        target = self.config.classes.get(name)
        if target is None:
            raise InvalidField("class", "", Reason.CLASS_UNKNOWN)
        classes.check_category(target, category, "category")
        return target

    async def _fit_refusal(
        self, room: RoomRow, target: RoomClass, encrypted: bool
    ) -> Refusal | None:
        members = await self._registry.members(room.room_id)
        # Rooms are created here, so the creator's server is this one.
        remote = sorted(
            {classes.server_of(m) for m in members}
            - {classes.server_of(room.creator)}
            - self.config.federation_allowlist
        )
        return classes.moving_refusal(target, len(members), encrypted, remote)

    async def request_move(
        self,
        room: RoomRow,
        requester: str,
        target_name: str,
        category: str | None,
        encrypted: bool,
    ) -> MoveOutcome | Refusal:
        """B2: the creator asks to move `room` to another class. Their
        qualifications and the room's fit are checked now; a class that needs
        approval queues the request for a server admin.

        Raises:
            InvalidField: unknown class or category, or the room's own class.
        """
        target = self._target(target_name, category)
        if target.name == room.room_class:
            raise InvalidField(
                "class", f"the group is already in class '{target.name}'"
            )
        refusal = await self._registry.qualification(requester, target, approved=True)
        if refusal is None:
            refusal = await self._fit_refusal(room, target, encrypted)
        if refusal is None and target.created_per_user is not None:
            created = await self._store.rooms(
                0, target.created_per_user, target.name, ACTIVE, room.creator
            )
            if len(created) >= target.created_per_user:
                refusal = Refusal(
                    Reason.CREATE_LIMIT, {"limit": target.created_per_user}
                )
        if refusal is not None:
            return refusal
        new_category = category if category is not None else _kept(room, target)
        if target.create_approval:
            request = await self._requests.add_request(
                room.room_id,
                requester,
                room.room_class,
                target.name,
                new_category,
                self._now_ms(),
            )
            await self._audit.record(
                requester,
                "room.class_requested",
                room.room_id,
                {
                    "request_id": request.request_id,
                    "from": room.room_class,
                    "to": target.name,
                },
            )
            return MoveOutcome(False, room, request)
        moved = await self._move(room, target.name, new_category, requester, None)
        return MoveOutcome(True, moved)

    async def admin_move(
        self,
        room: RoomRow,
        admin: str,
        target_name: str,
        category: str | None,
        encrypted: bool,
    ) -> MoveOutcome | Refusal:
        """A server admin moves a group to another class (H2: an adopted
        room over its cap, for one): no qualifications to weigh, but the
        room must fit the class. An encrypted room kept as an exception
        stays one.

        Raises:
            InvalidField: unknown class or category, or the room's own class.
        """
        target = self._target(target_name, category)
        if target.name == room.room_class:
            raise InvalidField(
                "class", f"the group is already in class '{target.name}'"
            )
        refusal = await self._fit_refusal(
            room, target, encrypted and not room.encryption_exception
        )
        if refusal is not None:
            return refusal
        new_category = category if category is not None else _kept(room, target)
        moved = await self._move(room, target.name, new_category, admin, None)
        return MoveOutcome(True, moved)

    async def decide(
        self,
        request: ClassRequest,
        approve: bool,
        admin: str,
        note: str | None,
        encrypted: bool,
    ) -> MoveOutcome | Refusal | None:
        """A server admin approves or rejects a queued move. Approval
        re-checks that the room still fits the class (qualifications were
        the admin's to weigh). None if the request was no longer pending or
        its room is gone."""
        room = await self._store.room(request.room_id)
        if room is None:
            return None
        if approve:
            target = self.config.classes.get(request.to_class)
            if target is None:
                return Refusal(
                    Reason.CLASS_UNKNOWN,
                    {
                        "room_class": request.to_class,
                        "allowed": ", ".join(self.config.class_names()),
                    },
                )
            refusal = await self._fit_refusal(room, target, encrypted)
            if refusal is not None:
                return refusal
        status = "approved" if approve else "rejected"
        if not await self._requests.decide_request(
            request.request_id, status, admin, note, self._now_ms()
        ):
            return None
        moved = room
        if approve:
            try:
                moved = await self._move(
                    room, request.to_class, request.category, admin, request.request_id
                )
            except Unpublished:
                await self._requests.reopen_request(request.request_id)
                raise
        await self._audit.record(
            admin,
            f"room.class_request_{status}",
            room.room_id,
            {"request_id": request.request_id, "note": note},
        )
        return MoveOutcome(approve, moved, request)

    async def set_category(self, room: RoomRow, category: str, actor: str) -> RoomRow:
        """B6: declare the group's category (one of its class's).

        Raises:
            InvalidField: not a category of the room's class.
        """
        room_class = self.config.classes.get(room.room_class)
        if room_class is None:
            raise InvalidField("category", "direct chats have no category")
        classes.check_category(room_class, category, "category")
        changed = await self._change(room, room.room_class, category)
        await self._audit.record(
            actor,
            "room.category_changed",
            room.room_id,
            {"from": room.category, "to": category},
        )
        return changed

    async def _change(
        self, room: RoomRow, to_class: str, category: str | None
    ) -> RoomRow:
        """Change the registry and publish the room's `org.groupreg.room`
        together or not at all: the state may only say what the registry
        says (B4), so the registry changes first and is put back when no
        member can publish it.

        Raises:
            Unpublished: nobody could publish it; the registry is as it was.
        """
        await self._store.set_class(room.room_id, to_class, category)
        changed = attrs.evolve(room, room_class=to_class, category=category)
        try:
            published = await self._publish(changed) is not None
        except Exception:
            logger.exception("publishing %s failed", room.room_id)
            published = False
        if not published:
            await self._store.set_class(room.room_id, room.room_class, room.category)
            raise Unpublished(room.room_id)
        return changed

    async def _move(
        self,
        room: RoomRow,
        to_class: str,
        category: str | None,
        actor: str,
        request_id: int | None,
    ) -> RoomRow:
        changed = await self._change(room, to_class, category)
        await self._audit.record(
            actor,
            "room.class_changed",
            room.room_id,
            {
                "from": room.room_class,
                "to": to_class,
                "category": category,
                "request_id": request_id,
            },
        )
        return changed

    async def requests(
        self, status: str | None, start: int, limit: int
    ) -> list[ClassRequest]:
        return await self._requests.requests(status, start, limit)

    async def request(self, request_id: int) -> ClassRequest | None:
        return await self._requests.request(request_id)


def _kept(room: RoomRow, target: RoomClass) -> str | None:
    """The room's category, if the target class has it too."""
    return room.category if room.category in target.categories else None
