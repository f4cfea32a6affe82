"""The module in a real Synapse: loading, its APIs' access rules, the audit
chain (F1), the notice bot, and data kept across restarts."""

from __future__ import annotations

import asyncio
import json
import time

import nio
import pytest

from synapse_groupreg import __version__
from tests.harness import workers
from tests.harness.client import Http, clients, run_cli
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory

CLIENT = "/_synapse/client/groupreg/v1"
ADMIN = "/_synapse/client/groupreg/admin/v1"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


async def test_status_answers_version_and_profile(hs: Homeserver) -> None:
    """G2: any logged-in user reads the module's version and profile."""
    user = hs.register()
    status, body = await Http(hs, user.access_token).get(f"{CLIENT}/status")
    assert status == 200
    assert body["version"] == __version__
    assert body["profile"] == "generic"
    assert body["user_id"] == user.user_id


async def test_client_api_needs_a_token(hs: Homeserver) -> None:
    """G2: 401 without a token, on both APIs."""
    for path in (f"{CLIENT}/status", f"{ADMIN}/audit"):
        status, body = await Http(hs).get(path)
        assert status == 401, path
        assert body["errcode"] == "M_MISSING_TOKEN"


async def test_admin_api_refuses_non_admins(hs: Homeserver) -> None:
    """G2: 403 for a user who is not a server admin, 200 for one who is."""
    user, admin = hs.register(), hs.register(admin=True)
    status, body = await Http(hs, user.access_token).get(f"{ADMIN}/audit")
    assert status == 403
    assert body["errcode"] == "M_FORBIDDEN"
    status, body = await Http(hs, admin.access_token).get(f"{ADMIN}/audit")
    assert status == 200
    assert isinstance(body["entries"], list)


async def test_unknown_route_and_wrong_method(hs: Homeserver) -> None:
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    status, body = await http.get(f"{ADMIN}/no-such-thing")
    assert (status, body["errcode"]) == (404, "M_UNRECOGNIZED")
    status, body = await http.delete(f"{ADMIN}/audit")
    assert (status, body["errcode"]) == (405, "M_UNRECOGNIZED")


async def test_bad_input_names_the_field(hs: Homeserver) -> None:
    """Bad input is a 400 that names the field; nothing is half-done."""
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    status, body = await http.get(f"{ADMIN}/audit?limit=0")
    assert (status, body["errcode"], body["field"]) == (400, "M_INVALID_PARAM", "limit")
    status, body = await http.post(f"{ADMIN}/notices", data="{not json")
    assert (status, body["errcode"]) == (400, "M_NOT_JSON")
    status, body = await http.post(f"{ADMIN}/notices", {"user_id": admin.user_id})
    assert (status, body["errcode"], body["field"]) == (400, "M_MISSING_PARAM", "body")


