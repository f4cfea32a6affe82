"""Adopting a server that ran without the module (H1-H6), as an operator
would: a plain Synapse filled over the client API (a 45-member group, a
direct chat, an encrypted room, a room version 12 room with a power-level
75 admin, a room shared with a second homeserver, a room whose creator was
deactivated), then restarted with the module, `generic` and then `cn` in
observe mode; then unloaded, its registration state changed, loaded again;
then uninstalled and loaded again."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import attrs
import pytest

from tests.harness import identity
from tests.harness.client import Http, run_cli
from tests.harness.federation import federating_homeserver
from tests.harness.homeserver import Homeserver, User
from tests.integration.groups import (
    ADMIN,
    CLIENT,
    MATRIX,
    ROOM_STATE,
    join,
    put_state,
    reason,
    send_text,
    state,
)

GENERIC: dict[str, Any] = {"profile": "generic"}


@attrs.define
class World:
    """The pre-existing server and what was made on it."""

    home: Homeserver
    remote: Homeserver
    admin: User
    owner: User
    admin75: User
    partner: User
    people: list[User]
    rooms: dict[str, str]


async def _create(hs: Homeserver, user: User, **body: Any) -> str:
    status, answer = await Http(hs, user.access_token).post(
        f"{MATRIX}/createRoom", body
    )
    assert status == 200, answer
    return str(answer["room_id"])


async def _fill(home: Homeserver, remote: Homeserver) -> World:
    admin, owner, admin75, partner = (
        home.register(admin=True),
        home.register(),
        home.register(),
        home.register(),
    )
    people = [home.register() for _ in range(44)]
    rooms: dict[str, str] = {}
    rooms["group45"] = await _create(home, owner, preset="public_chat", name="big")
    await asyncio.gather(*(join(home, p, rooms["group45"]) for p in people))
    rooms["direct"] = await _create(
        home,
        owner,
        preset="trusted_private_chat",
        is_direct=True,
        invite=[partner.user_id],
    )
    assert (await join(home, partner, rooms["direct"]))[0] == 200
    rooms["encrypted"] = await _create(
        home,
        owner,
        preset="public_chat",
        name="secret",
        initial_state=[
            {
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }
        ],
    )
    assert (await join(home, people[0], rooms["encrypted"]))[0] == 200
    rooms["v12"] = await _create(
        home,
        owner,
        preset="public_chat",
        name="twelve",
        room_version="12",
        power_level_content_override={"users": {admin75.user_id: 75}},
    )
    assert (await join(home, admin75, rooms["v12"]))[0] == 200
    rooms["shared"] = await _create(home, owner, preset="public_chat", name="shared")
    visitor = remote.register()
    status, body = await Http(remote, visitor.access_token).post(
        f"{MATRIX}/join/{quote(rooms['shared'])}?server_name={home.server_name}", {}
    )
    assert status == 200, body
    leaver = home.register()
    rooms["orphan"] = await _create(home, leaver, preset="public_chat", name="left")
    assert (await join(home, people[1], rooms["orphan"]))[0] == 200
    status, body = await Http(home, admin.access_token).post(
        f"/_synapse/admin/v1/deactivate/{quote(leaver.user_id)}", {}
    )
    assert status == 200, body
    for room_id in rooms.values():
        assert (await send_text(home, owner, room_id, "before the module"))[0] in (
            200,
            403,  # the orphan room's owner left: not a member any more
        )
    return World(home, remote, admin, owner, admin75, partner, people, rooms)


@pytest.fixture(scope="module")
def world(backend: str) -> Iterator[World]:
    home = federating_homeserver(None, backend, "adopted")
    remote = federating_homeserver(None, backend, "elsewhere")
    try:
        home.start()
        remote.start()
        yield asyncio.run(_fill(home, remote))
    finally:
        remote.destroy()
        home.destroy()


def _load(world: World, module_config: dict[str, Any] | None) -> None:
    """Restart the pre-existing server with (or without) the module."""
    home = world.home
    home.module_config = module_config
    if module_config is not None and module_config.get("profile") == "cn":
        home.extra_config.update(identity.consent_config(home))
    home.write_config()
    home.restart()


async def _adopted(world: World, timeout: float = 60) -> dict[str, Any]:
    """Wait until adoption has nothing left to do; its progress."""
    http = Http(world.home, world.admin.access_token)
    deadline = time.monotonic() + timeout
    while True:
        status, answer = await http.get(f"{ADMIN}/adoption")
        assert status == 200, answer
        progress = answer["progress"]
        if progress["pending"] == 0 and answer["last_pass"] is not None:
            return dict(answer)
        assert time.monotonic() < deadline, answer
        await asyncio.sleep(0.5)


async def _registration(world: World, name: str) -> dict[str, Any]:
    """The room's `org.groupreg.room`, as its creator reads it."""
    status, content = await state(
        world.home, world.owner, world.rooms[name], ROOM_STATE
    )
    assert status == 200, content
    return dict(content)


