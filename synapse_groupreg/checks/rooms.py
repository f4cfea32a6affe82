"""Room callbacks: classes and codes at creation (B1, B2, B4, B7, C5), the
protected registration state, encryption, caps (B3) and accountability (B5).

One `check_event_allowed` serves the whole concern and returns at once for
event types it has no rule about, since Synapse calls it for every event a
local user sends (messages included).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from synapse.api.errors import Codes, SynapseError
from synapse.module_api import NOT_SPAM

from synapse_groupreg.audit import SYSTEM
from synapse_groupreg.checks.membership import MEMBER, SEATED, Membership
from synapse_groupreg.config.rooms import DIRECT, class_name
from synapse_groupreg.http.base import invalid_param
from synapse_groupreg.reasons import (
    Reason,
    Refusal,
    message,
    to_spam_result,
    to_synapse_error,
)
from synapse_groupreg.rooms import classes
from synapse_groupreg.rooms.classes import InvalidField, Placement
from synapse_groupreg.rooms.registry import ROOM_STATE, row_state, state_content
from synapse_groupreg.services import Services

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi, Requester

logger = logging.getLogger(__name__)

ENCRYPTION = "m.room.encryption"
ENCRYPTED = "m.room.encrypted"
REDACTION = "m.room.redaction"
POWER_LEVELS = "m.room.power_levels"
CREATE = "m.room.create"
TOMBSTONE = "m.room.tombstone"
_PURGE_EVERY_MS = 60_000
# How long a direct chat announced by on_create_room may take to send its
# registration state (createRoom runs in one process, within seconds).
_PENDING_DIRECT_MS = 300_000

_ALLOW: tuple[bool, None] = (True, None)
StateMap = Mapping[tuple[str, str], "EventBase"]


class RoomChecks:
    def __init__(self, api: ModuleApi, services: Services) -> None:
        self._api = api
        self._s = services
        self._config = services.config.rooms
        self._language = services.config.language
        self._membership = Membership(api, services)
        # Direct chats have no code to vouch for them: createRoom runs in one
        # process, so on_create_room notes them here and the registration
        # state they send is accepted against this note. user -> deadlines.
        self._pending_direct: dict[str, list[int]] = {}

    def register(self) -> None:
        self._api.register_third_party_rules_callbacks(
            on_create_room=self.on_create_room,
            check_event_allowed=self.check_event_allowed,
            on_new_event=self.on_new_event,
        )
        self._api.register_spam_checker_callbacks(
            user_may_create_room=self.user_may_create_room
        )
        self._api.looping_background_call(self._purge, _PURGE_EVERY_MS)

    # -- refusals -------------------------------------------------------------

    async def _deny(self, actor: str, target: str, refusal: Refusal) -> SynapseError:
        try:
            await self._s.rooms.record_refusal(actor, target, refusal)
        except Exception:
            logger.exception("could not audit a refusal of %s", actor)
        return to_synapse_error(refusal, self._language)

    def _invalid(self, e: InvalidField, placement_class: str) -> Refusal | SynapseError:
        if e.reason is Reason.CLASS_UNKNOWN:
            return classes.unknown_class(self._config, placement_class)
        return invalid_param(e.field, e.message)

    # -- creation -------------------------------------------------------------

    async def on_create_room(
        self, requester: Requester, request: dict[str, Any], is_admin: bool
    ) -> None:
        """Place the room in a class, refuse what its class forbids, force
        `m.federate: false` where federation is off, and add the registration
        state with a fresh code to `initial_state`. Runs before Synapse
        validates the request, so nothing is counted here."""
        user_id = requester.user.to_string()
        try:
            placement = classes.place_new_room(self._config, request)
        except InvalidField as e:
            answer = self._invalid(e, str(request.get(classes.CLASS_FIELD)))
            if isinstance(answer, SynapseError):
                raise answer from None
            raise await self._deny(user_id, "", answer) from None

        refusal: Refusal | None = None
        started = time.perf_counter()
        try:
            # Malformed ids are left to Synapse, which refuses them with 400.
            invitees = [
                u
                for u in request.get("invite") or ()
                if isinstance(u, str) and u.startswith("@") and ":" in u
            ]
            remote = [
                u
                for u in invitees
                if not self._api.is_mine(u)
                and classes.server_of(u) not in self._config.federation_allowlist
            ]
            initial_state = [
                s for s in request.get("initial_state") or () if isinstance(s, dict)
            ]
            refusal = classes.creation_refusal(
                self._config,
                placement,
                initial_state,
                remote,
                len(invitees) + len(request.get("invite_3pid") or ()),
            )
            if refusal is None:
                await self._prepare(user_id, request, placement, initial_state)
        except Exception as e:
            refusal = self._s.guard.failed("rooms", e)
        self._s.guard.meter("rooms").done(started, refusal)
        if refusal is not None:
            raise await self._deny(user_id, "", refusal)

    async def _prepare(
        self,
        user_id: str,
        request: dict[str, Any],
        placement: Placement,
        initial_state: list[dict[str, Any]],
    ) -> None:
        _, allows_federation, _ = classes.class_limits(self._config, placement)
        if not allows_federation and not self._config.federation_allowlist:
            creation = request.get("creation_content")
            creation = dict(creation) if isinstance(creation, dict) else {}
            creation["m.federate"] = False
            request["creation_content"] = creation
        if placement.is_direct:
            code = None
            now = self._api.get_current_time_msec()
            pending = self._pending_direct.setdefault(user_id, [])
            pending[:] = [t for t in pending if t > now]
            pending.append(now + _PENDING_DIRECT_MS)
        else:
            code = await self._s.rooms.allocate(user_id, placement)
        # Whatever the client put there, the registration state is ours.
        request["initial_state"] = [
            s for s in initial_state if s.get("type") != ROOM_STATE
        ] + [
            {
                "type": ROOM_STATE,
                "state_key": "",
                "content": state_content(
                    code, placement.room_class, placement.category, user_id
                ),
            }
        ]
        request[classes.CLASS_FIELD] = placement.room_class

    async def user_may_create_room(
        self, user_id: str, request: dict[str, Any]
    ) -> Literal["NOT_SPAM"] | tuple[Codes, dict[str, Any]]:
        """B1 qualifications and B3 creation caps, once Synapse has validated
        the request (server admins never reach this: Synapse skips it)."""
        if self._s.notices.is_bot(user_id):
            return NOT_SPAM
        registration = next(
            (
                s.get("content") or {}
                for s in request.get("initial_state") or ()
                if isinstance(s, dict) and s.get("type") == ROOM_STATE
            ),
            None,
        )
        if registration is None or registration.get("class") == DIRECT:
            return NOT_SPAM  # a direct chat, or a room upgrade (not ours)
        started = time.perf_counter()
        try:
            room_class = self._config.classes[registration["class"]]
            refusal = await self._s.rooms.qualification(user_id, room_class)
            if refusal is None:
                refusal = await self._s.caps.admit_creation(
                    registration["code"], user_id, room_class
                )
        except Exception as e:
            refusal = self._s.guard.failed("caps", e)
        self._s.guard.meter("caps").done(started, refusal)
        if refusal is None:
            return NOT_SPAM
        await self._s.rooms.record_refusal(user_id, "", refusal)
        return to_spam_result(refusal, self._language)

    # -- every event ------------------------------------------------------------

    async def check_event_allowed(
        self, event: EventBase, state: StateMap
    ) -> tuple[bool, dict[str, Any] | None]:
        event_type = event.type
        if event_type == MEMBER:
            check = "caps"
        elif event_type in (ROOM_STATE, ENCRYPTION, ENCRYPTED, REDACTION):
            check = "rooms"
        else:
            return _ALLOW  # the per-message path: nothing to look up
        started = time.perf_counter()
        try:
            if event_type == MEMBER:
                refusal = await self._membership.decide(event, state)
            elif event_type == ROOM_STATE:
                refusal = await self._registration_state(event)
            elif event_type == REDACTION:
                refusal = self._redaction(event, state)
            else:
                refusal = await self._encryption(event)
        except Exception as e:
            refusal = self._s.guard.failed(check, e)
        self._s.guard.meter(check).done(started, refusal)
        if refusal is None:
            return _ALLOW
        raise await self._deny(event.sender, event.room_id, refusal)

    async def _encryption(self, event: EventBase) -> Refusal | None:
        """C5: encryption only where the room's class allows it (encrypted
        rooms cannot be filtered)."""
        room_class = self._s.rooms.class_of(await self._s.rooms.room(event.room_id))
        if self._config.allows_encryption(room_class):
            return None
        return Refusal(
            Reason.ENCRYPTION_FORBIDDEN, {"room_class": class_name(room_class)}
        )

    async def _registration_state(self, event: EventBase) -> Refusal | None:
        """B4: `org.groupreg.room` carries exactly what the registry says.
        The first one, from createRoom, registers the room."""
        protected = Refusal(Reason.REGISTRATION_CODE_PROTECTED)
        if event.state_key != "":
            return protected
        content = {k: event.content.get(k) for k in event.content}
        room = await self._s.rooms.room(event.room_id)
        if room is not None:
            return None if content == row_state(room) else protected
        if content.get("class") == DIRECT:
            if content != state_content(None, DIRECT, None, event.sender):
                return protected
            if not self._take_pending_direct(event.sender):
                return protected
            registered = await self._s.rooms.register_direct(
                event.room_id, event.sender
            )
        else:
            registered = await self._s.rooms.register(
                event.room_id, event.sender, content
            )
        return None if registered is not None else protected

    @staticmethod
    def _redaction(event: EventBase, state: StateMap) -> Refusal | None:
        """B4: redacting the registration state would strip its content;
        only the module changes it. Compared with the state Synapse passes
        in, so no lookup is needed."""
        registration = state.get((ROOM_STATE, ""))
        if registration is not None and event.redacts == registration.event_id:
            return Refusal(Reason.REGISTRATION_CODE_PROTECTED)
        return None

    def _take_pending_direct(self, user_id: str) -> bool:
        now = self._api.get_current_time_msec()
        pending = [t for t in self._pending_direct.get(user_id, ()) if t > now]
        if not pending:
            self._pending_direct.pop(user_id, None)
            return False
        pending.pop(0)
        self._pending_direct[user_id] = pending
        return True

    async def on_new_event(self, event: EventBase, state: StateMap) -> None:
        """Once an event is stored: release the reserved seat of a member who
        left (B3), and record creators and admins (B5). Runs in every
        process; the writes are idempotent (store/roles.py), the release is
        left to the one process that runs background tasks."""
        event_type = event.type
        if event_type not in (MEMBER, POWER_LEVELS, CREATE, TOMBSTONE):
            return
        try:
            if event_type == MEMBER:
                if self._api.should_run_background_tasks():
                    await self._member_arrived_or_left(event, state)
                return
            if event.state_key != "":
                return
            if event_type == TOMBSTONE:
                if self._api.should_run_background_tasks():
                    await self._upgraded(event)
                return
            ordering = event.internal_metadata.stream_ordering or 0
            if event_type == CREATE:
                creators = [event.sender]
                if event.room_version.msc4289_creator_power_enabled:
                    extra = event.content.get("additional_creators") or ()
                    creators += [str(u) for u in extra if u != event.sender]
                await self._s.roles.record_creators(
                    event.room_id,
                    event.event_id,
                    ordering,
                    event.origin_server_ts,
                    creators,
                )
            else:
                users = event.content.get("users") or {}
                if not users and "replaces_state" not in event.unsigned:
                    return  # a room's first power levels, naming no admins
                await self._s.roles.record_admins(
                    event.room_id,
                    event.event_id,
                    ordering,
                    event.origin_server_ts,
                    event.sender,
                    {str(k): users[k] for k in users},
                )
        except Exception:
            logger.exception(
                "groupreg could not record %s %s", event_type, event.event_id
            )

    async def _member_arrived_or_left(self, event: EventBase, state: StateMap) -> None:
        target = event.state_key
        if target is None:
            return
        if event.content.get("membership") not in SEATED:
            # While seated, a reservation is not counted (store/seats.py):
            # only after a leave, kick, ban or declined invite could it count
            # again.
            await self._s.caps.release(event.room_id, target, event.origin_server_ts)
            return
        if self._api.is_mine(event.sender):
            return  # created here, so check_event_allowed judged it
        # A server already in the room builds its users' joins itself and
        # sends them over: no make_join, no check of ours. Judge the arrival
        # now and remove a member the room's class does not admit (B3, B7).
        try:
            refusal = await self._membership.recheck(event, state)
        except Exception as e:
            # Logged by the guard; nobody is removed on a fault of ours.
            self._s.guard.failed("federation", e)
            refusal = None
        if refusal is None:
            return
        text = message(refusal, self._language)
        removed = await self._s.room_state.remove(event.room_id, target, text)
        await self._s.audit.record(
            SYSTEM,
            "room.removed",
            event.room_id,
            {
                "user_id": target,
                "event_id": event.event_id,
                "reason": refusal.reason.value,
                "removed": removed,
                **refusal.params,
            },
        )

    async def _upgraded(self, event: EventBase) -> None:
        """A room upgrade (`/upgrade`) makes a new room, which Synapse does
        not pass through on_create_room and to which it does not copy our
        state, then tombstones the old one. The group moves over with its
        registration, if the new room's create event names the old one as
        its predecessor."""
        new_room_id = event.content.get("replacement_room")
        if not isinstance(new_room_id, str):
            return
        create = (await self._api.get_room_state(new_room_id, [(CREATE, "")])).get(
            (CREATE, "")
        )
        predecessor = create.content.get("predecessor") if create is not None else None
        if not predecessor or predecessor.get("room_id") != event.room_id:
            return
        new = await self._s.rooms.carry_over(event.room_id, new_room_id, event.sender)
        if new is not None:
            await self._s.room_state.publish(new)

    async def _purge(self) -> None:
        purged = await self._s.caps.purge_expired()
        if purged:
            logger.info("released %d expired seat reservations", purged)


def register(api: ModuleApi, services: Services) -> None:
    RoomChecks(api, services).register()
