"""The web console (G2) on a real homeserver, driven in headless Chromium:
an admin signs in with Synapse's own login, reviews a pending identity
submission (A3), finds a group by its registration code (B4, B6), sees
its mutes (B8) and warns it (D2), and works an overdue complaint from the
queue to a decision and its close (E2, E3); a non-admin is told they are
not an admin; the page and its files are served with strict headers.
Screenshots land in tests/artefacts/."""

from __future__ import annotations

import urllib.parse
from typing import Any

import aiohttp
import nio
import pytest

from tests.harness.browser import CHROMIUM, SKIP_REASON
from tests.harness.client import Http, clients
from tests.harness.complaints import wait_for_cases
from tests.harness.homeserver import Homeserver, User
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
from tests.integration.console import CONSOLE, console_page
from tests.integration.groups import new_room

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)


#: One complaint category with deadlines short enough to be missed in a test.
COMPLAINTS = {
    "poll_interval": "200ms",
    "categories": {
        "violence_terror": {"acknowledge": "1s", "decide": "2s"},
        "harassment": {},
        "other": {},
    },
}


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    # cn: Chinese by default, real-name on, self-service without a provider,
    # so every submission waits for a person.
    return start(homeservers, lambda folder: cn_config(folder, complaints=COMPLAINTS))


async def _pending_submission(hs: Homeserver, admin: User, user: User) -> int:
    """What a user does: be refused, open the bot's link, submit the form;
    with no provider it waits for review. Returns the submission id."""
    async with clients(hs, user) as (client,):
        refused = await client.room_create()
        assert isinstance(refused, nio.ErrorResponse), refused
        _, notices = await bot_messages(client, f"@groupreg:{hs.server_name}")
    status, page, token = await open_link(hs, link_in(notices[0]))
    assert status == 200 and token is not None, page
    form = {
        "step": "submit",
        "token": token,
        "consent": "yes",
        "name": "王芳",
        "document_type": "resident_id",
        "document_number": resident_id(301, born="19850505"),
    }
    status, page = await Http(hs).post(
        f"{CLIENT}/verify",
        data=urllib.parse.urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 202, page
    _, queue = await Http(hs, admin.access_token).get(f"{ADMIN}/identities/pending")
    return int(
        next(s["id"] for s in queue["submissions"] if s["user_id"] == user.user_id)
    )


async def _registered_room(hs: Homeserver, admin: User) -> tuple[str, str]:
    """A verified creator's group: (room id, registration code)."""
    creator = hs.register()
    status, body = await verify(hs, admin, creator, resident_id(302))
    assert status == 200, body
    room_id = await new_room(hs, creator, name="读书会")
    _, room = await Http(hs, admin.access_token).get(
        f"{ADMIN}/rooms/{urllib.parse.quote(room_id)}"
    )
    return room_id, str(room["code"])


async def _headers(hs: Homeserver, path: str) -> tuple[int, dict[str, str], str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(hs.base_url + path, allow_redirects=False) as response,
    ):
        return response.status, dict(response.headers), await response.text()


async def test_page_and_files_have_strict_headers(hs: Homeserver) -> None:
    """G2: the page carries no data but the server's language (G3); it and
    its files are never cached, framed or referred, and the CSP allows only
    same-origin scripts, styles and requests, nothing inline. Only the
    console's own files are served."""
    status, headers, page = await _headers(hs, CONSOLE)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert 'data-language="zh-Hans"' in page
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
    ):
        assert directive in csp, (directive, csp)
    assert "unsafe" not in csp
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"

    for asset, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
        status, headers, _ = await _headers(hs, CONSOLE + asset)
        assert status == 200 and headers["Content-Type"].startswith(kind)
        assert headers["Content-Security-Policy"] == csp
    for missing in ("nope.js", "..%2Fverify.py", "%2e%2e%2Ftemplates%2Fconsole.html"):
        status, _, _ = await _headers(hs, CONSOLE + missing)
        assert status == 404, missing
    status, headers, _ = await _headers(hs, CONSOLE.rstrip("/"))
    assert (status, headers["Location"]) == (308, CONSOLE)


