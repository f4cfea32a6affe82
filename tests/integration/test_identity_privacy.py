"""Front stage voluntary (A5): after users are verified with known names and
numbers, by every verifier, the plaintext appears in no client API answer,
in no table of the database, and in no line of the homeserver's log."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients
from tests.harness.homeserver import Homeserver
from tests.harness.identity import (
    ADMIN,
    CLIENT,
    bot_messages,
    cn_config,
    link_in,
    open_link,
    resident_id,
    start,
    verify,
)
from tests.integration.conftest import HomeserverFactory

# Names and numbers unlikely to occur anywhere by chance.
PEOPLE = [
    ("诸葛孔明", resident_id(601, born="19610704")),
    ("Wilhelmina Zyx", resident_id(602, born="19720815")),
    ("司马懿仲达", resident_id(603, born="19830926")),
]
PASSPORT_NAME, PASSPORT_NUMBER = "Quentin Qwerty", "QX9876543"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    # No provider: self-service submissions wait for review, so they sit
    # encrypted in the submissions table while the dump runs.
    # One-step reveal (approvals 0), as before four eyes (test_reveal.py).
    return start(
        homeservers, lambda d: cn_config(d, identity={"reveal": {"approvals": 0}})
    )


def _secrets() -> list[str]:
    out = [PASSPORT_NAME, PASSPORT_NUMBER]
    for name, number in PEOPLE:
        # The number as stored, and its body without the check character.
        out += [name, number, number[:17]]
    return out


def _leaks(text: str) -> list[str]:
    return [s for s in _secrets() if s in text]


def _table_names(hs: Homeserver) -> list[str]:
    if hs.backend == "postgres":
        rows = hs.sql(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
    else:
        rows = hs.sql("SELECT name FROM sqlite_master WHERE type = 'table'")
    return [str(r[0]) for r in rows]


def _as_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return raw.decode("utf-8", "replace") + raw.decode("latin-1")
    return str(value)


async def test_plaintext_is_nowhere_but_the_vault(hs: Homeserver) -> None:
    """A5, A6: verify by admin, import and self-service (waiting for review),
    reveal once, then look everywhere a name or number could leak."""
    admin = hs.register(admin=True)
    users = [hs.register() for _ in range(4)]
    http = Http(hs, admin.access_token)
    # Verifier 1: the admin API.
    name, number = PEOPLE[0]
    status, body = await verify(hs, admin, users[0], number, name=name)
    assert status == 200, body
    # Verifier 2: bulk import.
    name, number = PEOPLE[1]
    status, body = await http.post(
        f"{ADMIN}/identities/import",
        [
            {
                "user_id": users[1].user_id,
                "name": name,
                "document_type": "resident_id",
                "document_number": number,
            }
        ],
    )
    assert body["counts"] == {"verified": 1}, body
    # Verifier 3: self-service, approved by a reviewer.
    for user, (name, number, kind) in (
        (users[2], (*PEOPLE[2], "resident_id")),
        (users[3], (PASSPORT_NAME, PASSPORT_NUMBER, "passport")),
    ):
        async with clients(hs, user) as (client,):
            refused = await client.room_create()
            assert isinstance(refused, nio.ErrorResponse)
            _, notices = await bot_messages(client, f"@groupreg:{hs.server_name}")
        status, page, token = await open_link(hs, link_in(notices[0]))
        assert status == 200 and token is not None, page
        form = {
            "step": "submit",
            "token": token,
            "name": name,
            "document_type": kind,
            "document_number": number,
            "consent": "yes",
        }
        status, _ = await Http(hs).post(
            f"{CLIENT}/verify",
            data=urllib.parse.urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 202
    _, queue = await http.get(f"{ADMIN}/identities/pending")
    first = next(s for s in queue["submissions"] if s["user_id"] == users[2].user_id)
    status, _ = await http.post(f"{ADMIN}/identities/pending/{first['id']}/approve", {})
    assert status == 200
    # The one way out for plaintext: an audited reveal.
    status, revealed = await http.post(
        f"{ADMIN}/identities/{urllib.parse.quote(users[0].user_id)}/reveal",
        {"reason": "privacy test"},
    )
    assert status == 200 and revealed["name"] == PEOPLE[0][0]
    # The detector finds plaintext where there is some.
    assert _leaks(json.dumps(revealed, ensure_ascii=False))

    # Client API answers: profiles, the directory, sync and room state of a
    # room the verified users share.
    async with clients(hs, *users[:3]) as (a, b, c):
        room = await a.room_create(
            visibility=nio.RoomVisibility.public, invite=[users[1].user_id]
        )
        assert isinstance(room, nio.RoomCreateResponse), room
        assert isinstance(await b.join(room.room_id), nio.JoinResponse)
        assert isinstance(await c.join(room.room_id), nio.JoinResponse)
        await a.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "hello"}
        )
        answers: list[Any] = []
        reader = Http(hs, users[1].access_token)
        for user in users:
            answers.append(
                await reader.get(
                    f"/_matrix/client/v3/profile/{urllib.parse.quote(user.user_id)}"
                )
            )
        for term in ("user", "诸葛", "Wilhelmina", "司马"):
            answers.append(
                await reader.post(
                    "/_matrix/client/v3/user_directory/search", {"search_term": term}
                )
            )
        answers.append(await reader.get("/_matrix/client/v3/sync"))
        answers.append(
            await reader.get(
                f"/_matrix/client/v3/rooms/{urllib.parse.quote(room.room_id)}/state"
            )
        )
        answers.append(await reader.get("/_matrix/client/v3/publicRooms"))
        answers.append(await Http(hs, users[0].access_token).get(f"{CLIENT}/status"))
    for status, body in answers:
        assert status == 200, body
        text = json.dumps(body, ensure_ascii=False)
        assert not _leaks(text), (_leaks(text), text[:500])

    # Every row of every table, Synapse's and the module's.
    for table in _table_names(hs):
        for row in hs.sql(f'SELECT * FROM "{table}"'):
            text = " ".join(_as_text(v) for v in row)
            assert not _leaks(text), (table, _leaks(text))

    # The homeserver's log (DEBUG for the module, INFO for Synapse).
    log = hs.log_text() + hs.stderr_path.read_text("utf-8", "replace")
    assert not _leaks(log), _leaks(log)
