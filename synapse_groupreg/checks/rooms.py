"""Rules of the rooms concern: classes and codes at creation (B1, B2, B4, B7,
C5), the protected registration state, encryption, caps (B3) and, as
reactions to stored events, accountability (B5), seats given back and room
upgrades.

A createRoom costs the module two transactions at most: the creator's
reservation of the room's code against their caps (the create stage; not
for server admins, whom Synapse does not ask), and the registration with
the room's first creators and admins and their audit entries (the
registration stage). The code itself comes from a block of serials this
process holds (rooms/registry.py, `CodeIssuer`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synapse_groupreg.config.rooms import DIRECT, RoomsConfig, class_name
from synapse_groupreg.dispatch import (
    BadRequest,
    Contribution,
    CreationFacts,
    EventFacts,
    Reactions,
    Rule,
    Stage,
)
from synapse_groupreg.events import (
    CREATE,
    ENCRYPTED,
    ENCRYPTION,
    MEMBER,
    POWER_LEVELS,
    REDACTION,
    ROOM_STATE,
    SEATED,
    TOMBSTONE,
    state_key_pair,
)
from synapse_groupreg.http.base import invalid_param
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.rooms import classes
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import Caps
from synapse_groupreg.rooms.classes import InvalidField, Placement
from synapse_groupreg.rooms.powers import creators_of
from synapse_groupreg.rooms.registry import (
    FirstRoles,
    RoomRegistry,
    row_state,
    state_content,
)

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

    from synapse_groupreg.checks.membership import Membership

logger = logging.getLogger(__name__)

# How long a direct chat announced by on_create_room may take to send its
# registration state (createRoom runs in one process, within seconds).
_PENDING_DIRECT_MS = 300_000
_CREATE = state_key_pair(CREATE)
_POWER = state_key_pair(POWER_LEVELS)
_REFUSED = "room.refused"


class RoomChecks:
    def __init__(
        self,
        api: ModuleApi,
        config: RoomsConfig,
        registry: RoomRegistry,
        caps: Caps,
        roles: Accountability,
        rooms: MatrixRooms,
        membership: Membership,
        is_mine: Callable[[str], bool],
    ) -> None:
        self._api = api
        self._config = config
        self._registry = registry
        self._caps = caps
        self._roles = roles
        self._rooms = rooms
        self._membership = membership
        self._is_mine = is_mine
        # Direct chats have no code to vouch for them: createRoom runs in one
        # process, so the create-request stage notes them here and the
        # registration state they send is accepted against this note.
        # user -> deadlines.
        self._pending_direct: dict[str, list[int]] = {}

    def rules(self) -> Contribution:
        return {
            Stage.CREATE_REQUEST: (
                Rule("rooms.placement", "rooms", self._place, audit=_REFUSED, bot=True),
            ),
            Stage.CREATE: (
                Rule("caps.creation", "caps", self._creation, audit=_REFUSED),
            ),
            Stage.EVENT: (Rule("rooms.event", "rooms", self._event, audit=_REFUSED),),
            Stage.MEMBER: (
                Rule(
                    "caps.member",
                    "caps",
                    self._membership.decide,
                    audit=_REFUSED,
                    remote=True,
                ),
            ),
            Stage.REGISTRATION: (
                Rule(
                    "rooms.registration",
                    "rooms",
                    self._registration_state,
                    audit=_REFUSED,
                    bot=True,
                ),
            ),
        }

    def reactions(self) -> Reactions:
        return Reactions(new_event=(self.event_stored,))

    # -- creation -------------------------------------------------------------

    async def _place(self, facts: CreationFacts) -> Refusal | None:
        """Place the room in a class, refuse what its class forbids, force
        `m.federate: false` where federation is off, and put the
        registration state with a fresh code into `initial_state`. Runs
        before Synapse validates the request, so nothing is counted here."""
        request = facts.request
        try:
            placement = classes.place_new_room(self._config, request)
        except InvalidField as e:
            if e.reason is Reason.CLASS_UNKNOWN:
                return classes.unknown_class(
                    self._config, str(request.get(classes.CLASS_FIELD))
                )
            raise BadRequest(invalid_param(e.field, e.message)) from None
        # Malformed ids are left to Synapse, which refuses them with 400.
        invitees = [
            u
            for u in request.get("invite") or ()
            if isinstance(u, str) and u.startswith("@") and ":" in u
        ]
        remote = [
            u
            for u in invitees
            if not self._is_mine(u)
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
            await self._prepare(facts.user_id, request, placement, initial_state)
        return refusal

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
            now = self._registry.now_ms()
            pending = self._pending_direct.setdefault(user_id, [])
            pending[:] = [t for t in pending if t > now]
            pending.append(now + _PENDING_DIRECT_MS)
        else:
            issued = await self._registry.codes.issue(
                user_id, placement.room_class, placement.category
            )
            code = issued.code
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

    async def _creation(self, facts: CreationFacts) -> Refusal | None:
        """B1 qualifications and B3 creation caps, once Synapse has validated
        the request (server admins never reach this: Synapse skips it)."""
        registration = next(
            (
                s.get("content") or {}
                for s in facts.request.get("initial_state") or ()
                if isinstance(s, dict) and s.get("type") == ROOM_STATE
            ),
            None,
        )
        if registration is None or registration.get("class") == DIRECT:
            return None  # a direct chat, or a room upgrade (not ours)
        issued = self._registry.codes.peek(registration, facts.user_id)
        if issued is None:
            return Refusal(Reason.REGISTRATION_CODE_PROTECTED)
        room_class = self._config.classes[issued.room_class]
        refusal = await self._registry.qualification(facts.user_id, room_class)
        if refusal is None:
            refusal = await self._caps.admit_creation(issued, room_class)
        return refusal

    # -- events -----------------------------------------------------------------

    async def _event(self, facts: EventFacts) -> Refusal | None:
        """Encryption where the class allows it (C5), and the registration
        state never redacted (B4). A plain message costs nothing here."""
        event_type = facts.type
        if event_type == REDACTION:
            redacted = await facts.redacted_event()
            if redacted is not None and redacted.type == ROOM_STATE:
                return Refusal(Reason.REGISTRATION_CODE_PROTECTED)
            return None
        if event_type not in (ENCRYPTION, ENCRYPTED):
            return None
        room = await facts.room()
        room_class = self._registry.class_of(room)
        if self._config.allows_encryption(room_class):
            return None
        if room is not None and room.encryption_exception:
            return None  # H3: encrypted before adoption, kept working
        return Refusal(
            Reason.ENCRYPTION_FORBIDDEN, {"room_class": class_name(room_class)}
        )

    async def _registration_state(self, facts: EventFacts) -> Refusal | None:
        """B4: `org.groupreg.room` carries exactly what the registry says.
        The first one, from createRoom, registers the room."""
        protected = Refusal(Reason.REGISTRATION_CODE_PROTECTED)
        if facts.state_key != "":
            return protected  # another state key, or a timeline event of the type
        event = facts.event
        content = {k: event.content.get(k) for k in event.content}
        room = await facts.room()
        if room is not None:
            return None if content == row_state(room) else protected
        sender = facts.sender
        if content.get("class") == DIRECT:
            if content != state_content(None, DIRECT, None, sender):
                return protected
            if not self._take_pending_direct(sender):
                return protected
            code, room_class, category = None, DIRECT, None
        else:
            issued = self._registry.codes.take(content, sender)
            if issued is None:
                return protected
            code, room_class, category = issued, issued.room_class, issued.category
        roles = await self._first_roles(facts)
        registered = await self._registry.register(
            facts.room_id, sender, code, room_class, category, roles
        )
        if registered is None:
            return protected
        self._roles.recorded_with_registration(
            [roles.create_event] + ([roles.power_event] if roles.power_event else [])
        )
        return None

    async def _first_roles(self, facts: EventFacts) -> FirstRoles:
        state = await facts.state()
        create = state.get(_CREATE)
        power = state.get(_POWER)
        users: Any = power.content.get("users") if power is not None else None
        return FirstRoles(
            create_event=create.event_id if create is not None else "",
            created_ts=create.origin_server_ts if create is not None else 0,
            creators=creators_of(create) or (facts.sender,),
            power_event=power.event_id if power is not None else None,
            power_ts=power.origin_server_ts if power is not None else 0,
            admins=self._roles.admins_of(dict(users or {})),
        )

    def _take_pending_direct(self, user_id: str) -> bool:
        now = self._registry.now_ms()
        pending = [t for t in self._pending_direct.get(user_id, ()) if t > now]
        if not pending:
            self._pending_direct.pop(user_id, None)
            return False
        pending.pop(0)
        self._pending_direct[user_id] = pending
        return True

    # -- reactions to stored events ------------------------------------------

    async def event_stored(self, facts: EventFacts) -> None:
        """On the background instance, once an event is stored: give back
        the seat of a member who left (B3), record creators and admins (B5),
        carry a group over a room upgrade."""
        event_type = facts.type
        if event_type == MEMBER:
            if facts.membership not in SEATED and facts.state_key is not None:
                # While seated, a reservation is not counted (store/seats.py):
                # only after a leave, kick, ban or declined invite could it
                # count again.
                await self._caps.release(
                    facts.room_id, facts.state_key, facts.event.origin_server_ts
                )
            return
        if facts.state_key != "" or event_type not in (CREATE, POWER_LEVELS, TOMBSTONE):
            return
        event = facts.event
        if event_type == TOMBSTONE:
            await self._upgraded(facts)
            return
        ordering = event.internal_metadata.stream_ordering or 0
        if event_type == CREATE:
            await self._roles.record_creators(
                facts.room_id,
                event.event_id,
                ordering,
                event.origin_server_ts,
                creators_of(event),
            )
            return
        users = event.content.get("users") or {}
        if not users and "replaces_state" not in event.unsigned:
            return  # a room's first power levels, naming no admins
        await self._roles.record_admins(
            facts.room_id,
            event.event_id,
            ordering,
            event.origin_server_ts,
            facts.sender,
            {str(k): users[k] for k in users},
        )

    async def _upgraded(self, facts: EventFacts) -> None:
        """A room upgrade (`/upgrade`) makes a new room, which Synapse does
        not pass through on_create_room and to which it does not copy our
        state, then tombstones the old one. The group moves over with its
        registration, if the new room's create event names the old one as
        its predecessor."""
        new_room_id = facts.event.content.get("replacement_room")
        if not isinstance(new_room_id, str):
            return
        create = (await self._api.get_room_state(new_room_id, [_CREATE])).get(_CREATE)
        predecessor = create.content.get("predecessor") if create is not None else None
        if not predecessor or predecessor.get("room_id") != facts.room_id:
            return
        new = await self._registry.carry_over(facts.room_id, new_room_id, facts.sender)
        if new is not None:
            await self._rooms.publish(new)

    async def purge_expired_seats(self) -> None:
        purged = await self._caps.purge_expired()
        if purged:
            logger.info("released %d expired seat reservations", purged)