async def _wait_for_invite(client: nio.AsyncClient, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync = await client.sync(timeout=1000)
        assert isinstance(sync, nio.SyncResponse), sync
        if sync.rooms.invite:
            return str(next(iter(sync.rooms.invite)))
    raise AssertionError("no invite arrived")


async def test_notice_bot_writes_a_direct_message(hs: Homeserver) -> None:
    """The notice bot opens a direct chat with the user, who sees its
    m.notice as Element would; a second notice reuses the chat."""
    user, admin = hs.register(), hs.register(admin=True)
    http = Http(hs, admin.access_token)
    status, body = await http.post(
        f"{ADMIN}/notices", {"user_id": user.user_id, "body": "第一条通知 first"}
    )
    assert status == 200, body
    async with clients(hs, user) as (client,):
        room_id = await _wait_for_invite(client)
        joined = await client.join(room_id)
        assert isinstance(joined, nio.JoinResponse), joined
        status, body = await http.post(
            f"{ADMIN}/notices", {"user_id": user.user_id, "body": "second notice"}
        )
        assert status == 200, body
        messages = await client.room_messages(room_id, start="", limit=20)
        assert isinstance(messages, nio.RoomMessagesResponse), messages
        notices = [
            e.body for e in messages.chunk if isinstance(e, nio.RoomMessageNotice)
        ]
        assert notices[:2] == ["second notice", "第一条通知 first"]
        bot = f"@groupreg:{hs.server_name}"
        assert all(
            e.sender == bot
            for e in messages.chunk
            if isinstance(e, nio.RoomMessageNotice)
        )


async def test_audit_chain_detects_tampering(homeservers: HomeserverFactory) -> None:
    """F1: entries are hash-chained; altering one through SQL is found by
    /audit/verify, which names that entry; so is a removed entry. (A
    homeserver of its own: the chain stays broken afterwards.)"""
    hs = homeservers({"profile": "generic"})
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    for n in range(3):
        status, _ = await http.post(
            f"{ADMIN}/notices", {"user_id": admin.user_id, "body": f"notice {n}"}
        )
        assert status == 200
    status, verdict = await http.get(f"{ADMIN}/audit/verify")
    assert status == 200
    assert verdict["ok"] is True and verdict["first_bad"] is None
    total = verdict["entries"]
    assert total >= 4  # the module's start and three notices

    status, page = await http.get(f"{ADMIN}/audit?action=notice.send&limit=2")
    assert status == 200 and len(page["entries"]) == 2 and "next_token" in page
    victim = page["entries"][1]["seq"]

    hs.sql(
        "UPDATE groupreg_audit_log SET actor = ? WHERE seq = ?", ("@mallory:x", victim)
    )
    status, verdict = await http.get(f"{ADMIN}/audit/verify")
    assert verdict["ok"] is False
    assert verdict["first_bad"] == victim
    assert verdict["entries"] == total
    assert "altered" in verdict["problem"]

    # Put it back, then remove an entry instead.
    hs.sql(
        "UPDATE groupreg_audit_log SET actor = ? WHERE seq = ?", (admin.user_id, victim)
    )
    status, verdict = await http.get(f"{ADMIN}/audit/verify")
    assert verdict["ok"] is True
    hs.sql("DELETE FROM groupreg_audit_log WHERE seq = ?", (victim,))
    status, verdict = await http.get(f"{ADMIN}/audit/verify")
    assert verdict["ok"] is False
    assert verdict["first_bad"] == victim
    assert verdict["problem"] == "missing entry"


async def test_restart_keeps_module_data(homeservers: HomeserverFactory) -> None:
    """Module data survives a restart; the schema is not applied twice."""
    hs = homeservers({"profile": "generic"})
    admin = hs.register(admin=True)
    status, _ = await Http(hs, admin.access_token).post(
        f"{ADMIN}/notices", {"user_id": admin.user_id, "body": "before restart"}
    )
    assert status == 200
    hs.restart()
    # The start is recorded by a background call just after /health answers.
    deadline = time.monotonic() + 15
    while True:
        status, page = await Http(hs, admin.access_token).get(f"{ADMIN}/audit")
        actions = [e["action"] for e in page["entries"]]
        if actions.count("module.start") == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert actions.count("module.start") == 2
    assert "notice.send" in actions
    assert hs.log_text().count("groupreg schema: applied audit step 1") == 1
    assert (await Http(hs, admin.access_token).get(f"{ADMIN}/audit/verify"))[1]["ok"]


async def test_two_processes_start_at_once_and_migrate_once(
    homeservers: HomeserverFactory, backend: str
) -> None:
    """G5: a main process and a worker starting at the same moment on one
    PostgreSQL database (Redis between them) apply the module's schema
    exactly once, and both serve."""
    why = workers.skip_reason(backend)
    if why is not None:
        pytest.skip(why)
    # Synapse's own schema first: only a main process prepares it, and a
    # worker refuses to start on an unprepared database.
    first = homeservers(None)
    first.stop()
    main, (worker,) = workers.main_with_workers(
        {"profile": "generic"}, share_database_of=first, together=True
    )
    try:
        logs = main.log_text() + worker.log_text()
        assert logs.count("groupreg schema: applied audit step 1") == 1
        rows = main.sql("SELECT component, version FROM groupreg_schema ORDER BY 1")
        assert ("audit", 1) in rows and ("notices", 1) in rows
        for process in (main, worker):
            status, _ = await Http(process, main.register().access_token).get(
                f"{CLIENT}/status"
            )
            assert status == 200
    finally:
        worker.destroy()
        main.destroy()


def test_cli_speaks_the_admin_api(hs: Homeserver) -> None:
    """G2: the `groupreg` CLI drives the admin API; refusals exit 1."""
    admin, user = hs.register(admin=True), hs.register()
    done = run_cli(hs, admin.access_token, "notice", "--user", user.user_id, "hello")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event_id"].startswith("$")
    done = run_cli(
        hs, admin.access_token, "audit", "list", "--action", "notice.", "--all"
    )
    entries = json.loads(done.stdout)
    assert any(e["target"] == user.user_id for e in entries)
    done = run_cli(hs, admin.access_token, "audit", "verify")
    assert json.loads(done.stdout)["ok"] is True
    refused = run_cli(hs, user.access_token, "audit", "verify")
    assert refused.returncode == 1
    assert json.loads(refused.stderr)["errcode"] == "M_FORBIDDEN"
