"""Accountability (谁建群谁负责、谁管理谁负责, B5): who created a group and who
administered it when.

The checks hand over each create and power-levels event as plain facts;
this records the roles they give and writes every change to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.store.roles import ADMIN, CREATOR, RoleRow, RoleStore

MEMBER = "member"


class Accountability:
    def __init__(self, store: RoleStore, audit: AuditLog, admin_level: int) -> None:
        self._store = store
        self._audit = audit
        self._admin_level = admin_level

    def admins_of(self, users: Mapping[str, object]) -> dict[str, int]:
        """The admins a power-levels `users` map names (level >= the
        configured admin level); malformed entries are not admins."""
        admins: dict[str, int] = {}
        for user_id, level in users.items():
            if isinstance(level, bool) or not isinstance(level, int):
                continue
            if level >= self._admin_level:
                admins[user_id] = level
        return admins

    async def record_creators(
        self,
        room_id: str,
        event_id: str,
        stream_ordering: int,
        ts: int,
        creators: list[str],
    ) -> None:
        """The create event's sender, and in v12 rooms the additional
        creators, whose power no later event can lower."""
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
        await self._record(
            room_id,
            event_id,
            stream_ordering,
            ts,
            sender,
            ADMIN,
            self.admins_of(users),
        )

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
                {
                    "user_id": change.user_id,
                    "role": change.role,
                    "power_level": change.power_level,
                    "event_id": event_id,
                },
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
