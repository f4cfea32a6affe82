"""Keyword lists managed through the admin API and the CLI in a real
Synapse (C4): changes without restart, bulk import with per-line errors,
seeds, the audit trail, and who may call what (G2)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import nio
import pytest

from tests.harness.client import Http, clients, reason_of, run_cli
from tests.harness.homeserver import Homeserver, User
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"
SAMPLES = Path(__file__).resolve().parents[2] / "config" / "keywords"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


@pytest.fixture(scope="module")
def admin(hs: Homeserver) -> User:
    return hs.register(admin=True)


def _name() -> str:
    return f"cat_{uuid.uuid4().hex[:8]}"


async def _send(hs: Homeserver, user: User, room_id: str, body: str) -> Any:
    async with clients(hs, user) as (client,):
        return await client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body},
            tx_id=uuid.uuid4().hex,
        )  # fmt: skip


async def _room(hs: Homeserver, user: User) -> str:
    async with clients(hs, user) as (client,):
        created = await client.room_create(name="test")
        assert isinstance(created, nio.RoomCreateResponse), created
        return str(created.room_id)


async def test_admin_routes_refuse_non_admins(hs: Homeserver) -> None:
    """G2: 401 without a token, 403 for a user who is not a server admin."""
    user = hs.register()
    routes = [
        ("GET", "/keywords", None),
        ("GET", "/keywords/gambling", None),
        ("PUT", "/keywords/gambling", {"action": "block", "credit_penalty": 1}),
        ("DELETE", "/keywords/gambling", None),
        ("POST", "/keywords/gambling/import", None),
        ("POST", "/content/test", {"text": "x"}),
        ("GET", "/content/hits", None),
    ]
    for method, path, body in routes:
        status, answer = await Http(hs).request(method, ADMIN + path, body)
        assert status == 401, (method, path, answer)
        status, answer = await Http(hs, user.access_token).request(
            method, ADMIN + path, body
        )
        assert (status, answer["errcode"]) == (403, "M_FORBIDDEN"), (method, path)


async def test_list_change_takes_effect_without_restart(
    hs: Homeserver, admin: User
) -> None:
    """C4: a word added through the admin API is refused on the next
    message, and allowed again once removed; no restart."""
    user = hs.register()
    room_id = await _room(hs, user)
    http = Http(hs, admin.access_token)
    name = _name()
    phrase = "周末抽奖群"
    assert isinstance(await _send(hs, user, room_id, phrase), nio.RoomSendResponse)

    status, body = await http.put(
        f"{ADMIN}/keywords/{name}",
        {"action": "block", "credit_penalty": 3, "words": ["抽奖群"]},
    )
    assert status == 200 and body["created"] is True, body
    assert await reason_of(await _send(hs, user, room_id, phrase)) == (
        "PROHIBITED_CONTENT"
    )
    status, listing = await http.get(f"{ADMIN}/keywords")
    assert listing["loaded_version"] == listing["version"] == body["version"]

    status, body = await http.put(f"{ADMIN}/keywords/{name}", {"words": []})
    assert status == 200, body
    assert isinstance(await _send(hs, user, room_id, phrase), nio.RoomSendResponse)

    # Review instead of block: allowed.
    status, body = await http.put(
        f"{ADMIN}/keywords/{name}", {"action": "review", "words": ["抽奖群"]}
    )
    assert (status, body["action"], body["credit_penalty"]) == (200, "review", 3)
    assert isinstance(await _send(hs, user, room_id, phrase), nio.RoomSendResponse)

    status, body = await http.delete(f"{ADMIN}/keywords/{name}")
    assert (status, body["deleted"]) == (200, name)
    status, body = await http.get(f"{ADMIN}/keywords/{name}")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_every_change_is_audited_with_what_changed(
    hs: Homeserver, admin: User
) -> None:
    """C4, F1: who changed which list, and the words added and removed."""
    http = Http(hs, admin.access_token)
    name = _name()
    await http.put(
        f"{ADMIN}/keywords/{name}",
        {"action": "block", "credit_penalty": 5, "words": ["甲乙丙", "丁戊己"]},
    )
    await http.put(
        f"{ADMIN}/keywords/{name}",
        {
            "credit_penalty": 8,
            "words": ["甲乙丙", "庚辛壬"],
            "exceptions": ["甲乙丙丁"],
        },
    )
    await http.delete(f"{ADMIN}/keywords/{name}")
    status, page = await http.get(f"{ADMIN}/audit?action=keywords.&target={name}")
    assert status == 200
    created, changed, deleted = page["entries"]
    assert created["actor"] == admin.user_id and created["action"] == "keywords.put"
    assert created["details"]["created"] is True
    assert created["details"]["words"]["added"] == ["甲乙丙", "丁戊己"]
    assert changed["details"]["credit_penalty_before"] == 5
    assert changed["details"]["words"]["added"] == ["庚辛壬"]
    assert changed["details"]["words"]["removed"] == ["丁戊己"]
    assert changed["details"]["exceptions"]["added"] == ["甲乙丙丁"]
    assert deleted["action"] == "keywords.delete"
    assert deleted["details"]["words"]["removed"] == ["甲乙丙", "庚辛壬"]
    assert (await http.get(f"{ADMIN}/audit/verify"))[1]["ok"] is True


BAD_PUTS = [
    pytest.param(
        "Bad-Name", {"action": "block", "credit_penalty": 1}, "category", id="name"
    ),
    pytest.param("x_new", {"credit_penalty": 1}, "action", id="new-without-action"),
    pytest.param(
        "x_new", {"action": "block"}, "credit_penalty", id="new-without-penalty"
    ),
    pytest.param(
        "x_new", {"action": "ban", "credit_penalty": 1}, "action", id="bad-action"
    ),
    pytest.param(
        "x_new",
        {"action": "block", "credit_penalty": 500},
        "credit_penalty",
        id="penalty",
    ),
    pytest.param(
        "x_new",
        {"action": "block", "credit_penalty": 1, "words": "开奖"},
        "words",
        id="words-not-a-list",
    ),
    pytest.param(
        "x_new",
        {"action": "block", "credit_penalty": 1, "labels": {"en": "x"}},
        "labels",
        id="labels",
    ),
    pytest.param(
        "x_new",
        {"action": "block", "credit_penalty": 1, "word": ["x"]},
        "word",
        id="unknown-field",
    ),
]


@pytest.mark.parametrize(("category", "body", "field"), BAD_PUTS)
async def test_bad_input_is_a_400_naming_the_field(
    hs: Homeserver, admin: User, category: str, body: dict[str, Any], field: str
) -> None:
    status, answer = await Http(hs, admin.access_token).put(
        f"{ADMIN}/keywords/{category}", body
    )
    assert status == 400, answer
    assert answer["field"] == field, answer
    assert answer["errcode"] in ("M_INVALID_PARAM", "M_MISSING_PARAM")


async def test_bad_entries_refuse_the_whole_list_naming_each(
    hs: Homeserver, admin: User
) -> None:
    """C4: PUT is all or nothing; each bad entry is named by its index."""
    name = _name()
    http = Http(hs, admin.access_token)
    status, answer = await http.put(
        f"{ADMIN}/keywords/{name}",
        {
            "action": "block",
            "credit_penalty": 1,
            "words": ["开奖", "ab", "！！！", "開 獎", "online casino"],
        },
    )
    assert (status, answer["field"]) == (400, "words"), answer
    assert [e["index"] for e in answer["errors"]] == [1, 2, 3]
    assert "entry 1 ('ab')" in answer["error"]
    status, _ = await http.get(f"{ADMIN}/keywords/{name}")
    assert status == 404  # nothing stored


async def test_import_reports_bad_lines_and_keeps_the_rest(
    hs: Homeserver, admin: User
) -> None:
    """C4: bulk import; every bad line reported by number, nothing else lost."""
    name = _name()
    http = Http(hs, admin.access_token)
    await http.put(
        f"{ADMIN}/keywords/{name}",
        {"action": "block", "credit_penalty": 2, "words": ["已有词"]},
    )
    lines = [
        b"# a comment",  # 1
        "新词一".encode(),  # 2 stored
        b"ab",  # 3 too short
        b"\xff\xfe\xfd",  # 4 not UTF-8
        "新词一".encode(),  # 5 duplicate in the file
        "已有詞".encode(),  # 6 already in the list (Traditional spelling)
        b"...",  # 7 nothing left once normalised
        "新词二 # note".encode(),  # 8 comment not on its own line
        b"",  # 9 blank
        b"online casino",  # 10 stored
    ]
    status, result = await http.post(
        f"{ADMIN}/keywords/{name}/import",
        data=b"\n".join(lines),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert status == 200, result
    assert [e["line"] for e in result["errors"]] == [3, 4, 5, 6, 7, 8]
    assert "UTF-8" in result["errors"][1]["error"]
    assert "already in the list" in result["errors"][3]["error"]
    assert (result["added"], result["total"]) == (2, 3)
    status, category = await http.get(f"{ADMIN}/keywords/{name}")
    assert category["words"] == ["已有词", "新词一", "online casino"]

    # Exceptions, replacing.
    status, result = await http.post(
        f"{ADMIN}/keywords/{name}/import?list=exceptions&mode=replace",
        data="新词一号\n".encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert (status, result["total"], result["errors"]) == (200, 1, [])
    user = hs.register()
    room_id = await _room(hs, user)
    assert isinstance(await _send(hs, user, room_id, "新词一号"), nio.RoomSendResponse)
    assert await reason_of(await _send(hs, user, room_id, "ONLINE casino")) == (
        "PROHIBITED_CONTENT"
    )


async def test_import_refuses_what_it_cannot_read(hs: Homeserver, admin: User) -> None:
    http = Http(hs, admin.access_token)
    status, answer = await http.post(
        f"{ADMIN}/keywords/gambling/import", {"words": ["x"]}
    )
    assert (status, answer["field"]) == (400, "Content-Type")
    status, answer = await http.post(
        f"{ADMIN}/keywords/{_name()}/import",
        data="开奖\n".encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert status == 404 and "PUT first" in answer["error"]
    status, answer = await http.post(
        f"{ADMIN}/keywords/spam/import?list=phrases",
        data=b"x",
        headers={"Content-Type": "text/plain"},
    )
    assert (status, answer["field"]) == (400, "list")


async def test_phrase_test_and_hits_listing(hs: Homeserver, admin: User) -> None:
    """Admins can try a phrase against the lists in force, and page the
    records (what D6's keyword match and the complaint queue build on)."""
    http = Http(hs, admin.access_token)
    name = _name()
    await http.put(
        f"{ADMIN}/keywords/{name}",
        {"action": "review", "credit_penalty": 4, "words": ["测试短语"]},
    )
    status, answer = await http.post(f"{ADMIN}/content/test", {"text": "這是測試短語"})
    assert status == 200
    assert answer["hits"] == [
        {
            "category": name,
            "action": "review",
            "credit_penalty": 4,
            "keyword": "测试短语",
        }
    ]
    status, answer = await http.get(f"{ADMIN}/content/hits?action=maybe")
    assert (status, answer["field"]) == (400, "action")
    status, answer = await http.post(f"{ADMIN}/content/test", {})
    assert (status, answer["field"]) == (400, "text")


def test_cli_imports_a_file(hs: Homeserver, admin: User, tmp_path: Path) -> None:
    """C4, G2: `groupreg keywords import <category> <file>`, creating the
    category; bad lines come back by number and make it exit 3 (done in
    part); refusals exit 1."""
    name = _name()
    words = tmp_path / "list.txt"
    words.write_bytes("# 示例\n开奖\nxy\n六合彩\n".encode())
    done = run_cli(
        hs, admin.access_token, "keywords", "import", name, str(words),
        "--action", "block", "--credit-penalty", "9",
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "line 3:" in done.stderr
    result = json.loads(done.stdout)
    assert (result["added"], [e["line"] for e in result["errors"]]) == (2, [3])
    shown = json.loads(run_cli(hs, admin.access_token, "keywords", "show", name).stdout)
    assert (shown["action"], shown["credit_penalty"]) == ("block", 9)
    assert shown["words"] == ["开奖", "六合彩"]
    tested = json.loads(
        run_cli(hs, admin.access_token, "content", "test", "六合彩").stdout
    )
    assert [h["category"] for h in tested["hits"]] == [name]
    user = hs.register()
    refused = run_cli(hs, user.access_token, "keywords", "list")
    assert refused.returncode == 1
    assert json.loads(refused.stderr)["errcode"] == "M_FORBIDDEN"


async def test_seeds_are_planted_once_and_the_database_wins(
    homeservers: HomeserverFactory,
) -> None:
    """C4: config categories seed the database at the first start; after
    that the database is the truth: a deleted seed stays deleted and a
    changed seed is reported, not applied."""
    seeds = {
        "gambling": {
            "action": "block",
            "credit_penalty": 15,
            "words_file": str(SAMPLES / "gambling.txt"),
        },
        "pyramid_selling": {"action": "block", "credit_penalty": 10},
    }
    config: dict[str, Any] = {"profile": "generic", "content": {"categories": seeds}}
    hs = homeservers(config)
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    status, listing = await http.get(f"{ADMIN}/keywords")
    counts = {c["category"]: c["words"] for c in listing["categories"]}
    assert counts == {"gambling": 5, "pyramid_selling": 0}
    status, page = await http.get(f"{ADMIN}/audit?action=keywords.seed")
    assert page["entries"][0]["details"]["categories"]["gambling"]["words"] == 5

    await http.delete(f"{ADMIN}/keywords/pyramid_selling")
    seeds["gambling"]["credit_penalty"] = 30
    hs.module_config = config
    hs.write_config()
    hs.restart()
    status, listing = await http.get(f"{ADMIN}/keywords")
    categories = {c["category"]: c for c in listing["categories"]}
    assert set(categories) == {"gambling"}
    assert categories["gambling"]["credit_penalty"] == 15
    assert "the database is in force" in hs.log_text()
    status, page = await http.get(f"{ADMIN}/audit?action=keywords.seed")
    assert (status, len(page["entries"])) == (200, 1)
