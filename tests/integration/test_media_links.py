"""Media lists (C7) and link lists (C8) through a real homeserver: uploads
through /_matrix/media/v3/upload refused when the file or a near copy of
the picture is listed, other servers' media refused when fetched, links
refused whatever their spelling, the refusals in Chinese and English (a
bilingual server shows both), the lists changed without restart through
the admin API and the CLI, and every change audited."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nio
import pytest

from synapse_groupreg.media.hashing import listed_phash
from tests.harness.client import REASON_FIELD, Http, clients, error_body, run_cli
from tests.harness.federation import federating_homeserver
from tests.harness.homeserver import Homeserver, User
from tests.integration.groups import new_room
from tests.support.pictures import cropped, encoded, picture

ADMIN = "/_synapse/client/groupreg/admin/v1"
UPLOAD = "/_matrix/media/v3/upload"

MODULE = {
    "profile": "generic",
    "language": "bilingual",
    "content": {
        "links": {"allow": {"large": ["gov.example"]}},
        "media": {"quarantine": True},
    },
}


@pytest.fixture(scope="module")
def servers(backend: str) -> Iterator[tuple[Homeserver, Homeserver]]:
    """`hs` holds the lists; `origin`, another server, holds none."""
    made = [
        federating_homeserver(MODULE, backend, "home"),
        federating_homeserver({"profile": "generic"}, backend, "origin"),
    ]
    try:
        for server in made:
            server.start()
        yield made[0], made[1]
    finally:
        for server in made:
            server.destroy()


@pytest.fixture(scope="module")
def hs(servers: tuple[Homeserver, Homeserver]) -> Homeserver:
    return servers[0]


@pytest.fixture(scope="module")
def admin(hs: Homeserver) -> User:
    return hs.register(admin=True)


def _name() -> str:
    return f"cat_{uuid.uuid4().hex[:8]}"


async def _upload(
    hs: Homeserver, user: User, data: bytes, kind: str = "image/jpeg"
) -> tuple[int, Any]:
    return await Http(hs, user.access_token).request(
        "POST",
        f"{UPLOAD}?filename=picture.jpg",
        data=data,
        headers={"Content-Type": kind},
    )


def _bilingual(answer: dict[str, Any], zh: str, en: str) -> None:
    """The message names the rule in both languages (G3)."""
    assert zh in answer["error"] and en in answer["error"], answer["error"]


async def test_listed_picture_and_its_copies_are_refused(
    hs: Homeserver, admin: User
) -> None:
    """C7: a listed picture is refused at upload with PROHIBITED_MEDIA, and
    so are a resized and recompressed copy and a lightly cropped one; an
    unlisted picture passes; a file listed by SHA-256 is refused; the
    refusal is recorded with the category's penalty; removing the list
    lets the picture through again, without restart."""
    user = hs.register()
    original = picture(11)
    listed = encoded(original, quality=92)
    phash = listed_phash(io.BytesIO(listed))
    assert phash is not None
    document = b"%PDF-1.4 a listed document " + uuid.uuid4().bytes
    name = _name()
    http = Http(hs, admin.access_token)

    assert (await _upload(hs, user, listed))[0] == 200
    status, body = await http.put(
        f"{ADMIN}/media/{name}",
        {
            "action": "block",
            "credit_penalty": 7,
            "labels": {"zh-Hans": "违禁图片", "en": "banned pictures"},
            "phash": [f"{phash:016X}"],
            "sha256": [hashlib.sha256(document).hexdigest()],
        },
    )
    assert status == 200 and body["created"] is True, body
    assert body["phash"] == [f"{phash:016x}"]

    copies = {
        "the picture": listed,
        "resized and recompressed": encoded(original.resize((400, 300)), quality=40),
        "cropped 3% and re-encoded as PNG": encoded(
            cropped(original, 0.03, 0.03, 0.03, 0.03), "PNG"
        ),
    }
    for what, data in copies.items():
        status, answer = await _upload(hs, user, data)
        assert status == 403, (what, answer)
        assert answer[REASON_FIELD] == "PROHIBITED_MEDIA", what
        _bilingual(answer, "违禁图片", "banned pictures")

    status, answer = await _upload(hs, user, document, "application/pdf")
    assert (status, answer.get(REASON_FIELD)) == (403, "PROHIBITED_MEDIA")

    status, answer = await _upload(hs, user, encoded(picture(12)))
    assert status == 200 and answer["content_uri"].startswith("mxc://"), answer

    status, hits = await http.get(f"{ADMIN}/content/hits?category={name}")
    assert status == 200
    rows = hits["hits"]
    assert len(rows) == 4
    assert {(r["user_id"], r["field"], r["action"], r["credit_penalty"])
            for r in rows} == {(user.user_id, "media", "block", 7)}  # fmt: skip
    assert any(r["keyword"].startswith("sha256:") for r in rows)
    # Reading the hits wrote them, and charged the uploader (D1).
    assert await _score(hs, admin, user) < await _score(hs, admin, hs.register())

    assert (await http.delete(f"{ADMIN}/media/{name}"))[0] == 200
    assert (await _upload(hs, user, listed))[0] == 200


async def test_review_category_lets_the_upload_through_and_records_it(
    hs: Homeserver, admin: User
) -> None:
    """C7, C2: a review category stores the file and opens a review record."""
    user = hs.register()
    data = encoded(picture(21))
    name = _name()
    status, _ = await Http(hs, admin.access_token).put(
        f"{ADMIN}/media/{name}",
        {
            "action": "review",
            "credit_penalty": 2,
            "sha256": [hashlib.sha256(data).hexdigest()],
        },
    )
    assert status == 200
    status, answer = await _upload(hs, user, data)
    assert status == 200, answer
    media_id = answer["content_uri"].rsplit("/", 1)[1]
    _, hits = await Http(hs, admin.access_token).get(
        f"{ADMIN}/content/hits?category={name}&action=review"
    )
    assert [r["subject"].rsplit("/", 1)[1] for r in hits["hits"]] == [media_id]


async def test_remote_media_is_refused_when_fetched(
    servers: tuple[Homeserver, Homeserver], admin: User
) -> None:
    """C7: media of another server whose picture is listed here is refused
    when a local user asks for it (Synapse asks as it stores its copy), and
    nobody here is charged for it."""
    hs, origin = servers
    author = origin.register()
    data = encoded(picture(31))
    status, answer = await _upload(origin, author, data)
    assert status == 200, answer
    server_name, media_id = answer["content_uri"].removeprefix("mxc://").split("/")
    phash = listed_phash(io.BytesIO(data))
    name = _name()
    status, _ = await Http(hs, admin.access_token).put(
        f"{ADMIN}/media/{name}",
        {"action": "block", "credit_penalty": 9, "phash": [f"{phash:016x}"]},
    )
    assert status == 200
    viewer = hs.register()
    status, answer = await Http(hs, viewer.access_token).get(
        f"/_matrix/client/v1/media/download/{quote(server_name)}/{media_id}"
    )
    assert status == 403, answer
    assert answer[REASON_FIELD] == "PROHIBITED_MEDIA"
    _, hits = await Http(hs, admin.access_token).get(
        f"{ADMIN}/content/hits?category={name}"
    )
    assert [r["field"] for r in hits["hits"]] == ["remote_media"]
    assert await _score(hs, admin, viewer) == await _score(hs, admin, hs.register())


async def _score(hs: Homeserver, admin: User, user: User) -> int:
    status, credit = await Http(hs, admin.access_token).get(
        f"{ADMIN}/users/{quote(user.user_id)}/credit"
    )
    assert status == 200, credit
    return int(credit["score"])


async def _send(hs: Homeserver, user: User, room_id: str, body: str) -> Any:
    async with clients(hs, user) as (client,):
        return await client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body},
            tx_id=uuid.uuid4().hex,
        )  # fmt: skip


async def test_links_to_listed_domains_are_refused_in_every_spelling(
    hs: Homeserver, admin: User
) -> None:
    """C8: a listed domain and its subdomains are refused with
    PROHIBITED_LINK, however the link is written; other links and text
    without links pass."""
    user = hs.register()
    async with clients(hs, user) as (client,):
        created = await client.room_create(name="links")
        assert isinstance(created, nio.RoomCreateResponse), created
        room_id = str(created.room_id)
    name = _name()
    status, body = await Http(hs, admin.access_token).put(
        f"{ADMIN}/links/{name}",
        {
            "action": "block",
            "credit_penalty": 3,
            "labels": {"zh-Hans": "赌博网站", "en": "gambling sites"},
            "domains": [
                "https://WWW.Casino-Evil.example./",
                "bücher.example",
                "203.0.113.9",
                "http://[2001:DB8::9]/",
            ],
        },
    )
    assert status == 200, body
    assert body["domains"] == [
        "2001:db8::9",
        "203.0.113.9",
        "casino-evil.example",
        "xn--bcher-kva.example",
    ]
    assert "bücher.example" in body["domains_unicode"]

    tricks = [
        "see casino-evil.example",
        "CASINO-EVIL.EXAMPLE is open",
        "http://casino-evil.example./",
        "https://www.casino-evil.example/play",
        "http://trusted.example@casino-evil.example/login",
        "http://%63asino-evil%2Eexample/",
        "casino-evil.example/x?ref=1",
        "访问casino-evil。example领取",
        "ｃａｓｉｎｏ－ｅｖｉｌ．ｅｘａｍｐｌｅ",
        "cdn.casino-evil.example/app.apk",
        "http://bücher.example/",
        "http://xn--bcher-kva.example/",
        "http://203.0.113.9/login",
        "203.0.113.9:8080/x",
        "http://[2001:db8:0:0::9]:8443/",
    ]
    for text in tricks:
        response = await _send(hs, user, room_id, text)
        assert isinstance(response, nio.ErrorResponse), text
        answer = await error_body(response)
        assert answer[REASON_FIELD] == "PROHIBITED_LINK", text
        _bilingual(answer, "赌博网站", "gambling sites")

    for text in (
        "no link here",
        "see notcasino-evil.example",
        "meet at 3.30 ok.",
        "version 203.0.113.9 is out",
        "http://203.0.113.10/",
    ):
        assert isinstance(await _send(hs, user, room_id, text), nio.RoomSendResponse), (
            text
        )

    async with clients(hs, user) as (client,):
        response = await client.room_send(
            room_id,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": "here",
                "format": "org.matrix.custom.html",
                "formatted_body": '<a href="http://casino-evil&#46;example">here</a>',
            },
            tx_id=uuid.uuid4().hex,
        )
    assert isinstance(response, nio.ErrorResponse)


async def test_a_class_allow_list_admits_only_its_sites(
    hs: Homeserver, admin: User
) -> None:
    """C8: in a room of a class with an allow list, a link elsewhere is
    refused; rooms of other classes link freely."""
    user = hs.register()
    strict = await new_room(hs, user, org_groupreg_class="large")
    free = await new_room(hs, user, org_groupreg_class="small")
    response = await _send(hs, user, strict, "see www.gov.example/notice")
    assert isinstance(response, nio.RoomSendResponse), response
    response = await _send(hs, user, strict, "see example.org")
    assert isinstance(response, nio.ErrorResponse)
    answer = await error_body(response)
    assert answer[REASON_FIELD] == "PROHIBITED_LINK"
    _bilingual(
        answer, "“large”类群组允许的网站以外", "outside those 'large' groups allow"
    )
    assert isinstance(
        await _send(hs, user, free, "see example.org"), nio.RoomSendResponse
    )


async def test_lists_by_cli_with_the_audit_trail(
    hs: Homeserver, admin: User, tmp_path: Path
) -> None:
    """C7, C8: a directory of pictures hashed by the CLI and a domain file
    imported; an upload of one of the pictures is refused; both changes are
    in the audit log with what was added; bad input is a clear 400."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    data = encoded(picture(41))
    (folder / "a.jpg").write_bytes(data)
    (folder / "notes.txt").write_bytes(b"not a picture")
    name = _name()
    done = run_cli(hs, admin.access_token, "media", "import", name, str(folder),
                   "--action", "block", "--credit-penalty", "4")  # fmt: skip
    assert done.returncode == 3, done.stderr  # one file listed by digest only
    assert "not an image" in done.stderr

    hashes = tmp_path / "hashes.txt"
    hashes.write_text(f"# more\nsha256:{'ab' * 32}\nphash:zz\n")
    done = run_cli(hs, admin.access_token, "media", "import", name, str(hashes))
    assert done.returncode == 3 and "line 3" in done.stderr, done.stderr
    shown = run_cli(hs, admin.access_token, "media", "show", name)
    assert shown.returncode == 0, shown.stderr
    assert '"sha256"' in shown.stdout and "ab" * 32 in shown.stdout

    user = hs.register()
    status, answer = await _upload(hs, user, encoded(picture(41).resize((300, 225))))
    assert (status, answer.get(REASON_FIELD)) == (403, "PROHIBITED_MEDIA")

    domains = tmp_path / "domains.txt"
    domains.write_text("# shorteners\nshort.example\nHTTPS://Tiny.Example/x\n")
    links = _name()
    done = run_cli(hs, admin.access_token, "links", "import", links, str(domains),
                   "--action", "review", "--credit-penalty", "0")  # fmt: skip
    assert done.returncode == 0, done.stderr

    http = Http(hs, admin.access_token)
    _, audit = await http.get(f"{ADMIN}/audit?action=media.put&target={name}")
    entries = [e for e in audit["entries"] if e["target"] == name]
    assert entries and entries[0]["details"]["phash"]["added_count"] == 1
    _, audit = await http.get(f"{ADMIN}/audit?action=links.put&target={links}")
    found = [e for e in audit["entries"] if e["target"] == links]
    assert found[0]["details"]["domains"]["added"] == ["short.example", "tiny.example"]

    status, answer = await http.put(
        f"{ADMIN}/links/{links}", {"domains": ["ok.example", "not a domain"]}
    )
    assert (status, answer["field"], answer["errors"][0]["index"]) == (
        400,
        "domains",
        1,
    )
    status, answer = await http.put(f"{ADMIN}/media/{name}", {"phash": ["xyz"]})
    assert (status, answer["field"]) == (400, "phash")
    status, answer = await http.put(f"{ADMIN}/media/{_name()}", {"sha256": []})
    assert (status, answer["field"]) == (400, "action")
    status, answer = await http.put(f"{ADMIN}/links/{links}", {"words": []})
    assert (status, answer["field"]) == (400, "words")
    _, listing = await http.get(f"{ADMIN}/media")
    assert listing["loaded_version"] == listing["version"]
    assert any(c["category"] == name and c["phash"] == 1 for c in listing["categories"])


