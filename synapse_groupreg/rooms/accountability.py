"""Accountability (谁建群谁负责、谁管理谁负责, B5): who created a group and who
administered it when.

The checks hand over each create and power-levels event as plain facts;
this records the roles they give and writes every change to the audit log.
A room's first roles are recorded with its registration, in the same
transaction (rooms/registry.py); the events that gave them are then
remembered here, so that seeing them again once stored costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.rooms.powers import admins_at
from synapse_groupreg.store.roles import ADMIN, CREATOR, RoleChange, RoleRow, RoleStore

MEMBER = "member"
#: Events recorded with a registration, remembered at most this many.
_REMEMBERED = 10_000


def change_details(change: RoleChange, event_id: str) -> dict[str, Any]:
    """The audit entry's details for one change of who holds a role."""
    return {
        "user_id": change.user_id,
        "role": change.role,
        "power_level": change.power_level,
        "event_id": event_id,
    }


class Accountability:
    def __init__(self, store: RoleStore, audit: AuditLog, admin_level: int) -> None:
        self._store = store
        self._audit = audit
        self.admin_level = admin_level
        self._recorded: set[str] = set()

    def admins_of(self, users: Mapping[str, object]) -> dict[str, int]:
        """The admins a power-levels `users` map names (level >= the
        configured admin level); malformed entries are not admins."""
        return admins_at(users, self.admin_level)

    def recorded_with_registration(self, event_ids: list[str]) -> None:
        """These events' roles were recorded when their room was registered."""
        if len(self._recorded) >= _REMEMBERED:
            self._recorded.clear()  # a bound, not a cache policy
        self._recorded.update(event_ids)

    async def record_creators(
        self,
        room_id: str,
        event_id: str,
        stream_ordering: int,
        ts: int,
        creators: tuple[str, ...],
    ) -> None:
        """The create event's sender, and in v12 rooms the additional
        creators, whose power no later event can lower."""
        if not creators or self._seen(event_id):
            return
        await self._record(
            room_id,
            event_id,
            stream_ordering,
            ts,
            creators[0],
            CREATOR,
            dict.fromkeys(creators),
        )

    async def record_admins(
        self,
        room_id: str,
        event_id: str,
        stream_ordering: int,
        ts: int,
        sender: str,
        users: Mapping[str, object],
    ) -> None:
        if self._seen(event_id):
            return
        await self._record(
            room_id,
            event_id,
            stream_ordering,
            ts,
            sender,
            ADMIN,
            self.admins_of(users),
        )

    def _seen(self, event_id: str) -> bool:
        if event_id in self._recorded:
            self._recorded.discard(event_id)
            return True
        return False

    async def _record(
        self,
        room_id: str,
        event_id: str,
        stream_ordering: int,
        ts: int,
        actor: str,
        role: str,
        holders: Mapping[str, int | None],
    ) -> None:
        changes = await self._store.record(
            room_id, event_id, stream_ordering, ts, role, holders
        )
        for change in changes or ():
            await self._audit.record(
                actor,
                f"room.role_{change.change}",
                room_id,
                change_details(change, event_id),
            )

    async def history(self, room_id: str) -> list[RoleRow]:
        return await self._store.history(room_id)

    async def responsible_at(self, room_id: str, at_ts: int) -> list[RoleRow]:
        """Creators and admins of the room at `at_ts`, creators first."""
        return await self._store.holders_at(room_id, at_ts)

    @staticmethod
    def role_of(user_id: str, holders: list[RoleRow]) -> str:
        """creator, admin or member, from `responsible_at`'s answer."""
        roles = {row.role for row in holders if row.user_id == user_id}
        if CREATOR in roles:
            return CREATOR
        if ADMIN in roles:
            return ADMIN
        return MEMBER
