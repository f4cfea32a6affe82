"""G7: module roles on a real homeserver. Every admin route is tried by a
holder of each role and by a server admin holding none: allowed where the
route's role (or owner) is held, 403 `ROLE_REQUIRED` naming the role
otherwise. Without a `roles` section server admins hold every role. Role
grants and their changes are audited at start-up."""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any, cast

import pytest

from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http import all_routes
from synapse_groupreg.services import Services
from tests.harness.client import REASON_FIELD, Http
from tests.harness.homeserver import Homeserver, User
from tests.harness.identity import ADMIN, cn_config
from tests.integration.conftest import HomeserverFactory

OWN, IDO, AUD, MOD = "owner", "identity_officer", "auditor", "moderator"
PREFIX = "/_synapse/client/groupreg"

#: Every admin route and the role it needs: the table the routes must keep.
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/admin/v1/audit"): AUD,
    ("GET", "/admin/v1/audit/verify"): AUD,
    ("GET", "/admin/v1/audit/checkpoints"): AUD,
    ("POST", "/admin/v1/audit/checkpoints"): AUD,
    ("GET", "/admin/v1/logs"): AUD,
    ("GET", "/admin/v1/export"): AUD,
    ("GET", "/admin/v1/roles"): OWN,
    ("GET", "/admin/v1/identities/keys"): OWN,
    ("POST", "/admin/v1/notices"): MOD,
    ("GET", "/admin/v1/users/{user_id}"): MOD,
    ("GET", "/admin/v1/identities/pending"): IDO,
    ("POST", "/admin/v1/identities/pending/{submission_id}/approve"): IDO,
    ("POST", "/admin/v1/identities/pending/{submission_id}/reject"): IDO,
    ("POST", "/admin/v1/identities/import"): IDO,
    ("PUT", "/admin/v1/identities/{user_id}"): IDO,
    ("GET", "/admin/v1/identities/{user_id}"): IDO,
    ("POST", "/admin/v1/identities/{user_id}/reveal"): IDO,
    ("POST", "/admin/v1/identities/{user_id}/guardian_consent"): IDO,
    ("GET", "/admin/v1/identities/reveals"): IDO,
    ("GET", "/admin/v1/identities/reveals/{request_id}"): IDO,
    ("POST", "/admin/v1/identities/reveals/{request_id}/approve"): IDO,
    ("POST", "/admin/v1/identities/reveals/{request_id}/refuse"): IDO,
    ("POST", "/admin/v1/rooms/{room_id}/sanctions"): MOD,
    ("GET", "/admin/v1/rooms/{room_id}/sanctions"): MOD,
    ("POST", "/admin/v1/users/{user_id}/sanctions"): MOD,
    ("GET", "/admin/v1/users/{user_id}/sanctions"): MOD,
    ("GET", "/admin/v1/sanctions"): MOD,
    ("GET", "/admin/v1/sanctions/{sanction_id}"): MOD,
    ("DELETE", "/admin/v1/sanctions/{sanction_id}"): MOD,
    ("GET", "/admin/v1/users/{user_id}/credit"): MOD,
    ("POST", "/admin/v1/users/{user_id}/credit"): MOD,
    ("GET", "/admin/v1/blacklist/policy"): MOD,
    ("POST", "/admin/v1/blacklist/policy"): MOD,
    ("GET", "/admin/v1/blacklist"): MOD,
    ("POST", "/admin/v1/blacklist"): MOD,
    ("GET", "/admin/v1/blacklist/{entry_id}"): MOD,
    ("DELETE", "/admin/v1/blacklist/{entry_id}"): MOD,
    ("POST", "/admin/v1/violations"): MOD,
    ("GET", "/admin/v1/violations"): MOD,
    ("POST", "/admin/v1/emergency"): MOD,
    ("GET", "/admin/v1/rooms"): MOD,
    ("GET", "/admin/v1/rooms/{room_id}"): MOD,
    ("GET", "/admin/v1/rooms/{room_id}/mutes"): MOD,
    ("GET", "/admin/v1/class-requests"): MOD,
    ("POST", "/admin/v1/class-requests/{request_id}"): MOD,
    ("GET", "/admin/v1/keywords"): MOD,
    ("GET", "/admin/v1/keywords/{category}"): MOD,
    ("PUT", "/admin/v1/keywords/{category}"): MOD,
    ("DELETE", "/admin/v1/keywords/{category}"): MOD,
    ("POST", "/admin/v1/keywords/{category}/import"): MOD,
    ("GET", "/admin/v1/media"): MOD,
    ("GET", "/admin/v1/media/{category}"): MOD,
    ("PUT", "/admin/v1/media/{category}"): MOD,
    ("DELETE", "/admin/v1/media/{category}"): MOD,
    ("GET", "/admin/v1/links"): MOD,
    ("GET", "/admin/v1/links/{category}"): MOD,
    ("PUT", "/admin/v1/links/{category}"): MOD,
    ("DELETE", "/admin/v1/links/{category}"): MOD,
    ("POST", "/admin/v1/content/test"): MOD,
    ("GET", "/admin/v1/content/hits"): MOD,
    ("GET", "/admin/v1/complaints"): MOD,
    ("GET", "/admin/v1/complaints/{case_id}"): MOD,
    ("POST", "/admin/v1/complaints/{case_id}/assign"): MOD,
    ("POST", "/admin/v1/complaints/{case_id}/decision"): MOD,
    ("POST", "/admin/v1/complaints/{case_id}/close"): MOD,
    ("POST", "/admin/v1/rooms/{room_id}/class"): MOD,
    ("GET", "/admin/v1/adoption"): AUD,
}