async def test_generic_adopts_every_room_within_a_minute(world: World) -> None:
    """H1, H2: every room is registered with a code and its room state; the
    45-member room sits in a class that holds it; the admin history names
    the power-level-75 user (since adoption); the direct chat is `direct`;
    nobody is removed."""
    started = time.monotonic()
    _load(world, GENERIC)
    answer = await _adopted(world)
    took = time.monotonic() - started
    assert took < 60, took
    progress = answer["progress"]
    assert progress["registered"] == len(world.rooms), progress
    assert progress["failed"] == 0, progress
    http = Http(world.home, world.admin.access_token)
    rows = {}
    for name, room_id in world.rooms.items():
        status, row = await http.get(f"{ADMIN}/rooms/{quote(room_id)}")
        assert status == 200, (name, row)
        rows[name] = row
        assert row["adopted_ts"] is not None, row
    assert rows["group45"]["class"] == "medium" and rows["group45"]["code"]
    assert rows["group45"]["member_count"] == 45
    assert rows["direct"]["class"] == "direct" and rows["direct"]["code"] is None
    history = rows["v12"]["admin_history"]
    assert any(
        h["user_id"] == world.admin75.user_id
        and h["role"] == "admin"
        and h["power_level"] == 75
        for h in history
    ), history
    # The state event is in the rooms, sent by someone with the power to.
    for name in ("group45", "encrypted", "v12", "shared"):
        status, content = await state(
            world.home, world.owner, world.rooms[name], ROOM_STATE
        )
        assert status == 200, (name, content)
        assert content["code"] == rows[name]["code"], (name, content)
    status, audit = await http.get(f"{ADMIN}/audit?action=room.state_written&limit=50")
    senders = {e["target"]: e["details"]["sender"] for e in audit["entries"]}
    assert senders[world.rooms["group45"]] == world.owner.user_id
    # Nothing that worked stopped: members talk, the big room still works.
    assert (await send_text(world.home, world.people[5], world.rooms["group45"], "hi"))[
        0
    ] == 200
    report = answer["report"]
    gone = [i["room_id"] for i in report["rooms_whose_creator_is_gone"]["items"]]
    assert world.rooms["orphan"] in gone


