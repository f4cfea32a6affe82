"""Rooms of other servers (B7, B3): invites from other servers, and local
users joining rooms this server is not in.

Neither passes the member stage here: a remote room's events are built by
its own server. The platform cannot register those rooms, so they are held
to the default class: where it forbids federation, invites from servers not
on the allow-list are refused (the remote-invite stage) and, while the
allow-list is empty, local users may not join rooms of other servers at
all (the join stage, which Synapse runs for local users before a remote
join, `RoomMemberHandler.update_membership_locked`). Such joins still
count toward the user's own cap on groups joined.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from synapse_groupreg.config.rooms import RoomsConfig, class_name
from synapse_groupreg.dispatch import Contribution, EventFacts, JoinFacts, Rule, Stage
from synapse_groupreg.events import CREATE, state_key_pair
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.rooms.caps import Caps, SeatRules
from synapse_groupreg.rooms.classes import federation_refusal, server_of
from synapse_groupreg.rooms.registry import RoomRegistry

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

CHECK = "federation"
#: The server of a room whose id does not name it (room version 12).
_UNKNOWN_SERVER = ("其他服务器", "another server")


class FederationChecks:
    def __init__(
        self,
        api: ModuleApi,
        config: RoomsConfig,
        registry: RoomRegistry,
        caps: Caps,
        bot_name: str,
    ) -> None:
        self._api = api
        self._config = config
        self._registry = registry
        self._caps = caps
        self._bot_name = bot_name

    def rules(self) -> Contribution:
        return {
            Stage.JOIN: (
                Rule("federation.join", CHECK, self._remote_join, audit="room.refused"),
            ),
            Stage.REMOTE_INVITE: (
                Rule(
                    "federation.invite",
                    CHECK,
                    self._remote_invite,
                    audit="room.refused",
                    remote=True,
                ),
            ),
        }

    async def _remote_invite(self, facts: EventFacts) -> Refusal | None:
        """An invite of a local user sent by another server: judged by the
        room's class here (the default class for rooms not registered)."""
        room_class = self._registry.class_of(await facts.room())
        if self._config.admits_server(room_class, server_of(facts.sender)):
            return None
        return federation_refusal(class_name(room_class), facts.sender)

    async def _remote_join(self, facts: JoinFacts) -> Refusal | None:
        """A local user joins a room: rooms of this server are judged when
        the join event is made (checks/membership.py); a room of another
        server is judged here."""
        if await facts.room() is not None:
            return None
        create = state_key_pair(CREATE)
        if await self._api.get_room_state(facts.room_id, [create]):
            return None  # a room of this server the registry does not know
        default = self._config.classes[self._config.default_class]
        room_id = facts.room_id
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
                if await self._api.is_user_admin(facts.user_id)
                else self._config.joined_per_user
            ),
            bot_name=self._bot_name,
        )
        return await self._caps.admit(room_id, facts.user_id, "join", rules)
