"""Adopting an existing server (H1, H2, H3, H5).

The instance that runs background tasks registers every room the registry
does not know, as soon as the module starts and again every
`adoption.interval`: rooms made before the module was loaded, or while it
was unloaded. For each, from its current state:

- the creator from `m.room.create` (room version 12's additional creators
  too); rooms made by another server's users are not ours to register and
  are skipped;
- its class (adoption/classify.py): direct chats become `direct`, groups
  the smallest class that holds them, `over_cap` above every cap;
- a registration code, and its admins from the current power levels,
  recorded as holding their role *since adoption* (the registry does not
  invent a past it did not see);
- members are counted for the caps from Synapse's own state, as for any
  room, so nobody is removed and nobody new joins an over-cap room;
- an encrypted room in a class that forbids encryption is kept working as
  an exception, or has its posting suspended with a statement, as
  `adoption.encrypted_rooms` says;
- the `org.groupreg.room` state, sent as a member who has the power to
  (creators first, then by power level), audited with who sent it.

Each room is registered in one transaction; the next pass starts where
the last stopped, so adoption resumes after a restart. Batches of
`adoption.batch` rooms with `adoption.pause` between them keep the server
responsive. A room that fails is tried again later, with a growing wait.

Repair (H5): after start-up and after each pass that adopted rooms, every
registered room's `org.groupreg.room` is compared with the registry and
rewritten where it is missing or differs (changed while the module was
unloaded, for instance); each repair is audited.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synapse_groupreg.adoption.classify import Placement, place_existing
from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.config.adoption import EncryptedRooms
from synapse_groupreg.events import CREATE, ENCRYPTION, MEMBER, POWER_LEVELS, SEATED
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.metrics import AdoptionGauges
from synapse_groupreg.rooms.powers import admins_at, creators_of
from synapse_groupreg.rooms.registry import FirstRoles, RoomRegistry, row_state
from synapse_groupreg.sanctions.model import SanctionOrder
from synapse_groupreg.sanctions.service import SanctionService
from synapse_groupreg.store.adoption import (
    FAILED,
    REGISTERED,
    SKIPPED,
    AdoptionStore,
    UnknownRoom,
)
from synapse_groupreg.store.rooms import RoomRow

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

#: A room younger than this may be the new room of an upgrade whose
#: tombstone is still on its way (the group moves there with its code).
_SETTLE_MS = 10_000
#: How long a failed room waits before the next try, doubling per failure.
_RETRY_MS = 5 * 60_000
_REPAIR_PAGE = 200
_CREATE = (CREATE, "")
_POWER = (POWER_LEVELS, "")
_ENCRYPTION = (ENCRYPTION, "")

ENCRYPTED_REASON = (
    "该群组在启用群组管理前已开启端到端加密，而其类别“{room_class}”不允许加密"
    "（加密的内容无法按规定审核）。加密无法关闭：请新建一个不加密的群组继续交流。",
    "This group was end-to-end encrypted before group governance was turned "
    "on, and its class '{room_class}' does not allow encryption (encrypted "
    "content cannot be reviewed as the rules require). Encryption cannot be "
    "turned off: please continue in a new, unencrypted group.",
)


class Adoption:
    def __init__(
        self,
        api: ModuleApi,
        config: GroupRegConfig,
        store: AdoptionStore,
        registry: RoomRegistry,
        matrix: MatrixRooms,
        sanctions: SanctionService,
        audit: AuditLog,
        now_ms: Callable[[], int],
        gauges: AdoptionGauges,
    ) -> None:
        self._api = api
        self._config = config
        self._store = store
        self._registry = registry
        self._matrix = matrix
        self._sanctions = sanctions
        self._audit = audit
        self._now_ms = now_ms
        self._gauges = gauges
        self._running = False
        self._repaired_once = False
        #: The last pass: when it ended, what it did (for the admin API).
        self.last_pass: dict[str, Any] = {}

    # -- the job ------------------------------------------------------------------

    async def run(self) -> None:
        """One pass: adopt what the registry does not know, then repair."""
        if self._running:
            return
        self._running = True
        started = self._now_ms()
        try:
            adopted, failed = await self._adopt_all()
            repaired = 0
            if self._config.adoption.repair and (adopted or not self._repaired_once):
                repaired = await self._repair_all()
                self._repaired_once = True
            self.last_pass = {
                "started_ts": started,
                "ended_ts": self._now_ms(),
                "adopted": adopted,
                "failed": failed,
                "repaired": repaired,
            }
            if adopted or failed or repaired:
                logger.info(
                    "adoption: pass done, %d room(s) registered, %d failed, "
                    "%d registration state(s) repaired",
                    adopted,
                    failed,
                    repaired,
                )
        finally:
            self._running = False
            await self.refresh_gauges()

    async def progress(self) -> dict[str, int]:
        now = self._now_ms()
        return await self._store.progress(now - _SETTLE_MS, now)

    async def refresh_gauges(self) -> None:
        try:
            self._gauges.set(await self.progress())
        except Exception:
            logger.exception("adoption: could not count progress")

    async def _adopt_all(self) -> tuple[int, int]:
        adopted = failed = 0
        batch_size = self._config.adoption.batch
        while True:
            now = self._now_ms()
            batch = await self._store.unknown_rooms(batch_size, now - _SETTLE_MS, now)
            if not batch:
                if not await self._store.unknown_rooms(1, now, now):
                    return adopted, failed
                # Rooms too young to take yet: they will be old enough soon.
                await self._api.sleep(_SETTLE_MS / 1000)
                continue
            for room in batch:
                try:
                    if await self.adopt(room):
                        adopted += 1
                except Exception as e:
                    failed += 1
                    await self._failed(room, e)
            progress = await self.progress()
            self._gauges.set(progress)
            logger.info(
                "adoption: %d room(s) registered, %d to go, %d failed",
                progress[REGISTERED],
                progress["pending"],
                progress[FAILED],
            )
            await self._api.sleep(self._config.adoption.pause_ms / 1000)

    async def _failed(self, room: UnknownRoom, error: Exception) -> None:
        logger.warning("adoption: could not register %s: %s", room.room_id, error)
        await self._store.record_failure(
            room.room_id,
            json.dumps({"error": f"{type(error).__name__}: {error}"}),
            self._now_ms(),
            _RETRY_MS,
        )

    # -- one room -----------------------------------------------------------------

    async def adopt(self, room: UnknownRoom) -> bool:
        """Register one existing room; False if it is not ours to register."""
        now = self._now_ms()
        if not self._api.is_mine(room.creator):
            await self._store.record(
                room.room_id,
                SKIPPED,
                json.dumps({"why": "made by another server"}),
                now,
            )
            return False
        state = await self._matrix.state(room.room_id)
        members = [
            str(key)
            for (kind, key), event in state.items()
            if kind == MEMBER and event.membership in SEATED
        ]
        direct = len(members) <= 2 and await self._is_direct(
            room.room_id, state, members
        )
        placement = place_existing(
            self._config.rooms, self._config.adoption.classes, len(members), direct
        )
        room_class = (
            None
            if placement.is_direct
            else self._config.rooms.classes[placement.room_class]
        )
        encrypted = _ENCRYPTION in state
        forbidden = encrypted and not self._config.rooms.allows_encryption(room_class)
        keep = self._config.adoption.encrypted_rooms is EncryptedRooms.KEEP
        create = state.get(_CREATE)
        power = state.get(_POWER)
        users: Any = power.content.get("users") if power is not None else None
        roles = FirstRoles(
            create_event=create.event_id if create is not None else "",
            created_ts=now,
            creators=creators_of(create) or (room.creator,),
            power_event=power.event_id if power is not None else None,
            power_ts=now,
            admins=admins_at(dict(users or {}), self._config.rooms.admin_power_level),
        )
        code = (
            None
            if placement.is_direct
            else await self._registry.codes.issue(
                room.creator, placement.room_class, None
            )
        )
        details = {
            "class": placement.room_class,
            "members": len(members),
            "over_cap": placement.over_cap,
            "encrypted": encrypted,
            "encryption_exception": forbidden and keep,
        }
        row = await self._registry.register(
            room.room_id,
            room.creator,
            code,
            placement.room_class,
            None,
            roles,
            adopted_from_ts=room.created_ts,
            encryption_exception=forbidden and keep,
            action="room.adopted",
            details=details,
        )
        if row is None:  # registered meanwhile (createRoom, another pass)
            return False
        sender = await self._matrix.publish(row)
        await self._audit.record(
            SYSTEM,
            "room.state_written",
            room.room_id,
            {"sender": sender, "state": row_state(row)},
        )
        if forbidden and not keep:
            await self._suspend_encrypted(row, placement)
        await self._store.record(
            room.room_id,
            REGISTERED,
            json.dumps({**details, "state_sender": sender}),
            now,
        )
        return True

    async def _is_direct(self, room_id: str, state: Any, members: list[str]) -> bool:
        """Marked direct by a member: `is_direct` on an invite (the member
        event in the state, or the invite it replaced when the invitee
        joined), or the room listed in a local member's `m.direct` account
        data (where Element keeps its direct chats)."""
        for user_id in members:
            member = state.get((MEMBER, user_id))
            if member is None:
                continue
            if member.content.get("is_direct") is True:
                return True
            replaced = member.unsigned.get("replaces_state")
            if isinstance(replaced, str):
                invite = await self._matrix.event(replaced)
                if invite is not None and invite.content.get("is_direct") is True:
                    return True
        for user_id in members:
            if not self._api.is_mine(user_id):
                continue
            direct = await self._api.account_data_manager.get_global(
                user_id, "m.direct"
            )
            for rooms in (direct or {}).values():
                if isinstance(rooms, list | tuple) and room_id in rooms:
                    return True
        return False

    async def _suspend_encrypted(self, row: RoomRow, placement: Placement) -> None:
        zh, en = ENCRYPTED_REASON
        reason = self._config.language.pick(
            zh.format(room_class=placement.room_class),
            en.format(room_class=placement.room_class),
        )
        await self._sanctions.apply(
            SanctionOrder(
                scope="room",
                target=row.room_id,
                action="suspend_posting",
                reason=reason,
                actor=SYSTEM,
                automated=True,
                duration_ms=self._config.adoption.suspend_for_ms,
                evidence={"adoption": "encrypted room in a class without encryption"},
            )
        )

    # -- repair (H5) --------------------------------------------------------------

    async def _repair_all(self) -> int:
        repaired = 0
        after = ""
        while True:
            page = await self._store.registered_rooms(after, _REPAIR_PAGE)
            if not page:
                return repaired
            for room_id in page:
                try:
                    if await self.repair(room_id):
                        repaired += 1
                except Exception:
                    logger.exception("repair: could not check %s", room_id)
            after = page[-1]
            await self._api.sleep(self._config.adoption.pause_ms / 1000)

    async def repair(self, room_id: str) -> bool:
        """Rewrite the room's registration state if it differs from the
        registry; True if it was rewritten."""
        row = await self._registry.room(room_id)
        if row is None:
            return False
        wanted = row_state(row)
        found = await self._matrix.registration_state(room_id)
        if found == wanted:
            return False
        sender = await self._matrix.publish(row)
        await self._audit.record(
            SYSTEM,
            "room.repaired",
            room_id,
            {"found": found, "wanted": wanted, "sender": sender},
        )
        return sender is not None
