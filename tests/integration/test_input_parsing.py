"""G6: hostile input is a 400 naming what is wrong, never a 500: JSON bodies
bounded in depth and size, query strings that are not UTF-8, integers past
64 bits in paging and path ids, text with lone surrogates or NUL; and a
timeline event of the registration type is refused without a failure."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from tests.harness.client import Http
from tests.harness.homeserver import Homeserver, free_port
from tests.integration.conftest import HomeserverFactory
from tests.integration.groups import ADMIN, CLIENT, MATRIX, ROOM_STATE, new_room, reason

TOO_BIG = "99999999999999999999999"  # past 64 bits


FEDERATION_PORT = free_port()


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    server = homeservers({"profile": "generic"}, start=False)
    server.extra_listeners.append(
        {
            "port": FEDERATION_PORT,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": False,
            "resources": [{"names": ["federation"]}],
        }
    )
    server.write_config()
    return server.start()


def _no_traceback(hs: Homeserver) -> None:
    log = hs.log_text()
    assert "Traceback" not in log, log[log.find("Traceback") - 2000 :][:6000]


async def test_deep_and_large_json_bodies(hs: Homeserver) -> None:
    user, admin = hs.register(), hs.register(admin=True)
    deep = b'{"reason": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for http, path in (
        (Http(hs, user.access_token), f"{CLIENT}/complaints"),
        (
            Http(hs, admin.access_token),
            f"{ADMIN}/users/{quote(user.user_id)}/sanctions",
        ),
    ):
        status, body = await http.post(path, data=deep)
        assert status == 400, body
        assert body["errcode"] == "M_BAD_JSON"
        assert "nested" in body["error"]
        big = b'{"reason": "' + b"a" * (1024 * 1024 + 10) + b'"}'
        status, body = await http.post(path, data=big)
        assert status == 400, body
        assert body["errcode"] == "M_BAD_JSON"
        status, body = await http.post(path, data=b'{"amount": NaN}')
        assert status == 400, body
    _no_traceback(hs)


async def test_integers_past_64_bits(hs: Homeserver) -> None:
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    for path, field in (
        (f"{ADMIN}/audit?from={TOO_BIG}", "from"),
        (f"{ADMIN}/audit?limit={TOO_BIG}", "limit"),
        (f"{ADMIN}/sanctions?from={TOO_BIG}", "from"),
        (f"{ADMIN}/sanctions/S{TOO_BIG}", "sanction_id"),
        (f"{ADMIN}/sanctions/{quote('²')}", "sanction_id"),
        (f"{ADMIN}/blacklist/B{TOO_BIG}", "entry_id"),
        (f"{ADMIN}/class-requests/{TOO_BIG}", "request_id"),
        (f"{ADMIN}/logs?since={TOO_BIG}", "since"),
        (f"{ADMIN}/blacklist?expiring_within=1e400d", "expiring_within"),
    ):
        method = "POST" if "class-requests" in path else "GET"
        status, body = await http.request(method, path, {"decision": "reject"})
        assert status == 400, (path, body)
        assert body.get("field") == field, (path, body)
    status, body = await http.post(
        f"{ADMIN}/users/{quote(admin.user_id)}/credit",
        {"amount": 2**70, "reason": "x"},
    )
    assert status == 400, body
    assert body["field"] == "amount"
    _no_traceback(hs)


async def test_lone_surrogates_and_nul_in_text(hs: Homeserver) -> None:
    user, admin = hs.register(), hs.register(admin=True)
    status, body = await Http(hs, user.access_token).post(
        f"{CLIENT}/complaints",
        data=b'{"category": "spam", "target": "@x:y", "reason": "a\\ud800b"}',
    )
    assert status == 400, body
    assert body["field"] == "reason"
    assert "surrogate" in body["error"]
    status, body = await Http(hs, admin.access_token).post(
        f"{ADMIN}/users/{quote(user.user_id)}/sanctions",
        data=b'{"action": "warn", "reason": "x\\u0000"}',
    )
    assert status == 400, body
    assert body["field"] == "reason"
    status, body = await Http(hs, admin.access_token).get(f"{ADMIN}/audit?actor=%00x")
    assert status == 400, body
    assert body["field"] == "actor"
    _no_traceback(hs)


async def test_query_strings_that_are_not_utf8(hs: Homeserver) -> None:
    admin = hs.register(admin=True)
    http = Http(hs, admin.access_token)
    for path, field in (
        (f"{ADMIN}/audit?actor=%ff%fe", "actor"),
        (f"{ADMIN}/rooms?q=%c3%28", "q"),
        (f"{ADMIN}/users/%ff", "user_id"),
    ):
        status, body = await http.get(path)
        assert status == 400, (path, body)
        assert body["field"] == field, (path, body)
    status, body = await Http(hs).get(f"{CLIENT}/verify?lang=%ff")
    assert status == 400, body
    _no_traceback(hs)


async def test_registration_type_as_a_timeline_event(hs: Homeserver) -> None:
    """A message event of type org.groupreg.room is refused (it could pass
    for the room's registration), as a clear 403 and no check failure."""
    user = hs.register()
    room_id = await new_room(hs, user, name="timeline")
    status, body = await Http(hs, user.access_token).put(
        f"{MATRIX}/rooms/{quote(room_id)}/send/{ROOM_STATE}/{uuid.uuid4().hex}",
        {"class": "standard"},
    )
    assert status == 403, body
    assert reason(body) == "REGISTRATION_CODE_PROTECTED"
    log = hs.log_text()
    assert "AttributeError" not in log
    _no_traceback(hs)


async def test_module_routes_are_absent_from_a_listener_without_client(
    hs: Homeserver,
) -> None:
    """G2: on a federation-only listener every module route answers 404,
    with or without a token; the client listener answers as always."""
    admin, user = hs.register(admin=True), hs.register()

    class Federation:
        base_url = f"http://127.0.0.1:{FEDERATION_PORT}"

    for token, path in (
        (admin.access_token, f"{ADMIN}/audit"),
        (user.access_token, f"{CLIENT}/status"),
        (None, f"{CLIENT}/verify"),
        (None, f"{ADMIN}/audit"),
    ):
        status, body = await Http(Federation(), token).get(path)
        assert status == 404, (path, body)
    status, _ = await Http(hs, admin.access_token).get(f"{ADMIN}/audit")
    assert status == 200
    status, _ = await Http(Federation()).get("/_matrix/federation/v1/version")
    assert status == 200