#: Path parameters that name nothing, so an allowed call changes nothing
#: (404, or 400 for the empty body each call sends).
_DUMMIES = {
    "user_id": "@nobody_here:{server}",
    "room_id": "!nothing:{server}",
    "submission_id": "999999",
    "request_id": "999999",
    "sanction_id": "S999999",
    "entry_id": "B999999",
    "category": "no_such_category",
    "case_id": "C999999",
}


def admin_routes() -> list[tuple[str, str, str]]:
    routes = all_routes(cast(Services, object()))
    return [
        (r.method, r.path, r.access.value) for r in routes if isinstance(r.access, Role)
    ]


def test_every_admin_route_is_in_the_table() -> None:
    """G7: each admin route names its role, and the table above is the
    whole list: a new route or a changed role shows here first."""
    declared = {(m, p): role for m, p, role in admin_routes()}
    assert declared == EXPECTED


def concrete(path: str, server: str) -> str:
    def fill(match: re.Match[str]) -> str:
        value = _DUMMIES[match.group(1)].format(server=server)
        return urllib.parse.quote(value, safe="")

    return PREFIX + re.sub(r"\{(\w+)\}", fill, path)


#: The callers of the roles server: one per role, and a server admin with none.
CALLERS = (OWN, IDO, AUD, MOD)


@pytest.fixture(scope="module")
def roles_hs(homeservers: HomeserverFactory) -> Iterator[Homeserver]:
    hs = homeservers(None, start=False)
    server = hs.server_name
    hs.module_config = cn_config(
        hs.dir,
        roles={role: [f"@{role}:{server}"] for role in CALLERS},
        complaints={"enabled": True},
    )
    hs.write_config()
    hs.start()
    yield hs


@pytest.fixture(scope="module")
def callers(roles_hs: Homeserver) -> dict[str, User]:
    users = {role: roles_hs.register(role) for role in CALLERS}
    users["server_admin"] = roles_hs.register("root", admin=True)
    return users


async def _call(hs: Homeserver, user: User, method: str, path: str) -> tuple[int, Any]:
    body: dict[str, Any] | None = None if method in ("GET", "DELETE") else {}
    return await Http(hs, user.access_token).request(method, path, body)


def allowed(status: int, body: Any) -> bool:
    refused = (
        status == 403
        and isinstance(body, dict)
        and (body.get(REASON_FIELD) == "ROLE_REQUIRED")
    )
    return status != 401 and not refused


async def test_each_role_reaches_its_routes_only(
    roles_hs: Homeserver, callers: dict[str, User]
) -> None:
    """G7: every admin route, tried by each role's holder and by a server
    admin who holds no role. Allowed where the route's role or owner is
    held; otherwise 403 M_FORBIDDEN, `ROLE_REQUIRED`, `role` naming the
    route's role and a message saying so."""
    failures: list[str] = []
    for method, path, role in admin_routes():
        url = concrete(path, roles_hs.server_name)
        for caller, user in callers.items():
            status, body = await _call(roles_hs, user, method, url)
            should = caller in (role, OWN)
            if should and not allowed(status, body):
                failures.append(f"{caller} refused {method} {path}: {status} {body}")
            if not should:
                ok = (
                    status == 403
                    and body.get("errcode") == "M_FORBIDDEN"
                    and body.get(REASON_FIELD) == "ROLE_REQUIRED"
                    and body.get("role") == role
                    and role in body.get("error", "")
                )
                if not ok:
                    failures.append(f"{caller} got {method} {path}: {status} {body}")
    assert failures == []