def _quarantined_by(hs: Homeserver, media_id: str) -> str | None:
    rows = hs.sql(
        "SELECT quarantined_by FROM local_media_repository WHERE media_id = ?",
        (media_id,),
    )
    return rows[0][0] if rows else None


async def test_closing_a_room_and_blacklisting_a_user_quarantine_media(
    hs: Homeserver, admin: User
) -> None:
    """C7 with D2 and D4: closing a room quarantines the media its messages
    carry, blacklisting a local user what they uploaded (Synapse's own
    quarantine: nobody downloads them here), and the audit says how many."""
    member, other = hs.register(), hs.register()
    room_id = await new_room(hs, member)
    _, answer = await _upload(hs, member, encoded(picture(51)))
    in_room = answer["content_uri"]
    async with clients(hs, member) as (client,):
        sent = await client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.image", "body": "photo.jpg", "url": in_room},
            tx_id=uuid.uuid4().hex,
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
    http = Http(hs, admin.access_token)
    status, body = await http.post(
        f"{ADMIN}/rooms/{room_id}/sanctions",
        {"action": "close", "reason": "prohibited pictures"},
    )
    assert status == 200, body
    media_id = in_room.rsplit("/", 1)[1]
    assert _quarantined_by(hs, media_id) == admin.user_id
    status, _ = await Http(hs, other.access_token).get(
        f"/_matrix/client/v1/media/download/{quote(hs.server_name)}/{media_id}"
    )
    assert status == 404

    _, answer = await _upload(hs, other, encoded(picture(52)))
    uploaded = answer["content_uri"].rsplit("/", 1)[1]
    status, body = await http.post(
        f"{ADMIN}/blacklist",
        {"kind": "user", "target": other.user_id, "reason": "prohibited pictures"},
    )
    assert status == 200, body
    assert _quarantined_by(hs, uploaded) == admin.user_id
    _, audit = await http.get(f"{ADMIN}/audit?action=blacklist.add")
    entry = next(e for e in audit["entries"] if e["target"] == other.user_id)
    assert entry["details"]["media_quarantined"] == 1
