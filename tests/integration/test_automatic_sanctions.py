"""Automatic consequences on a real homeserver (D1, D5): violations and
their penalties, threshold rules per user and per room, and credit falling
under a threshold, all applied as automated sanctions with statements."""

from __future__ import annotations

from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, reason_of
from tests.harness.homeserver import Homeserver, User
from tests.harness.notices import dm_notices
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"

CONFIG = {
    "profile": "generic",
    "credit": {"penalties": {"prohibited_content": 2}},
    "sanctions": {
        "automatic": {
            "three_blocks": {
                "violation": "prohibited_content",
                "count": 3,
                "within": "24h",
                "action": "lower_credit",
                "amount": 5,
            },
            "low_credit_admin": {
                "credit_below": 90,
                "action": "suspend_admin",
                "duration": "1h",
            },
            "noisy_room": {
                "violation": "prohibited_content",
                "per": "room",
                "count": 4,
                "within": "1h",
                "action": "suspend_posting",
                "duration": "1h",
            },
        }
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers(CONFIG)


async def _violation(hs: Homeserver, admin: User, **body: Any) -> dict[str, Any]:
    status, answer = await Http(hs, admin.access_token).post(
        f"{ADMIN}/violations", body
    )
    assert status == 200, answer
    return dict(answer)


async def test_thresholds_and_credit_floor_apply_sanctions(hs: Homeserver) -> None:
    """D5 automatic: each blocked message costs its penalty; the third in a
    day lowers credit by the rule's amount; falling under 90 suspends admin
    rights; the fourth in one room suspends the room. Each sanction is
    marked automated, by `system`, and stated to the user."""
    admin, user, other = hs.register(admin=True), hs.register(), hs.register()
    async with clients(hs, user, other) as (client, bystander):
        room = await client.room_create(name="群", preset=nio.RoomPreset.public_chat)
        assert isinstance(room, nio.RoomCreateResponse)
        assert isinstance(await bystander.join(room.room_id), nio.JoinResponse)
        outcomes = [
            await _violation(
                hs,
                admin,
                user_id=user.user_id,
                kind="prohibited_content:gambling",
                room_id=room.room_id,
                evidence={"event_id": f"$e{n}"},
            )
            for n in range(3)
        ]
        actions = [[s["action"] for s in o["sanctions"]] for o in outcomes]
        assert actions == [
            ["lower_credit"],
            ["lower_credit"],
            ["lower_credit", "lower_credit"],
        ]
        third = outcomes[2]["sanctions"][1]
        assert third["automated"] is True and third["actor"] == "system"
        assert third["evidence"]["automatic_rule"] == "three_blocks"
        assert len(third["evidence"]["violation_ids"]) == 3
        status, credit = await Http(hs, admin.access_token).get(
            f"{ADMIN}/users/{user.user_id}/credit"
        )
        assert credit["score"] == 100 - 3 * 2 - 5
        status, listed = await Http(hs, admin.access_token).get(
            f"{ADMIN}/users/{user.user_id}/sanctions?status=active"
        )
        suspended = [s for s in listed["sanctions"] if s["action"] == "suspend_admin"]
        assert len(suspended) == 1 and suspended[0]["automated"] is True
        topic = await client.room_put_state(
            room.room_id, "m.room.topic", {"topic": "t"}
        )
        assert await reason_of(topic) == "ADMIN_SUSPENDED"
        statements = await dm_notices(hs, client, "three_blocks")
        assert any("automatically" in n for n in statements)

        fourth = await _violation(
            hs,
            admin,
            user_id=user.user_id,
            kind="prohibited_content",
            room_id=room.room_id,
            penalty=0,
        )
        assert [s["action"] for s in fourth["sanctions"]] == ["suspend_posting"]
        refused = await bystander.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "hi"}
        )
        assert await reason_of(refused) == "ROOM_SUSPENDED"
    status, page = await Http(hs, admin.access_token).get(
        f"{ADMIN}/violations?user_id={user.user_id}"
    )
    assert status == 200
    assert [v["kind"] for v in page["violations"]][:1] == [
        "prohibited_content:gambling"
    ]
    assert len(page["violations"]) == 4


async def test_bad_violation_input_names_the_field(hs: Homeserver) -> None:
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    for body, field in (
        ({"kind": "spam"}, "user_id"),
        ({"user_id": "bob", "kind": "spam"}, "user_id"),
        ({"user_id": "@b:hs"}, "kind"),
        ({"user_id": "@b:hs", "kind": "spam", "penalty": -1}, "penalty"),
        ({"user_id": "@b:hs", "kind": "spam", "room_id": "x"}, "room_id"),
    ):
        status, answer = await http.post(f"{ADMIN}/violations", body)
        assert (status, answer.get("field")) == (400, field), (body, answer)