@needs_chromium
async def test_admin_reviews_identity_and_warns_a_group(hs: Homeserver) -> None:
    """G2 end to end: the admin signs in (token in sessionStorage only),
    sees the pending submission masked and approves it, after which the user
    is verified (A3); finds a group by its registration code (B4) and sees
    its registration and responsible admins (B6); a warning without reasons
    shows the API's error naming the field and keeps what was typed; then
    the warning is applied (D2). Closing asks for a confirmation first."""
    admin, user = hs.register(admin=True), hs.register()
    submission = await _pending_submission(hs, admin, user)
    room_id, code = await _registered_room(hs, admin)
    http = Http(hs, admin.access_token)
    # B8: a platform mute of everyone shows in the room's view.
    status, body = await http.post(
        f"{CLIENT}/rooms/{urllib.parse.quote(room_id, safe='')}/mutes",
        {"all": True, "duration": "1h", "reason": "整顿"},
    )
    assert status == 200, body

    async with console_page(hs) as console:
        await console.sign_in(admin, "console-sign-in.png")
        page = console.page
        assert await page.inner_text("#title") == "群组管理控制台"
        stored = await page.evaluate(
            "() => [Object.keys(sessionStorage), localStorage.length]"
        )
        assert stored == [["groupreg.console.session"], 0]

        await page.select_option("#language-switch", "en")
        assert await page.inner_text("#nav-rooms") == "Room registry"

        await page.click("#nav-identities")
        row = page.locator(f'form[data-submission="{submission}"]').first
        await row.wait_for()
        listed = await page.inner_text("#pending-list")
        assert "王*" in listed and "********" in listed and "19850505" not in listed
        await console.shot("console-identities.png")
        await row.locator("button.approve").click()
        await page.locator(f'form[data-submission="{submission}"] .success').wait_for()
        _, view = await http.get(
            f"{ADMIN}/identities/{urllib.parse.quote(user.user_id)}"
        )
        assert (view["level"], view["method"]) == ("id", "review")

        await page.click("#nav-rooms")
        await page.fill("#room-code", code.lower())
        await page.click("#room-search button[type=submit]")
        await page.click(f'#room-list a:text-is("{code}")')
        await page.locator("#room-detail-code").wait_for()
        assert await page.inner_text("#room-detail-code") == code
        detail = await page.inner_text("main")
        assert "读书会" in detail and "Creator" in detail
        mutes = await page.inner_text("#room-mutes")
        assert "Everyone" in mutes and "Platform" in mutes and "整顿" in mutes

        await page.fill("#sanction-deadline", "3d")
        await page.click("#sanction-apply")
        error = page.locator("#sanction-form .error")
        await error.wait_for()
        assert "reason" in await error.inner_text()
        assert await page.get_attribute("#sanction-reason", "aria-invalid") == "true"
        assert await page.input_value("#sanction-deadline") == "3d"

        await page.select_option("#sanction-action", "close")
        await page.click("#sanction-apply")
        await page.locator("#close-confirm").wait_for()
        assert code in await page.inner_text("#close-confirm")
        await page.click("#sanction-cancel")

        await page.select_option("#sanction-action", "warn")
        await page.fill("#sanction-reason", "群内发布广告，请整改")
        await page.click("#sanction-apply")
        notice = await page.locator("#room-notice").inner_text()
        await console.shot("console-room.png")
        assert "Applied S" in notice
        assert console.problems == []

    _, sanctions = await http.get(
        f"{ADMIN}/rooms/{urllib.parse.quote(room_id)}/sanctions"
    )
    applied = [(s["action"], s["reason"]) for s in sanctions["sanctions"]]
    assert applied == [("warn", "群内发布广告，请整改")]


@needs_chromium
async def test_non_admin_is_told_and_signed_out(hs: Homeserver) -> None:
    """G2, G7: a wrong password shows Synapse's own error and keeps the
    user name; a user who holds no role (no roles configured: not a server
    admin) is told so and their new session is ended, nothing left stored."""
    user = hs.register()
    async with console_page(hs) as console:
        page = console.page
        await page.fill("#sign-in-user", user.localpart)
        await page.fill("#sign-in-password", "not-the-password")
        await page.click("#sign-in-submit")
        error = page.locator("#sign-in .error")
        await error.wait_for()
        assert "M_FORBIDDEN" in await error.inner_text()
        assert await page.input_value("#sign-in-user") == user.localpart

        await console.sign_in(user, wait_for="#not-admin")
        text = await page.inner_text("#not-admin")
        assert user.user_id in text and "不是本服务器的管理员" in text
        await console.shot("console-not-admin.png")
        assert await page.evaluate("() => sessionStorage.length") == 0
        assert await page.is_hidden("#views")
        assert console.problems == []
    devices = await Http(hs, user.access_token).get("/_matrix/client/v3/devices")
    names = [d.get("display_name") for d in devices[1]["devices"]]
    assert "groupreg console" not in names


