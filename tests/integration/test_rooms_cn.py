"""The cn profile's groups rules in a real Synapse, started from the shipped
`config/cn.yaml` with a key file and Synapse's consent pages (B1, B7, C5,
G3): identity levels gate the classes, rooms do not federate or encrypt,
and the messages are in Simplified Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nio
import pytest
import yaml

from tests.harness.client import clients, reason_of
from tests.harness.homeserver import Homeserver, User
from tests.harness.identity import (
    accept_covenant,
    bind_phone,
    key_file,
    resident_id,
    start,
    verify,
)
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ROOM_STATE, create_room, join, reason, state

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "cn.yaml"


def _shipped_cn(folder: Path) -> dict[str, Any]:
    block: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())["modules"][0]["config"]
    block["identity"]["key_file"] = key_file(folder)
    return block


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return start(homeservers, _shipped_cn, consent=True)


async def _user(hs: Homeserver) -> User:
    """A user who accepted the covenant but has verified nothing."""
    user = hs.register()
    await accept_covenant(hs, user)
    return user


async def test_identity_levels_gate_the_classes(hs: Homeserver) -> None:
    """A1, B1, G3: an unverified user may create no group at all; with a
    phone number bound they may create `small` but not `medium`, which
    needs an identity document; with a document, `medium` too. Each
    refusal says in Chinese what is missing."""
    admin, user = hs.register(admin=True), await _user(hs)
    async with clients(hs, user) as (client,):
        refused = await client.room_create(name="群")
        assert await reason_of(refused) == "IDENTITY_REQUIRED"

        await bind_phone(hs, admin, user, "8613800138000")
        small = await client.room_create(name="小群")
        assert isinstance(small, nio.RoomCreateResponse), small
        status, body = await create_room(hs, user, org_groupreg_class="medium")
        assert (status, reason(body)) == (403, "CLASS_NOT_QUALIFIED")
        assert body["error"].startswith("您暂不具备创建“medium”类群组的资格：需要")

        status, _ = await verify(hs, admin, user, resident_id(401))
        assert status == 200
        status, body = await create_room(hs, user, org_groupreg_class="medium")
        assert status == 200, body
        status, content = await state(hs, user, body["room_id"], ROOM_STATE)
        assert content["class"] == "medium" and content["code"].startswith("G")


async def test_direct_chats_do_not_federate_or_encrypt(hs: Homeserver) -> None:
    """B1, B7, C5: a verified user's direct chat is class `direct`, never
    federates, and may not be encrypted."""
    admin, user, friend = hs.register(admin=True), await _user(hs), hs.register()
    await bind_phone(hs, admin, user, "8613900139000")
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
    admits only verified joiners (in cn the identity gate on joining
    answers first)."""
    admin, joiner = hs.register(admin=True), await _user(hs)
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
    assert "加入群组" in body["error"]
    await bind_phone(hs, admin, joiner, "8613700137000")
    status, body = await join(hs, joiner, room_id)
    assert status == 200, body
