"""D4 servers, with two real homeservers federating over loopback: users
of a blacklisted server can neither invite our users nor join our rooms,
and our users cannot invite them; once the entry goes, all of it works."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.harness.client import Http
from tests.harness.federation import federating_homeserver
from tests.harness.homeserver import Homeserver
from tests.integration.groups import ADMIN, MATRIX, invite, new_room


@pytest.fixture(scope="module")
def servers(backend: str) -> Iterator[tuple[Homeserver, Homeserver]]:
    """`home` blacklists `other`'s server; both federate."""
    made = [
        federating_homeserver({"profile": "generic"}, backend, "home"),
        federating_homeserver({"profile": "generic"}, backend, "other"),
    ]
    try:
        for hs in made:
            hs.start()
        yield made[0], made[1]
    finally:
        for hs in made:
            hs.destroy()


async def _remote_join(
    hs: Homeserver, token: str, room_id: str, via: Homeserver
) -> tuple[int, Any]:
    return await Http(hs, token).post(
        f"{MATRIX}/join/{quote(room_id)}?server_name={quote(via.server_name)}", {}
    )


async def test_a_blacklisted_server_cannot_invite_or_join(
    servers: tuple[Homeserver, Homeserver],
) -> None:
    """D4 server: `other`'s user is refused inviting `home`'s user
    (federated_user_may_invite) and joining `home`'s room (make_join),
    and `home`'s user is refused inviting them; with the entry removed,
    the same invite and join work."""
    home, other = servers
    admin, resident = home.register(admin=True), home.register()
    outsider = other.register()
    status, entry = await Http(home, admin.access_token).post(
        f"{ADMIN}/blacklist",
        {"kind": "server", "target": other.server_name, "reason": "spam source"},
    )
    assert status == 200, entry

    their_room = await new_room(other, outsider, name="outside", preset="public_chat")
    status, refused = await invite(other, outsider, their_room, resident.user_id)
    assert status == 403, refused
    assert refused.get("org.groupreg.reason") == "BLACKLISTED", refused

    our_room = await new_room(home, resident, name="inside", preset="public_chat")
    status, refused = await _remote_join(other, outsider.access_token, our_room, home)
    assert status == 403, refused
    assert refused.get("org.groupreg.reason") == "BLACKLISTED", refused

    status, refused = await invite(home, resident, our_room, outsider.user_id)
    assert (status, refused.get("org.groupreg.reason")) == (403, "BLACKLISTED")

    status, removed = await Http(home, admin.access_token).delete(
        f"{ADMIN}/blacklist/{entry['entry_id']}?reason=resolved"
    )
    assert status == 200, removed
    status, answer = await invite(other, outsider, their_room, resident.user_id)
    assert status == 200, answer
    status, answer = await _remote_join(other, outsider.access_token, our_room, home)
    assert status == 200, answer
