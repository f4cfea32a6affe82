"""G6 for the content callbacks: a fault inside the check is answered by
the configured fail mode, never a 500. The callbacks are called directly
with real Synapse events; only the filter is made to break."""

from __future__ import annotations

from typing import Any, cast

import pytest
from synapse.api.errors import SynapseError
from synapse.api.room_versions import RoomVersions
from synapse.events import EventBase, make_event_from_dict
from synapse.module_api import NOT_SPAM
from synapse.types import create_requester

from synapse_groupreg.checks import Guard
from synapse_groupreg.checks.content import ContentChecks
from synapse_groupreg.config import parse_config
from synapse_groupreg.content import ContentServices
from synapse_groupreg.services import Services


class _BrokenFilter:
    def check(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("lists corrupt")


class _Api:
    def is_mine(self, user_id: str) -> bool:
        return user_id.endswith(":hs")


class _Notices:
    def is_bot(self, user_id: str) -> bool:
        return user_id == "@groupreg:hs"


def _checks(fail: str) -> ContentChecks:
    config = parse_config({"profile": "generic", "fail": {"content": fail}})
    unused: Any = None  # the content check touches none of these
    services = Services(
        api=cast(Any, _Api()),
        config=config,
        store=unused,
        audit=unused,
        notices=cast(Any, _Notices()),
        guard=Guard(config.fail, "hs"),
        identity_levels=unused,
        credit=None,
        netlog=None,
        exports={},
        rooms=unused,
        caps=unused,
        roles=unused,
        room_state=unused,
        moves=unused,
        governance=unused,
        credit_ledger=unused,
        sanctions=unused,
        blacklist=unused,
        violations=unused,
        emergency=unused,
        content=ContentServices(
            cast(Any, _BrokenFilter()), cast(Any, None), cast(Any, None)
        ),
    )
    return ContentChecks(cast(Any, _Api()), services)


def _event(
    event_type: str, content: dict[str, Any], state_key: str | None = None
) -> EventBase:
    event: dict[str, Any] = {
        "type": event_type,
        "room_id": "!r:hs",
        "sender": "@a:hs",
        "content": content,
        "auth_events": [],
        "prev_events": [],
        "depth": 1,
        "origin_server_ts": 1,
        "hashes": {"sha256": "x"},
        "signatures": {},
    }
    if state_key is not None:
        event["state_key"] = state_key
    return make_event_from_dict(event, RoomVersions.V10)


async def test_fail_closed_refuses_with_module_unavailable() -> None:
    checks = _checks("closed")
    result = await checks.check_event_for_spam(_event("m.room.message", {"body": "x"}))
    assert result[1]["org.groupreg.reason"] == "MODULE_UNAVAILABLE"
    with pytest.raises(SynapseError) as refused:
        await checks.check_event_allowed(_event("m.room.name", {"name": "x"}, ""), {})
    assert refused.value.code == 403
    body = refused.value.error_dict(None)
    assert body["org.groupreg.reason"] == "MODULE_UNAVAILABLE"
    with pytest.raises(SynapseError):
        await checks.on_create_room(create_requester("@a:hs"), {"name": "x"}, True)


async def test_fail_open_lets_it_through() -> None:
    checks = _checks("open")
    assert (
        await checks.check_event_for_spam(_event("m.room.message", {"body": "x"}))
        is NOT_SPAM
    )
    assert await checks.check_event_allowed(
        _event("m.room.name", {"name": "x"}, ""), {}
    ) == (
        True,
        None,
    )
    requester = create_requester("@a:hs")
    await checks.on_create_room(requester, {"name": "x"}, False)  # does not raise


async def test_the_notice_bot_is_never_checked() -> None:
    checks = _checks("closed")
    event = make_event_from_dict(
        {
            "type": "m.room.message",
            "room_id": "!r:hs",
            "sender": "@groupreg:hs",
            "content": {"body": "x"},
            "auth_events": [],
            "prev_events": [],
            "depth": 1,
            "origin_server_ts": 1,
            "hashes": {"sha256": "x"},
            "signatures": {},
        },
        RoomVersions.V10,
    )
    assert await checks.check_event_for_spam(event) is NOT_SPAM
