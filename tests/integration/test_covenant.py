"""Rules and covenant (A9): published at a public URL by Synapse's own
user_consent, accepted per user, required before posting."""

from __future__ import annotations

import nio
import pytest

from tests.harness.client import Http, clients, error_body, reason_of
from tests.harness.homeserver import Homeserver
from tests.harness.identity import (
    COVENANT_VERSION,
    accept_covenant,
    cn_config,
    resident_id,
    start,
    verify,
)
from tests.integration.conftest import HomeserverFactory


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return start(homeservers, lambda d: cn_config(d, covenant=True), consent=True)


async def test_rules_are_public(hs: Homeserver) -> None:
    """A9: anyone can read the current rules and covenant, no login needed."""
    status, page = await Http(hs).get("/_matrix/consent")
    assert status == 200
    assert "平台公约" in page and COVENANT_VERSION in page


async def test_posting_needs_the_current_covenant(hs: Homeserver) -> None:
    """A9: a verified user who has not accepted the current version is
    refused with COVENANT_REQUIRED and a link to the page; after accepting
    there, Synapse records the version and the same user can post."""
    admin, user = hs.register(admin=True), hs.register()
    assert (await verify(hs, admin, user, resident_id(701)))[0] == 200
    async with clients(hs, user) as (client,):
        refused = await client.room_create()
        assert isinstance(refused, nio.ErrorResponse), refused
        assert await reason_of(refused) == "COVENANT_REQUIRED"
        message = (await error_body(refused))["error"]
        assert "/_matrix/consent?" in message and COVENANT_VERSION in message

        link = message[message.index("http") :].split()[0]
        status, page = await Http(hs).get(link[len(hs.base_url) :])
        assert status == 200 and 'id="accept"' in page
        await accept_covenant(hs, user)
        rows = hs.sql(
            "SELECT consent_version FROM users WHERE name = ?", (user.user_id,)
        )
        assert rows == [(COVENANT_VERSION,)]

        room = await client.room_create()
        assert isinstance(room, nio.RoomCreateResponse), room
        sent = await client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "ok"}
        )
        assert isinstance(sent, nio.RoomSendResponse), sent


async def test_identity_is_asked_before_the_covenant(hs: Homeserver) -> None:
    """A1, A9: an unverified user who has not accepted is told to verify
    first; once verified, the covenant is what is missing."""
    admin, user = hs.register(admin=True), hs.register()
    async with clients(hs, user) as (client,):
        first = await client.room_create()
        assert await reason_of(first) == "IDENTITY_REQUIRED"
        await verify(hs, admin, user, resident_id(702))
        second = await client.room_create()
        assert await reason_of(second) == "COVENANT_REQUIRED"
