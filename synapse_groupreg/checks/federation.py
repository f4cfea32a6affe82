"""Rooms of other servers (B7, B3): invites from other servers, and local
users joining rooms this server is not in.

Neither passes `check_event_allowed` here: a remote room's events are built
by its own server. The platform cannot register those rooms, so they are
held to the default class: where it forbids federation, invites from
servers not on the allow-list are refused (`federated_user_may_invite`) and,
while the allow-list is empty, local users may not join rooms of other
servers at all (`user_may_join_room`, which Synapse calls for local users
before a remote join, `RoomMemberHandler.update_membership_locked`). Such
joins still count toward the user's own cap on groups joined.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Literal

from synapse.api.errors import Codes
from synapse.module_api import NOT_SPAM

from synapse_groupreg.config.rooms import class_name
from synapse_groupreg.reasons import Reason, Refusal, to_spam_result
from synapse_groupreg.rooms.caps import SeatRules
from synapse_groupreg.rooms.classes import federation_refusal, server_of
from synapse_groupreg.services import Services

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.module_api import ModuleApi

SpamAnswer = Literal["NOT_SPAM"] | tuple[Codes, dict[str, Any]]

#: The server of a room whose id does not name it (room version 12).
_UNKNOWN_SERVER = ("其他服务器", "another server")


class FederationChecks:
    def __init__(self, api: ModuleApi, services: Services) -> None:
        self._api = api
        self._s = services
        self._config = services.config.rooms

    def register(self) -> None:
        self._api.register_spam_checker_callbacks(
            federated_user_may_invite=self.federated_user_may_invite,
            user_may_join_room=self.user_may_join_room,
        )

    async def _answer(
        self, actor: str, target: str, refusal: Refusal | None
    ) -> SpamAnswer:
        if refusal is None:
            return NOT_SPAM
        await self._s.rooms.record_refusal(actor, target, refusal)
        return to_spam_result(refusal, self._s.config.language)

    async def federated_user_may_invite(self, event: EventBase) -> SpamAnswer:
        """An invite of a local user sent by another server: judged by the
        room's class here (the default class for rooms not registered)."""
        sender = str(event.sender)
        started = time.perf_counter()
        try:
            room = await self._s.rooms.room(event.room_id)
            room_class = self._s.rooms.class_of(room)
            refusal = None
            if not self._config.admits_server(room_class, server_of(sender)):
                refusal = federation_refusal(class_name(room_class), sender)
        except Exception as e:
            refusal = self._s.guard.failed("federation", e)
        self._s.guard.meter("federation").done(started, refusal)
        return await self._answer(sender, event.room_id, refusal)

    async def user_may_join_room(
        self, user_id: str, room_id: str, is_invited: bool
    ) -> SpamAnswer:
        """A local user joins a room: rooms of this server are judged when
        the join event is made (checks/membership.py); a room of another
        server is judged here."""
        if self._s.notices.is_bot(user_id):
            return NOT_SPAM
        started = time.perf_counter()
        try:
            refusal = await self._remote_join(user_id, room_id)
        except Exception as e:
            refusal = self._s.guard.failed("federation", e)
        self._s.guard.meter("federation").done(started, refusal)
        return await self._answer(user_id, room_id, refusal)

    async def _remote_join(self, user_id: str, room_id: str) -> Refusal | None:
        if await self._s.rooms.room(room_id) is not None:
            return None
        if await self._api.get_room_state(room_id, [("m.room.create", "")]):
            return None  # a room of this server the registry does not know
        default = self._config.classes[self._config.default_class]
        if not default.federation and not self._config.federation_allowlist:
            server: object = (
                room_id.split(":", 1)[1] if ":" in room_id else _UNKNOWN_SERVER
            )
            return Refusal(
                Reason.FEDERATION_FORBIDDEN,
                {"room_class": default.name, "server": server},
            )
        # The room's own cap is its server's business; the user's is ours.
        rules = SeatRules(
            member_cap=sys.maxsize,
            info_required_at=None,
            has_info=True,
            verified_from=None,
            joiner_verified=True,
            joined_limit=(
                None
                if await self._api.is_user_admin(user_id)
                else self._config.joined_per_user
            ),
            bot_name=self._s.config.notices.display_name,
        )
        return await self._s.caps.admit(room_id, user_id, "join", rules)


def register(api: ModuleApi, services: Services) -> None:
    FederationChecks(api, services).register()