@needs_chromium
async def test_sign_out_ends_the_session(hs: Homeserver) -> None:
    """G2: signing out calls /logout, so the token the tab held is dead."""
    admin = hs.register(admin=True)
    async with console_page(hs) as console:
        await console.sign_in(admin)
        session = "sessionStorage.getItem('groupreg.console.session')"
        token: Any = await console.page.evaluate(
            f"() => JSON.parse({session}).access_token"
        )
        await console.page.click("#sign-out")
        await console.page.locator("#sign-in").wait_for()
        assert await console.page.evaluate(f"() => {session}") is None
    status, _ = await Http(hs, str(token)).get(f"{ADMIN}/rooms")
    assert status == 401


async def _overdue_case(hs: Homeserver, admin: User, room_id: str) -> str:
    """A user's complaint about the group, in a category whose deadlines
    pass within seconds; returns its case id once the queue lists it overdue."""
    reporter = hs.register()
    status, opened = await Http(hs, reporter.access_token).post(
        f"{CLIENT}/complaints",
        {
            "target_type": "room",
            "target": room_id,
            "category": "violence_terror",
            "description": "群里有人发布暴力视频",
        },
    )
    assert status == 200, opened
    case_id = str(opened["case_id"])
    overdue = await wait_for_cases(
        Http(hs, admin.access_token),
        "overdue=true",
        lambda cases: any(c["case_id"] == case_id for c in cases),
    )
    assert any(c["case_id"] == case_id for c in overdue)
    return case_id


@needs_chromium
async def test_admin_works_a_complaint_to_a_decision(hs: Homeserver) -> None:
    """E2 in the console: the queue filtered to overdue cases shows the case
    with its category, target, reporters, deadlines and overdue flag; the
    admin opens it and takes it (triaged); a decision without a note, then
    one whose sanction has a bad duration, show the API's errors naming
    `note` and `sanctions[0].duration` and mark those fields; the decision
    with a warning (E3, D2) is recorded and the group warned; then the case
    is closed."""
    admin = hs.register(admin=True)
    room_id, code = await _registered_room(hs, admin)
    case_id = await _overdue_case(hs, admin, room_id)
    http = Http(hs, admin.access_token)

    async with console_page(hs) as console:
        page = console.page
        await console.sign_in(admin)
        await page.locator("#case-filters").wait_for()
        await page.select_option("#case-overdue", "true")
        await page.click("#case-filters button[type=submit]")
        row = page.locator("#case-list tr", has=page.locator(f'a:text-is("{case_id}")'))
        await row.wait_for()
        cells = await row.locator("td").all_inner_texts()
        assert cells[1:6] == ["投诉", "已接收", "暴力恐怖", f"群组 {room_id}", "1"]
        assert cells[8].startswith("已逾期：受理")
        await console.shot("console-complaints.png")

        await row.locator("a").click()
        await page.locator("#assign-form").wait_for()
        assert code in await page.inner_text("main")
        await page.click("#assign-submit")
        notice = page.locator("#case-notice")
        await notice.wait_for()
        assert admin.user_id in await notice.inner_text()
        assert "已分派" in await page.inner_text("h2")

        await page.click("#decision-submit")
        error = page.locator("#decision-form .error")
        await error.wait_for()
        assert "note" in await error.inner_text()
        assert await page.get_attribute("#decision-note", "aria-invalid") == "true"

        await page.fill("#decision-note", "视频违反平台公约，群主须整改")
        await page.check("#decision-add-sanction")
        await page.select_option("#decision-sanction-action", "suspend_posting")
        await page.fill("#decision-sanction-duration", "soon")
        await page.click("#decision-submit")
        await page.locator("#decision-form .error:has-text('duration')").wait_for()
        duration = "#decision-sanction-duration"
        assert await page.get_attribute(duration, "aria-invalid") == "true"
        assert (
            await page.input_value("#decision-note") == "视频违反平台公约，群主须整改"
        )

        await page.select_option("#decision-sanction-action", "warn")
        await page.fill(duration, "")
        await page.fill("#decision-sanction-deadline", "3d")
        await page.click("#decision-submit")
        await page.locator("#close-form").wait_for()
        assert "已作出决定" in await page.inner_text("#case-notice")
        await console.shot("console-case.png")

        await page.click("#close-submit")
        await page.locator("#case-notice:has-text('已结案')").wait_for()
        assert console.problems == []

    _, case = await http.get(f"{ADMIN}/complaints/{case_id}")
    assert (case["status"], case["outcome"]) == ("closed", "violation")
    assert [(s["action"], s["target"]) for s in case["sanctions"]] == [
        ("warn", room_id)
    ]
    _, sanctions = await http.get(
        f"{ADMIN}/rooms/{urllib.parse.quote(room_id)}/sanctions"
    )
    assert [s["action"] for s in sanctions["sanctions"]] == ["warn"]
