"""Feeding the network log (F2) from Synapse: registrations and logins with
their IP and user agent, and every room event's metadata.

None of these callbacks refuses anything; each only queues an entry.
Registration and login are recorded by the process that handles them. Room
events reach `on_new_event` in every process (replication included), so
only the background-tasks instance records them, and the event id's
uniqueness in the table makes a replay harmless.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

from synapse.api.errors import Codes
from synapse.module_api import NOT_SPAM, EventBase, ModuleApi, StateMap
from synapse.spam_checker_api import RegistrationBehaviour

from synapse_groupreg.netlog import NetworkLog, kind_of_event
from synapse_groupreg.services import Services

_FLUSH_MS = 1000


def register(api: ModuleApi, services: Services) -> None:
    netlog = services.netlog
    config = services.config.logs
    if netlog is None:
        return
    hooks = _Hooks(netlog, records_events=api.should_run_background_tasks())
    api.register_spam_checker_callbacks(
        check_registration_for_spam=hooks.check_registration_for_spam,
        check_login_for_spam=hooks.check_login_for_spam,
    )
    api.register_account_validity_callbacks(
        on_user_registration=hooks.on_user_registration
    )
    api.register_third_party_rules_callbacks(on_new_event=hooks.on_new_event)
    api.looping_background_call(netlog.flush, _FLUSH_MS, run_on_all_instances=True)
    if api.should_run_background_tasks():
        api.looping_background_call(netlog.purge, config.purge_interval_ms)


def _first(
    request_info: Collection[tuple[str | None, str]],
) -> tuple[str | None, str | None]:
    for user_agent, ip in request_info:
        return user_agent, ip
    return None, None


class _Hooks:
    def __init__(self, netlog: NetworkLog, records_events: bool) -> None:
        self._netlog = netlog
        self._records_events = records_events

    async def check_registration_for_spam(
        self,
        email_threepid: dict[str, Any] | None,
        username: str | None,
        request_info: Collection[tuple[str, str]],
        auth_provider_id: str | None = None,
    ) -> RegistrationBehaviour:
        if username is not None:
            self._netlog.expect_registration(username, *_first(request_info))
        return RegistrationBehaviour.ALLOW

    async def on_user_registration(self, user_id: str) -> None:
        self._netlog.registered(user_id)

    async def check_login_for_spam(
        self,
        user_id: str,
        device_id: str | None,
        initial_display_name: str | None,
        request_info: Collection[tuple[str | None, str]],
        auth_provider_id: str | None = None,
    ) -> Literal["NOT_SPAM"] | Codes:
        user_agent, ip = _first(request_info)
        self._netlog.record(
            "login",
            user_id,
            ip=ip,
            user_agent=user_agent,
            details={"device_id": device_id, "auth_provider": auth_provider_id},
        )
        return NOT_SPAM

    async def on_new_event(self, event: EventBase, state: StateMap[EventBase]) -> None:
        if not self._records_events:
            return
        state_key = event.state_key if event.is_state() else None
        is_member = event.type == "m.room.member"
        membership = event.content.get("membership") if is_member else None
        self._netlog.record(
            kind_of_event(event.type, event.sender, state_key, membership),
            event.sender,
            ts=event.origin_server_ts,
            room_id=event.room_id,
            event_id=event.event_id,
            target=state_key if is_member else None,
            details={"type": event.type},
        )
