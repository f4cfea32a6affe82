"""Feeding the network log (F2) from Synapse: registrations and logins with
their IP and user agent, and every room event's metadata.

Nothing here refuses anything; each reaction only queues an entry.
Registration and login are recorded by the process that handles them.
Stored room events reach the one instance that runs background tasks
(the dispatcher registers `on_new_event` there only), and the event id's
uniqueness in the table makes a replay harmless.
"""

from __future__ import annotations

from collections.abc import Collection

from synapse_groupreg.dispatch import EventFacts, Reactions
from synapse_groupreg.events import MEMBER
from synapse_groupreg.netlog import NetworkLog, kind_of_event


class NetlogFeed:
    def __init__(self, netlog: NetworkLog) -> None:
        self._netlog = netlog

    def reactions(self) -> Reactions:
        return Reactions(
            new_event=(self.event_stored,),
            registration_attempt=(self.registration_attempt,),
            registered=(self._netlog.registered,),
            login=(self.login,),
        )

    def registration_attempt(
        self, username: str | None, request_info: Collection[tuple[str, str]]
    ) -> None:
        if username is not None:
            user_agent, ip = next(iter(request_info), (None, None))
            self._netlog.expect_registration(username, user_agent, ip)

    def login(
        self,
        user_id: str,
        device_id: str | None,
        user_agent: str | None,
        ip: str | None,
        auth_provider: str | None,
    ) -> None:
        self._netlog.record(
            "login",
            user_id,
            ip=ip,
            user_agent=user_agent,
            details={"device_id": device_id, "auth_provider": auth_provider},
        )

    async def event_stored(self, facts: EventFacts) -> None:
        event = facts.event
        state_key = facts.state_key
        is_member = facts.type == MEMBER
        self._netlog.record(
            kind_of_event(facts.type, facts.sender, state_key, facts.membership),
            facts.sender,
            ts=event.origin_server_ts,
            room_id=facts.room_id,
            event_id=event.event_id,
            target=state_key if is_member else None,
            details={"type": facts.type},
        )
