"""The cn profile's groups rules in a real Synapse, started from the shipped
`config/cn.yaml` (B1, B7, C5, G3): nobody is verified yet, so only direct
chats and server admins' rooms can be made; rooms do not federate or
encrypt; messages are in Simplified Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nio
import pytest
import yaml

from tests.harness.client import clients, reason_of
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ROOM_STATE, create_room, join, reason, state

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "cn.yaml"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    block: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())["modules"][0]["config"]
    return homeservers(block)


async def test_unverified_users_cannot_create_groups(hs: Homeserver) -> None:
    """B1, G3: `small` needs a verified phone number; the refusal says so in
    Chinese, naming the class and what is missing."""
    user = hs.register()
    async with clients(hs, user) as (client,):
        refused = await client.room_create(name="群")
        assert await reason_of(refused) == "CLASS_NOT_QUALIFIED"
        assert refused.message == "您暂不具备创建“small”类群组的资格：需要手机号验证。"


async def test_direct_chats_need_no_qualification_and_do_not_federate(
    hs: Homeserver,
) -> None:
    """B1, B7, C5: a direct chat is made without qualifications, never
    federates, and may not be encrypted."""
    user, friend = hs.register(), hs.register()
    async with clients(hs, user) as (client,):
        dm = await client.room_create(is_direct=True, invite=[friend.user_id])
        assert isinstance(dm, nio.RoomCreateResponse), dm
    status, create = await state(hs, user, dm.room_id, "m.room.create")
    assert status == 200 and create["m.federate"] is False
    status, body = await create_room(
        hs,
        user,
        is_direct=True,
        invite=[friend.user_id],
        initial_state=[
            {
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }
        ],
    )
    assert (status, reason(body)) == (403, "ENCRYPTION_FORBIDDEN")
    assert body["error"] == "“direct”类群组不允许端到端加密。"


async def test_admin_rooms_get_codes_and_verified_joiners_rule(
    hs: Homeserver,
) -> None:
    """B1, B4, B7: a server admin (Synapse skips the creation checks for
    them) makes a `large` room: it gets a code, does not federate, and
    admits only verified joiners."""
    admin, joiner = hs.register(admin=True), hs.register()
    status, body = await create_room(
        hs, admin, org_groupreg_class="large", preset="public_chat"
    )
    assert status == 200, body
    room_id = body["room_id"]
    status, content = await state(hs, admin, room_id, ROOM_STATE)
    assert content["class"] == "large" and content["code"].startswith("G")
    status, create = await state(hs, admin, room_id, "m.room.create")
    assert create["m.federate"] is False
    status, body = await join(hs, joiner, room_id)
    assert (status, reason(body)) == (403, "IDENTITY_REQUIRED")
    assert "加入该群" in body["error"]
