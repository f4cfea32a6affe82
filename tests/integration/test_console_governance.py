"""The console an operator lives in (G2, G7, A6, F1), in headless Chromium
on a real homeserver with a real OpenID Connect provider on loopback.

Single sign-on: the console offers Synapse's SSO beside the password; the
owner signs in through the IdP (Synapse's redirect with the console as the
target, then m.login.token). Each person sees the views their roles allow.
A moderator reads a user's page (level, credit and history, sanctions,
complaints, blacklist), the registry by name and user, the lists; an
auditor the audit log with its verdict, signs a checkpoint and downloads an
export; an identity officer asks for a reveal, the owner approves it in
their own browser, the officer reads it once. Screenshots of every view at
1280 and 390 px land in tests/artefacts/."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.browser import CHROMIUM, SKIP_REASON
from tests.harness.client import Http
from tests.harness.homeserver import Homeserver, User
from tests.harness.identity import ADMIN, CLIENT, cn_config, resident_id, verify
from tests.harness.sso import IDP_ID, IDP_NAME, IdentityProvider, running_idp
from tests.integration.conftest import HomeserverFactory
from tests.integration.console import Console, console_page
from tests.integration.groups import invite, join, new_room

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)

SUBJECT_NAME = "林小雨"
SUBJECT_NUMBER = resident_id(921, born="19950214")


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityProvider]:
    with running_idp(tmp_path_factory.mktemp("idp")) as provider:
        yield provider


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory, idp: IdentityProvider) -> Homeserver:
    server = homeservers(None, idp.synapse_config(), start=False)
    name = server.server_name
    server.module_config = cn_config(
        server.dir,
        roles={
            # chief signs in only through the IdP: the account is made then.
            "owner": [f"@chief:{name}"],
            "identity_officer": [f"@officer:{name}"],
            "moderator": [f"@mod:{name}"],
            "auditor": [f"@aud:{name}"],
        },
        audit={"checkpoints": {"file": str(server.dir / "checkpoints.jsonl")}},
    )
    server.write_config()
    return server.start()


@pytest.fixture(scope="module")
def staff(hs: Homeserver) -> dict[str, User]:
    return {name: hs.register(name) for name in ("officer", "mod", "aud")}


@pytest.fixture(scope="module")
async def scene(hs: Homeserver, staff: dict[str, User]) -> dict[str, Any]:
    """A verified user with a sanction, a complaint and a blacklist entry;
    a named group they are in; a keyword list."""
    officer, mod = staff["officer"], staff["mod"]
    subject, creator = hs.register("xiaoyu"), hs.register("creator")
    for user, number, name in (
        (subject, SUBJECT_NUMBER, SUBJECT_NAME),
        (creator, resident_id(922), "周大山"),
    ):
        status, body = await verify(hs, officer, user, number, name=name)
        assert status == 200, body
    room_id = await new_room(hs, creator, name="周末读书会", preset="public_chat")
    status, body = await join(hs, subject, room_id)
    assert status == 200, body
    status, body = await invite(hs, creator, room_id, mod.user_id)
    http = Http(hs, mod.access_token)
    quoted = urllib.parse.quote(subject.user_id)
    status, sanction = await http.post(
        f"{ADMIN}/users/{quoted}/sanctions",
        {"action": "lower_credit", "amount": 15, "reason": "多次发布广告"},
    )
    assert status == 200, sanction
    status, entry = await http.post(
        f"{ADMIN}/blacklist",
        {
            "kind": "user",
            "target": subject.user_id,
            "reason": "冒充客服",
            "expires_in": "30d",
        },
    )
    assert status == 200, entry
    status, case = await Http(hs, creator.access_token).post(
        f"{CLIENT}/complaints",
        {
            "target_type": "user",
            "target": subject.user_id,
            "category": "harassment",
            "description": "私信骚扰",
        },
    )
    assert status == 200, case
    status, body = await http.put(
        f"{ADMIN}/keywords/gambling",
        {"action": "block", "credit_penalty": 10, "words": ["网上赌场", "百家乐"]},
    )
    assert status == 200, body
    return {
        "subject": subject,
        "room_id": room_id,
        "sanction": sanction["sanction_id"],
        "entry": entry["entry_id"],
        "case": case["case_id"],
    }


async def sso_sign_in(console: Console, subject: str, shot: str | None = None) -> None:
    """What a person does: the IdP's button, the IdP's form, Synapse's
    confirmation that the console may act for them, back to the console."""
    page = console.page
    button = page.locator(f'#sign-in-sso a[data-idp="oidc-{IDP_ID}"]')
    await button.wait_for()
    assert IDP_NAME in await button.inner_text()
    if shot:
        await console.shots(shot)
    await button.click()
    await page.locator("input[name=sub]").fill(subject)
    await page.click("button:text-is('Authorize')")
    await page.locator("text=Continue to your account").wait_for()
    await page.click(":text-is('Continue')")
    try:
        await page.locator("#views:not([hidden])").wait_for(timeout=15000)
    except Exception:
        # Where the flow stopped (IdP, Synapse's page or the console).
        print("SSO stopped at", page.url, await page.inner_text("body"))
        raise


async def nav_views(console: Console) -> list[str]:
    found: list[str] = await console.page.eval_on_selector_all(
        "#views a", "links => links.map(a => a.dataset.view)"
    )
    return found


async def test_owner_signs_in_with_sso(hs: Homeserver, staff: dict[str, User]) -> None:
    """G2: where Synapse offers SSO the console offers it, beside the
    password form where Synapse accepts passwords. The owner signs in at
    the IdP; the login token is taken out of the address bar, the session
    lives in sessionStorage only, and the owner sees every view."""
    async with console_page(hs, locale="en-GB") as console:
        page = console.page
        await page.select_option("#language-switch", "en")
        await page.locator("#sign-in-user").wait_for()
        await sso_sign_in(console, "chief", shot="console-sso-sign-in")
        assert "loginToken" not in page.url
        stored: Any = await page.evaluate(
            "() => JSON.parse(sessionStorage.getItem('groupreg.console.session'))"
        )
        assert stored["user_id"] == f"@chief:{hs.server_name}"
        assert await page.evaluate("() => localStorage.length") == 0
        assert await nav_views(console) == [
            "complaints", "identities", "reveals", "rooms", "users", "lists", "audit",
            "adoption",
        ]  # fmt: skip
        assert "owner" in await page.inner_text("#signed-in-as")
        await console.shots("console-sso-signed-in")
        assert console.problems == []
    status, me = await Http(hs, str(stored["access_token"])).get(f"{ADMIN}/me")
    assert status == 200 and me["roles"] == ["owner"]


async def test_moderator_reads_a_user_and_the_registry(
    hs: Homeserver, staff: dict[str, User], scene: dict[str, Any]
) -> None:
    """G2, G7: a moderator sees the moderator's views only; a user's page
    shows the identity level (not the identity), credit and its history,
    the sanction, the complaint and the blacklist entry. The registry shows
    room names, finds a group by part of its name and by a member, and
    hides the notice bot's rooms unless asked."""
    subject: User = scene["subject"]
    async with console_page(hs) as console:
        page = console.page
        await console.sign_in(staff["mod"])
        assert await nav_views(console) == ["complaints", "rooms", "users", "lists"]
        await page.click("#nav-users")
        await page.fill("#user-search", subject.user_id)
        await page.click("#user-form button[type=submit]")
        await page.locator("#user-detail-id").wait_for()
        text = await page.inner_text("main")
        assert "证件实名" in await page.inner_text("#user-level")
        assert "85" in await page.inner_text("#user-credit")
        for expected in (
            scene["sanction"],
            "多次发布广告",
            scene["case"],
            scene["entry"],
            "冒充客服",
        ):
            assert expected in text, expected
        assert SUBJECT_NAME not in text and "#identity-show" not in text
        assert await page.locator("#identity-show").count() == 0
        await console.shots("console-user")

        await page.click("#nav-rooms")
        await page.fill("#room-code", "读书")
        await page.click("#room-search button[type=submit]")
        listed = page.locator("#room-list")
        await listed.locator("text=周末读书会").wait_for()
        await page.fill("#room-code", "")
        await page.fill("#room-user", subject.user_id)
        await page.click("#room-search button[type=submit]")
        await listed.locator("text=周末读书会").wait_for()
        await page.fill("#room-user", "")
        await page.click("#room-search button[type=submit]")
        await listed.locator("text=周末读书会").wait_for()
        rows_default = await listed.locator("tbody tr").count()
        await page.check("#room-all")
        await page.click("#room-search button[type=submit]")
        await page.wait_for_function(
            "n => document.querySelectorAll('#room-list tbody tr').length > n",
            arg=rows_default,
        )
        await page.uncheck("#room-all")
        await page.click("#room-search button[type=submit]")
        await page.wait_for_function(
            "n => document.querySelectorAll('#room-list tbody tr').length === n",
            arg=rows_default,
        )
        await console.shots("console-registry")

        await page.click("#nav-lists")
        await page.locator(f"#blacklist-list :text('{scene['entry']}')").wait_for()
        await page.click('#keyword-lists button[data-category="gambling"]')
        await page.locator("#keyword-detail :text('百家乐')").wait_for()
        await console.shots("console-lists")
        assert console.problems == []
    _, bot_rooms = await Http(hs, staff["mod"].access_token).get(
        f"{ADMIN}/rooms?all=true&limit=1000"
    )
    bot = f"@groupreg:{hs.server_name}"
    assert any(r["creator"] == bot for r in bot_rooms["rooms"])
    _, default = await Http(hs, staff["mod"].access_token).get(
        f"{ADMIN}/rooms?limit=1000"
    )
    assert all(r["creator"] != bot and r["class"] != "direct" for r in default["rooms"])
    assert any(r["name"] == "周末读书会" for r in default["rooms"])


