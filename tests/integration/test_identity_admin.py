"""The identity admin API in a real Synapse: documents (A4), masked views,
reveal and the per-person limit (A6), bulk import (A3 a), minors (A7),
deactivation (A8) and key rotation."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import nio
import pytest

from tests.harness.client import Http, clients, run_cli
from tests.harness.homeserver import Homeserver, User
from tests.harness.identity import (
    ADMIN,
    born_years_ago,
    cn_config,
    resident_id,
    start,
    verify,
)
from tests.integration.conftest import HomeserverFactory


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    # One-step reveal (approvals 0), as before four eyes (test_reveal.py).
    return start(
        homeservers, lambda d: cn_config(d, identity={"reveal": {"approvals": 0}})
    )


def _path(user: User, suffix: str = "") -> str:
    return f"{ADMIN}/identities/{urllib.parse.quote(user.user_id)}{suffix}"


@pytest.mark.parametrize(
    ("number", "field", "problem"),
    [
        ("110105194912310021", "document_number", "check_digit"),
        (resident_id(7, born="19491331"), "document_number", "birth_date"),
        (resident_id(7, region="990105"), "document_number", "region"),
        ("11010519491231", "document_number", "length"),
    ],
)
async def test_bad_documents_are_400_naming_the_problem(
    hs: Homeserver, number: str, field: str, problem: str
) -> None:
    """A4: a bad number is 400 INVALID_DOCUMENT naming the field and the
    problem (check digit, date, region...), and never echoes the number."""
    admin, user = hs.register(admin=True), hs.register()
    status, body = await verify(hs, admin, user, number)
    assert status == 400, body
    assert body["errcode"] == "M_INVALID_PARAM"
    assert body["org.groupreg.reason"] == "INVALID_DOCUMENT"
    assert (body["field"], body["problem"]) == (field, problem)
    assert number not in json.dumps(body)


async def test_bad_type_and_missing_name_are_named(hs: Homeserver) -> None:
    """Every bad input is a 400 that names its field."""
    admin, user = hs.register(admin=True), hs.register()
    status, body = await verify(hs, admin, user, resident_id(8), document_type="visa")
    assert (status, body["field"], body["problem"]) == (
        400,
        "document_type",
        "unknown_type",
    )
    status, body = await verify(hs, admin, user, resident_id(8), name="  ")
    assert (status, body["field"]) == (400, "name")
    status, body = await Http(hs, admin.access_token).put(
        _path(user), {"name": "李四", "document_type": "resident_id"}
    )
    assert (status, body["errcode"], body["field"]) == (
        400,
        "M_MISSING_PARAM",
        "document_number",
    )


async def test_legacy_number_is_the_same_person(hs: Homeserver) -> None:
    """A4: a 15-digit number is converted to 18 digits, so it hashes as the
    same person; the vectors of A4 pass."""
    admin = hs.register(admin=True)
    a, b = hs.register(), hs.register()
    assert (await verify(hs, admin, a, "110105491231002"))[0] == 200
    status, body = await verify(hs, admin, b, "11010519491231002x")
    assert status == 200
    assert body["masked_number"] == "110105********002X"
    hashes = hs.sql(
        "SELECT DISTINCT person_hash FROM groupreg_identities WHERE user_id IN (?, ?)",
        (a.user_id, b.user_id),
    )
    assert len(hashes) == 1


async def test_person_limit_refuses_the_next_account(hs: Homeserver) -> None:
    """A6: one person holds at most 3 verified accounts (default); the fourth
    is refused 403 PERSON_LIMIT; repeating an account's own identity is
    idempotent and does not count twice."""
    admin = hs.register(admin=True)
    number = resident_id(11, born="19800202")
    users = [hs.register() for _ in range(4)]
    for user in users[:3]:
        status, body = await verify(hs, admin, user, number)
        assert status == 200 and body["changed"] is True, body
    status, body = await verify(hs, admin, users[0], number)
    assert (status, body["changed"]) == (200, False)
    status, body = await verify(hs, admin, users[3], number)
    assert status == 403, body
    assert body["org.groupreg.reason"] == "PERSON_LIMIT"
    assert "3" in body["error"]


async def test_masked_view_and_audited_reveal(hs: Homeserver) -> None:
    """A6: admins see masked forms; the plaintext needs a reason and leaves
    an audit entry holding the reason but no plaintext; non-admins get 403."""
    admin, user = hs.register(admin=True), hs.register()
    number = resident_id(12, born="19750505")
    await verify(hs, admin, user, number, name="欧阳娜娜")
    http = Http(hs, admin.access_token)
    status, view = await http.get(_path(user))
    assert status == 200
    assert view["masked_name"] == "欧***"
    assert view["masked_number"] == number[:6] + "********" + number[14:]
    assert (view["level"], view["method"], view["status"]) == (
        "id",
        "admin",
        "verified",
    )
    assert view["verified_by"] == admin.user_id and view["verified_ts"] > 0

    status, body = await http.post(_path(user, "/reveal"), {})
    assert (status, body["field"]) == (400, "reason")
    status, body = await http.post(
        _path(user, "/reveal"), {"reason": "police request 42"}
    )
    assert status == 200
    assert (body["name"], body["document_number"]) == ("欧阳娜娜", number)
    status, body = await Http(hs, user.access_token).post(
        _path(user, "/reveal"), {"reason": "curious"}
    )
    assert status == 403

    _, page = await http.get(f"{ADMIN}/audit?target={urllib.parse.quote(user.user_id)}")
    actions = [e["action"] for e in page["entries"]]
    assert {"identity.verify", "identity.view", "identity.reveal"} <= set(actions)
    reveal = next(e for e in page["entries"] if e["action"] == "identity.reveal")
    assert reveal["details"]["reason"] == "police request 42"
    assert number not in json.dumps(page) and "欧阳娜娜" not in json.dumps(page)


async def test_import_csv_and_json_per_row_and_idempotent(hs: Homeserver) -> None:
    """A3 a: bulk import from CSV and JSON; each row has its own result, a
    bad row loses nothing else, and importing again changes nothing."""
    admin = hs.register(admin=True)
    a, b, c = hs.register(), hs.register(), hs.register()
    http = Http(hs, admin.access_token)
    csv_text = (
        "user_id,name,document_type,document_number\n"
        f"{a.user_id},王五,resident_id,{resident_id(21)}\n"
        f"{b.user_id},赵六,resident_id,110105194912310021\n"
        f"@nobody:{hs.server_name},钱七,resident_id,{resident_id(22)}\n"
        f"{c.user_id},Jane Doe,passport,E12345678\n"
    )
    status, body = await http.post(
        f"{ADMIN}/identities/import",
        data=csv_text,
        headers={"Content-Type": "text/csv"},
    )
    assert status == 200, body
    statuses = [(r["row"], r["status"]) for r in body["results"]]
    assert statuses == [(1, "verified"), (2, "error"), (3, "error"), (4, "verified")]
    assert body["results"][1]["problem"] == "check_digit"
    assert body["results"][1]["reason"] == "INVALID_DOCUMENT"
    assert body["results"][2]["field"] == "user_id"
    assert body["counts"] == {"verified": 2, "error": 2}

    status, again = await http.post(
        f"{ADMIN}/identities/import",
        data=csv_text,
        headers={"Content-Type": "text/csv"},
    )
    assert [r["status"] for r in again["results"]] == [
        "unchanged",
        "error",
        "error",
        "unchanged",
    ]

    rows = [
        {
            "user_id": b.user_id,
            "name": "赵六",
            "document_type": "resident_id",
            "document_number": resident_id(23),
        },
        {"user_id": b.user_id, "name": "赵六"},
        "not an object",
    ]
    status, body = await http.post(f"{ADMIN}/identities/import", {"identities": rows})
    assert status == 200, body
    assert [r["status"] for r in body["results"]] == ["verified", "error", "error"]
    assert body["results"][1]["field"] == "document_type"
    _, view = await http.get(_path(b))
    assert view["level"] == "id" and view["method"] == "import"

    status, body = await http.post(
        f"{ADMIN}/identities/import",
        data="no,header\n",
        headers={"Content-Type": "text/csv"},
    )
    assert status == 400 and "user_id" in body["error"]


async def test_minor_waits_for_a_guardian(hs: Homeserver) -> None:
    """A7: a user under 14 stays unverified (refused posting) until a
    guardian's consent is recorded through the admin API."""
    admin, child = hs.register(admin=True), hs.register()
    http = Http(hs, admin.access_token)
    status, body = await verify(
        hs, admin, child, resident_id(31, born=born_years_ago(10))
    )
    assert status == 200
    assert (body["level"], body["guardian_required"]) == ("none", True)
    async with clients(hs, child) as (client,):
        refused = await client.room_create()
        assert isinstance(refused, nio.ErrorResponse)
        status, body = await http.post(_path(child, "/guardian_consent"), {})
        assert (status, body["field"]) == (400, "reference")
        status, body = await http.post(
            _path(child, "/guardian_consent"), {"reference": "form 2024-117"}
        )
        assert status == 200, body
        assert (body["level"], body["guardian_required"]) == ("id", False)
        assert body["guardian_ts"] is not None
        created = await client.room_create()
        assert isinstance(created, nio.RoomCreateResponse), created
    teen = hs.register()
    status, body = await verify(
        hs, admin, teen, resident_id(32, born=born_years_ago(15))
    )
    assert (body["level"], body["guardian_required"]) == ("id", False)


