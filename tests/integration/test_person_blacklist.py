"""D4 persons on a real cn homeserver with real-name identity: a person is
blacklisted by the keyed hash of their document, their verified accounts
are blocked, and a second account of theirs is refused at verification."""

from __future__ import annotations

import re
import urllib.parse

import nio

from tests.harness.client import Http, clients, reason_of
from tests.harness.identity import ADMIN, cn_config, resident_id, start, verify
from tests.integration.conftest import HomeserverFactory


async def test_a_blacklisted_person_cannot_verify_a_second_account(
    homeservers: HomeserverFactory,
) -> None:
    """D4: listing a person by one of their accounts holds the document's
    hash (never the number), blocks that account, and refuses verifying a
    new account with the same document (BLACKLISTED); removing the entry
    lets it verify."""
    hs = start(homeservers, lambda folder: cn_config(folder, language="en"))
    admin, first, second = hs.register(admin=True), hs.register(), hs.register()
    number = resident_id(417)
    status, body = await verify(hs, admin, first, number)
    assert status == 200, body
    async with clients(hs, first) as (client,):
        room = await client.room_create(name="mine")
        assert isinstance(room, nio.RoomCreateResponse), room

        http = Http(hs, admin.access_token)
        status, entry = await http.post(
            f"{ADMIN}/blacklist",
            {"kind": "person", "target": first.user_id, "reason": "电信诈骗"},
        )
        assert status == 200, entry
        assert re.fullmatch(r"[0-9a-f]{64}", entry["target"])
        assert number not in str(entry)
        assert entry["linked_users"] == [first.user_id]

        refused = await client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "hi"}
        )
        assert await reason_of(refused) == "BLACKLISTED"

    status, body = await verify(hs, admin, second, number)
    assert status == 403, body
    assert body["org.groupreg.reason"] == "BLACKLISTED"
    assert "holder of this document" in body["error"]
    quoted = urllib.parse.quote(second.user_id)
    status, body = await http.get(f"{ADMIN}/identities/{quoted}")
    assert status == 404 or body.get("level") != "id", body

    status, audit = await http.get(f"{ADMIN}/audit?action=blacklist.add")
    assert audit["entries"][-1]["target"] == entry["entry_id"]
    assert entry["target"] not in str(audit["entries"][-1])

    status, removed = await http.delete(f"{ADMIN}/blacklist/{entry['entry_id']}")
    assert status == 200, removed
    status, body = await verify(hs, admin, second, number)
    assert status == 200, body