async def test_cn_in_observe_mode_refuses_nothing_and_reports_everything(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """H3, H4: with the cn profile observing, every action that worked
    before still works; the report names what enforcing would change (the
    encrypted room, the room shared with another server, everybody below the
    identity gate or without the covenant), and the refusals observed are
    counted by check and reason."""
    folder = tmp_path_factory.mktemp("cn")
    cn = {
        "profile": "cn",
        "identity": {"key_file": identity.key_file(folder)},
        "enforcement": "observe",
    }
    _load(world, cn)
    answer = await _adopted(world)
    home, owner = world.home, world.owner
    for name in ("group45", "encrypted", "v12", "shared", "direct"):
        status, body = await send_text(home, owner, world.rooms[name], "still here")
        assert status == 200, (name, body)
    status, body = await Http(home, owner.access_token).put(
        f"{MATRIX}/rooms/{quote(world.rooms['encrypted'])}/send/m.room.encrypted/e1",
        {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "session_id": "s"},
    )
    assert status == 200, body
    newcomer = home.register()
    assert (await join(home, newcomer, world.rooms["group45"]))[0] == 200
    status, body = await Http(home, newcomer.access_token).post(
        f"{MATRIX}/createRoom", {"name": "fresh"}
    )
    assert status == 200, body
    answer = await _adopted(world)
    report = answer["report"]
    encrypted = [
        i["room_id"]
        for i in report["encrypted_rooms_in_classes_without_encryption"]["items"]
    ]
    assert world.rooms["encrypted"] in encrypted
    federated = [
        i["room_id"]
        for i in report["rooms_with_members_of_servers_their_class_refuses"]["items"]
    ]
    assert world.rooms["shared"] in federated
    below = report["people_below_the_identity_gate"]
    assert below["count"] >= 48, below
    assert report["people_without_the_current_covenant"]["count"] >= 48
    observed = {(o["check"], o["reason"]): o["count"] for o in answer["observed"]}
    assert observed.get(("identity", "IDENTITY_REQUIRED"), 0) >= 5, observed
    assert observed.get(("covenant", "COVENANT_REQUIRED"), 0) >= 5, observed
    assert observed.get(("rooms", "ENCRYPTION_FORBIDDEN"), 0) >= 1, observed
    assert answer["enforcement"]["identity"] == "observe"


async def test_the_console_shows_the_report_and_what_was_observed(
    world: World, backend: str
) -> None:
    """H3, H4, G2: an auditor (here a server admin, who holds every role
    without a `roles:` section) reads adoption's progress, the enforcement
    modes, the report and the observed refusals in the console, on a desk
    and on a phone."""
    from tests.harness.browser import CHROMIUM, SKIP_REASON
    from tests.integration.console import console_page

    if backend != "sqlite" or not CHROMIUM.exists():
        pytest.skip(SKIP_REASON if backend == "sqlite" else "a view, shown once")
    async with console_page(world.home) as console:
        await console.sign_in(world.admin)
        await console.page.goto(
            world.home.base_url + "/_synapse/client/groupreg/console/#/adoption"
        )
        page = console.page
        # The cn profile's language: Simplified Chinese.
        await page.get_by_role("heading", name="观察模式下本应拒绝的操作").wait_for()
        text = await page.locator("main").inner_text()
        assert "IDENTITY_REQUIRED" in text and "仅观察" in text, text
        assert "类别不允许加密的加密群组" in text, text
        assert "强制执行时拒绝" in text, text
        await console.shots("adoption")
        assert console.problems == [], console.problems


async def test_a_state_changed_while_unloaded_is_repaired(world: World) -> None:
    """H5: unload the module, a room admin changes the registration state,
    load it again: the state is rewritten from the registry, and audited."""
    before = await _registration(world, "group45")
    _load(world, None)
    status, body = await put_state(
        world.home,
        world.owner,
        world.rooms["group45"],
        ROOM_STATE,
        {**before, "code": "G000000000", "class": "xl"},
    )
    assert status == 200, body
    _load(world, GENERIC)
    deadline = time.monotonic() + 60
    while True:
        after = await _registration(world, "group45")
        if after.get("code") == before["code"] and after.get("class") == "medium":
            break
        assert time.monotonic() < deadline, after
        await asyncio.sleep(0.5)
    status, audit = await Http(world.home, world.admin.access_token).get(
        f"{ADMIN}/audit?action=room.repaired&target={world.rooms['group45']}"
    )
    assert status == 200 and audit["entries"], audit


async def test_uninstall_then_load_again_is_a_clean_start(world: World) -> None:
    """H6: with the module unloaded, `groupreg uninstall` lists what it
    would remove, then erases identity data, drops the tables and
    deactivates the bot; loading the module again starts clean and adopts
    the rooms anew."""
    home, admin = world.home, world.admin
    _load(world, None)
    config = str(home.config_path)
    listed = run_cli(home, "", "uninstall", "--config", config)
    assert listed.returncode == 0, listed.stderr
    plan = json.loads(listed.stdout)
    assert plan["dry_run"] is True and "groupreg_rooms" in plan["tables"], plan
    assert plan["tables"]["groupreg_rooms"] >= len(world.rooms)
    assert home.sql("SELECT COUNT(*) FROM groupreg_rooms")[0][0] >= len(world.rooms)
    done = run_cli(
        home, admin.access_token, "uninstall", "--config", config, "--confirm"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["tables_dropped"] == len(plan["tables"])
    assert result["notice_bot_deactivated"] is True, result
    tables = (
        "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE ?"
        if home.backend == "sqlite"
        else "SELECT COUNT(*) FROM information_schema.tables WHERE table_name LIKE ?"
    )
    assert home.sql(tables, ("groupreg_%",)) == [(0,)]
    # Refused while homeserver.yaml still loads the module.
    home.module_config = GENERIC
    home.write_config()
    refused = run_cli(home, "", "uninstall", "--config", config)
    assert refused.returncode == 1 and "still loads" in refused.stderr
    home.restart()
    answer = await _adopted(world)
    # The rooms made before, and the one made under cn.
    assert answer["progress"]["registered"] >= len(world.rooms) + 1, answer
    status, body = await Http(home, world.owner.access_token).get(f"{CLIENT}/status")
    assert status == 200, body
    status, body = await send_text(home, world.owner, world.rooms["group45"], "again")
    assert status == 200, body
    assert reason(body) is None


async def test_with_a_worker_rooms_are_adopted_once(backend: str) -> None:
    """H1, G5: on a main process and a worker sharing a database that held
    rooms before the module, only the instance that runs background tasks
    adopts; every room gets one code, and the worker reports the progress."""
    from tests.harness.workers import main_with_workers, skip_reason

    why = skip_reason(backend)
    if why is not None:
        pytest.skip(why)
    plain = Homeserver(None, backend, name="plain")
    plain.start()
    main = workers = None
    try:
        owner = plain.register()
        rooms = [
            await _create(plain, owner, preset="public_chat", name=f"r{n}")
            for n in range(6)
        ]
        plain.stop()
        main, workers = main_with_workers(GENERIC, 1, share_database_of=plain)
        admin = main.register(admin=True)
        deadline = time.monotonic() + 60
        while True:
            status, answer = await Http(workers[0], admin.access_token).get(
                f"{ADMIN}/adoption"
            )
            assert status == 200, answer
            if answer["progress"]["registered"] >= len(rooms):
                break
            assert time.monotonic() < deadline, answer
            await asyncio.sleep(0.5)
        codes = main.sql(
            "SELECT room_id, code FROM groupreg_rooms WHERE adopted_ts IS NOT NULL"
        )
        assert sorted(r for r, _ in codes) == sorted(rooms)
        assert len({c for _, c in codes}) == len(rooms)
        starts = main.sql(
            "SELECT COUNT(*) FROM groupreg_audit_log WHERE action = 'room.adopted'"
        )
        assert starts == [(len(rooms),)]
    finally:
        for worker in workers or ():
            worker.destroy()
        if main is not None:
            main.destroy()
        plain.destroy()