async def test_deactivation_erases_the_plaintext(hs: Homeserver) -> None:
    """A8: deactivating an account erases its identity plaintext (and the
    person hash, no blacklist entry holding it); the slot is freed."""
    admin, user = hs.register(admin=True), hs.register()
    await verify(hs, admin, user, resident_id(41))
    status, _ = await Http(hs, admin.access_token).post(
        f"/_synapse/admin/v1/deactivate/{urllib.parse.quote(user.user_id)}", {}
    )
    assert status == 200
    rows = hs.sql(
        "SELECT status, name_ct, number_ct, person_hash, erased_ts"
        " FROM groupreg_identities WHERE user_id = ?",
        (user.user_id,),
    )
    assert rows and rows[0][:4] == ("erased", None, None, None) and rows[0][4]
    http = Http(hs, admin.access_token)
    status, _ = await http.post(_path(user, "/reveal"), {"reason": "after deletion"})
    assert status == 404
    _, view = await http.get(_path(user))
    assert (view["status"], view["masked_name"], view["level"]) == (
        "erased",
        None,
        "none",
    )


async def _wait_for(predicate: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.3)
    raise AssertionError("condition not reached")


async def test_key_rotation_reencrypts_every_row(
    homeservers: HomeserverFactory,
) -> None:
    """A6: after `keytool rotate` and a restart, new data is encrypted with
    the new key, the background job moves old rows to it, the old key then
    counts no rows, and every plaintext still reads back."""
    hs = start(
        homeservers, lambda d: cn_config(d, identity={"reveal": {"approvals": 0}})
    )
    admin, user = hs.register(admin=True), hs.register()
    number = resident_id(51)
    await verify(hs, admin, user, number, name="孙八")
    http = Http(hs, admin.access_token)
    _, before = await http.get(f"{ADMIN}/identities/keys")
    old_key = before["current_key_id"]
    assert before["rows_by_key"] == {old_key: 1}

    assert hs.module_config is not None
    key_path = Path(hs.module_config["identity"]["key_file"])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "synapse_groupreg.identity.keytool",
            "rotate",
            str(key_path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "added key" in done.stdout
    hs.restart()

    async def moved() -> bool:
        _, status = await http.get(f"{ADMIN}/identities/keys")
        return bool(
            status["current_key_id"] != old_key and old_key not in status["rows_by_key"]
        )

    await _wait_for(moved)
    _, status = await http.get(f"{ADMIN}/identities/keys")
    assert status["key_ids"][1] == old_key
    _, body = await http.post(_path(user, "/reveal"), {"reason": "rotation check"})
    assert (body["name"], body["document_number"]) == ("孙八", number)


def test_cli_imports_shows_and_reveals(hs: Homeserver, tmp_path: Path) -> None:
    """A3 a, A6, G2: `groupreg identities import` verifies from a CSV file,
    `show` answers the masked view, `reveal` needs a reason."""
    admin, user = hs.register(admin=True), hs.register()
    number = resident_id(31)
    csv_file = tmp_path / "hr.csv"
    csv_file.write_text(
        f"user_id,name,document_type,document_number\n{user.user_id},孙八,resident_id,{number}\n"
    )
    done = run_cli(hs, admin.access_token, "identities", "import", str(csv_file))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == {"verified": 1}
    shown = json.loads(
        run_cli(hs, admin.access_token, "identities", "show", user.user_id).stdout
    )
    assert shown["level"] == "id"
    assert number not in json.dumps(shown, ensure_ascii=False)
    no_reason = run_cli(hs, admin.access_token, "identities", "reveal", user.user_id)
    assert no_reason.returncode == 2  # argparse: --reason is required
    revealed = run_cli(
        hs,
        admin.access_token,
        "identities",
        "reveal",
        user.user_id,
        "--reason",
        "inspection",
    )
    assert revealed.returncode == 0, revealed.stderr
    assert number in revealed.stdout