async def test_auditor_verifies_and_exports(
    hs: Homeserver, staff: dict[str, User], scene: dict[str, Any], tmp_path: Path
) -> None:
    """F1, F3, G7: the auditor sees the audit view only: the verdict of
    /audit/verify, a checkpoint signed on request, the entries, and a
    signed export downloaded through the browser."""
    async with console_page(hs, locale="en-GB") as console:
        page = console.page
        await page.select_option("#language-switch", "en")
        await console.sign_in(staff["aud"])
        assert await nav_views(console) == ["audit", "adoption"]
        await page.locator("#audit-ok").wait_for()
        assert "Verified" in await page.inner_text("#audit-ok")
        await page.click("#checkpoint-form button")
        await page.locator("#audit-verdict :text('Last checkpoint')").wait_for()
        await page.locator("#audit-list tbody tr").first.wait_for()
        async with page.expect_download() as info:
            await page.click("#export-submit")
        download = await info.value
        saved = tmp_path / "export.jsonl"
        await download.save_as(str(saved))
        lines = [json.loads(line) for line in saved.read_text().splitlines()]
        assert lines[0]["type"] == "header" and lines[-1]["type"] == "signature"
        await console.shots("console-audit")
        assert console.problems == []


async def test_reveal_with_four_eyes_in_the_console(
    hs: Homeserver, staff: dict[str, User], scene: dict[str, Any]
) -> None:
    """A6, G7: the identity officer asks, with a reason; the owner (in their
    own browser, signed in through SSO) approves; the officer reads the
    plaintext once, and then it is gone."""
    subject: User = scene["subject"]
    async with console_page(hs) as officer:
        page = officer.page
        await officer.sign_in(staff["officer"])
        await page.click("#nav-reveals")
        await page.fill("#reveal-user", subject.user_id)
        await page.fill("#reveal-reason", "公安协查 2026-31")
        await page.click("#reveal-submit")
        await page.locator("#reveal-form .success").wait_for()
        async with console_page(hs) as owner:
            await sso_sign_in(owner, "chief")
            await owner.page.click("#nav-reveals")
            row = owner.page.locator("#reveals-waiting tr", has_text="公安协查 2026-31")
            await row.locator("button.approve").click()
            await owner.page.locator("#reveals-mine").wait_for()
            await owner.page.wait_for_function(
                "() => !document.querySelector('#reveals-waiting button.approve')"
            )
            assert owner.problems == []
        await page.reload()
        await page.click("#nav-reveals")
        mine = page.locator("#reveals-mine tr", has_text="公安协查 2026-31")
        await mine.locator("button.read").click()
        plaintext = page.locator("#reveal-plaintext")
        await plaintext.wait_for()
        text = await plaintext.inner_text()
        assert SUBJECT_NAME in text and SUBJECT_NUMBER in text
        await officer.shots("console-reveals")
        await page.reload()
        await page.click("#nav-reveals")
        await page.locator("#reveals-mine :text('已查看')").wait_for()
        assert await page.locator("#reveals-mine button.read").count() == 0
        assert officer.problems == []


async def test_sso_only_server(
    homeservers: HomeserverFactory, idp: IdentityProvider
) -> None:
    """G2: with password login switched off in Synapse the console offers
    single sign-on only."""
    server = homeservers({"profile": "generic"}, idp.synapse_config(password=False))
    async with console_page(server) as console:
        await console.page.locator("#sign-in-sso a").wait_for()
        assert await console.page.locator("#sign-in-user").count() == 0
        assert console.problems == []