async def test_me_tells_each_caller_their_roles(
    roles_hs: Homeserver, callers: dict[str, User]
) -> None:
    """G7: /admin/v1/me answers any signed-in user with their roles, so
    the console offers only what those allow; a server admin without a
    role holds none once roles are configured."""
    for caller, user in callers.items():
        status, body = await Http(roles_hs, user.access_token).get(f"{ADMIN}/me")
        assert status == 200, body
        expected = [] if caller == "server_admin" else [caller]
        assert body["roles"] == expected and body["roles_configured"] is True
    status, _ = await Http(roles_hs).get(f"{ADMIN}/me")
    assert status == 401


async def _audit(
    hs: Homeserver, token: str, action: str, actor: str = ""
) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode(
        {"action": action, "limit": 1000, **({"actor": actor} if actor else {})}
    )
    status, body = await Http(hs, token).get(f"{ADMIN}/audit?{query}")
    assert status == 200, body
    return list(body["entries"])


async def _eventually(check: Any, timeout: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.2)


async def test_grants_and_changes_are_audited(
    roles_hs: Homeserver, callers: dict[str, User]
) -> None:
    """G7: the first start with roles audits each grant; an owner sees who
    holds which role; after `roles:` changes and a restart, the revocation
    and the new grant are audited, and the revoked holder is refused."""
    owner = callers[OWN].access_token
    server = roles_hs.server_name

    async def grants() -> list[dict[str, Any]]:
        return await _audit(roles_hs, owner, "role.grant")

    granted = await _eventually(lambda: _has(grants, 4))
    assert {(e["target"], e["details"]["role"]) for e in granted} == {
        (f"@{role}:{server}", role) for role in CALLERS
    }
    status, roles = await Http(roles_hs, owner).get(f"{ADMIN}/roles")
    assert status == 200 and roles["configured"] is True
    assert [h["user_id"] for h in roles["holders"][AUD]] == [f"@{AUD}:{server}"]

    config = dict(roles_hs.module_config or {})
    config["roles"] = {
        OWN: [f"@{OWN}:{server}"],
        IDO: [f"@{IDO}:{server}", f"@{MOD}:{server}"],
        AUD: [],
        MOD: [f"@{MOD}:{server}"],
    }
    roles_hs.module_config = config
    roles_hs.write_config()
    roles_hs.restart()

    revoked = await _eventually(lambda: _audit(roles_hs, owner, "role.revoke"))
    assert [(e["target"], e["details"]["role"]) for e in revoked] == [
        (f"@{AUD}:{server}", AUD)
    ]
    new = [e for e in await grants() if e["details"]["role"] == IDO]
    assert (f"@{MOD}:{server}") in {e["target"] for e in new}
    status, body = await Http(roles_hs, callers[AUD].access_token).get(f"{ADMIN}/audit")
    assert (status, body[REASON_FIELD], body["role"]) == (403, "ROLE_REQUIRED", AUD)
    status, _ = await Http(roles_hs, callers[MOD].access_token).get(
        f"{ADMIN}/identities/pending"
    )
    assert status == 200


async def _has(fetch: Any, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await fetch()
    return found if len(found) >= count else []


async def test_a_holders_overstep_is_audited(
    roles_hs: Homeserver, callers: dict[str, User]
) -> None:
    """G7: a role holder refused a route beyond their role leaves an audit
    entry naming the role; a user with no role is only refused."""
    moderator = callers[MOD]
    status, _ = await Http(roles_hs, moderator.access_token).get(f"{ADMIN}/export")
    assert status == 403
    mine = await _audit(
        roles_hs, callers[OWN].access_token, "role.refused", moderator.user_id
    )
    assert mine and mine[-1]["details"] == {"role": AUD, "method": "GET"}
    assert mine[-1]["target"].endswith("/admin/v1/export")


@pytest.fixture(scope="module")
def plain_hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


async def test_without_roles_server_admins_hold_every_role(
    plain_hs: Homeserver,
) -> None:
    """G7: with no `roles` section a server admin passes every admin
    route's role check (today's behaviour) and any other user is refused
    with ROLE_REQUIRED, saying only server admins hold roles then."""
    admin, user = plain_hs.register(admin=True), plain_hs.register()
    failures: list[str] = []
    for method, path, role in admin_routes():
        url = concrete(path, plain_hs.server_name)
        status, body = await _call(plain_hs, admin, method, url)
        if not allowed(status, body):
            failures.append(f"admin refused {method} {path}: {status} {body}")
        status, body = await _call(plain_hs, user, method, url)
        if (status, body.get(REASON_FIELD), body.get("role")) != (
            403,
            "ROLE_REQUIRED",
            role,
        ) or "not a server admin" not in body.get("error", ""):
            failures.append(f"user got {method} {path}: {status} {body}")
    assert failures == []
    _, me = await Http(plain_hs, admin.access_token).get(f"{ADMIN}/me")
    assert me["roles"] == sorted(CALLERS) and me["roles_configured"] is False
