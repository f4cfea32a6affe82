"""Self-service verification in a real Synapse with a real HTTP provider
(A3 b): the bot's one-time link, the page, the provider's verdicts, a
provider that times out or answers garbage, manual review, and the whole
flow in headless Chromium."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import nio
import pytest

from tests.harness.browser import ARTEFACTS, BROWSER_ARGS, CHROMIUM, SKIP_REASON
from tests.harness.client import Http, clients
from tests.harness.homeserver import Homeserver, User
from tests.harness.identity import (
    ADMIN,
    FORM,
    bot_messages,
    cn_config,
    link_in,
    link_token,
    open_link,
    post_form,
    resident_id,
    start,
)
from tests.harness.provider import Provider, running_provider
from tests.integration.conftest import HomeserverFactory


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[Provider]:
    async with running_provider() as p:
        yield p


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory, provider: Provider) -> Homeserver:
    def config(folder: Path) -> dict[str, object]:
        return cn_config(
            folder,
            identity={
                "self_service": {
                    "link_lifetime": "1h",
                    "max_attempts": 3,
                    "provider": {
                        "url": provider.url,
                        "secret": provider.secret,
                        "timeout": "1s",
                    },
                }
            },
        )

    return start(homeservers, config)


async def _link_for(hs: Homeserver, user: User) -> str:
    """Be refused once, then read the link from the bot's direct message."""
    async with clients(hs, user) as (client,):
        refused = await client.room_create()
        assert isinstance(refused, nio.ErrorResponse), refused
        _, notices = await bot_messages(client, f"@groupreg:{hs.server_name}")
    return link_in(notices[0])


def _path_of(link: str) -> str:
    """What the browser requests: the path, never the fragment."""
    return urllib.parse.urlsplit(link).path


async def _opened(hs: Homeserver, link: str) -> str:
    """Open the link as the page does; the form's token."""
    status, page, token = await open_link(hs, link)
    assert status == 200 and token is not None, page
    return token


async def _submit(hs: Homeserver, token: str, **fields: str) -> tuple[int, str]:
    form = {"step": "submit", "token": token, "consent": "yes", "lang": "en"}
    return await post_form(hs, {**form, **fields})


async def _can_post(hs: Homeserver, user: User) -> bool:
    async with clients(hs, user) as (client,):
        room = await client.room_create()
        if not isinstance(room, nio.RoomCreateResponse):
            return False
        sent = await client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "verified"}
        )
        return isinstance(sent, nio.RoomSendResponse)


async def test_provider_match_verifies_after_corrections(
    hs: Homeserver, provider: Provider
) -> None:
    """A3 b: the page refuses a missing consent and a mistyped number
    (naming the problem); the provider's mismatch lets the user try again on
    the same link; its match verifies the user, who can then post; the link
    is then spent. The provider saw only signed requests."""
    provider.mode = "ok"
    user = hs.register()
    number = resident_id(101, born="19880808")
    provider.people.add(("陈小明", "resident_id", number))
    link = await _link_for(hs, user)
    assert "?" not in link and "#token=" in link

    status, page = await Http(hs).get(_path_of(link))
    assert status == 200 and 'name="step" value="open"' in page
    headers = await _headers(hs, _path_of(link))
    assert "no-store" in headers.get("Cache-Control", "")
    assert "script-src 'nonce-" in headers["Content-Security-Policy"]
    link_page_token = link_token(link)
    assert link_page_token not in page
    status, page, token = await open_link(hs, link)
    assert status == 200 and 'name="document_number"' in page, page
    assert token is not None and token != link_page_token
    # Opening spent the link: a second opening (someone with the link) fails.
    status, page, _ = await open_link(hs, link)
    assert status == 404 and "not valid" in page
    link = token

    fields = {"name": "陈小明", "document_type": "resident_id"}
    status, page = await _submit(hs, link, document_number=number, consent="", **fields)
    assert status == 400 and "consent" in page
    status, page = await _submit(hs, link, document_number=number[:-1] + "0", **fields)
    assert status == 400 and "check character" in page
    status, page = await _submit(
        hs, link, document_number=number, name="陈大明", document_type="resident_id"
    )
    assert status == 400 and "did not match" in page
    assert not await _can_post(hs, user)

    status, page = await _submit(hs, link, document_number=number, **fields)
    assert status == 200 and 'data-outcome="verified"' in page
    assert await _can_post(hs, user)
    status, page = await _submit(hs, link, document_number=number, **fields)
    assert status == 410 and "already been used" in page
    assert provider.bad_signatures == 0


async def _headers(hs: Homeserver, path: str) -> dict[str, str]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(hs.base_url + path) as response,
    ):
        return dict(response.headers)


@pytest.mark.parametrize(
    ("mode", "logged"),
    [
        ("slow", "did not answer within 1000 ms"),
        ("garbage", "the provider's answer is not JSON"),
    ],
)
async def test_provider_failure_queues_for_review(
    hs: Homeserver, provider: Provider, mode: str, logged: str
) -> None:
    """A3 b: a provider that times out or answers garbage loses nothing: the
    submission waits for manual review (masked in the queue), the cause is
    logged, and an admin's approval verifies the user, who is told so."""
    provider.mode = mode
    admin, user = hs.register(admin=True), hs.register()
    number = resident_id(110 + len(mode), born="19700101")
    link = await _opened(hs, await _link_for(hs, user))
    status, page = await _submit(
        hs, link, name="周杰", document_type="resident_id", document_number=number
    )
    assert status == 202 and 'data-outcome="review"' in page, page
    assert logged in hs.log_text()

    http = Http(hs, admin.access_token)
    _, queue = await http.get(f"{ADMIN}/identities/pending")
    mine = [s for s in queue["submissions"] if s["user_id"] == user.user_id]
    assert len(mine) == 1 and mine[0]["why"] == "provider_unavailable"
    assert mine[0]["masked_number"] == number[:6] + "********" + number[14:]
    assert mine[0]["masked_name"] == "周*"
    assert not await _can_post(hs, user)

    status, body = await http.post(
        f"{ADMIN}/identities/pending/{mine[0]['id']}/approve", {}
    )
    assert status == 200, body
    assert await _can_post(hs, user)
    _, view = await http.get(f"{ADMIN}/identities/{urllib.parse.quote(user.user_id)}")
    assert (view["method"], view["level"]) == ("review", "id")
    rows = hs.sql(
        "SELECT name_ct, number_ct FROM groupreg_identity_submissions WHERE id = ?",
        (mine[0]["id"],),
    )
    assert rows == [(None, None)]
    provider.mode = "ok"


async def test_passport_goes_to_review_and_can_be_rejected(
    hs: Homeserver, provider: Provider
) -> None:
    """A3 b, A4: a passport cannot be checked by number, so it always waits
    for a person; a rejection erases the submission and the bot tells the
    user why."""
    provider.mode = "ok"
    admin, user = hs.register(admin=True), hs.register()
    link = await _opened(hs, await _link_for(hs, user))
    requests = provider.requests
    status, page = await _submit(
        hs,
        link,
        name="John Smith",
        document_type="passport",
        document_number="K1234567",
    )
    assert status == 202, page
    assert provider.requests == requests
    http = Http(hs, admin.access_token)
    _, queue = await http.get(f"{ADMIN}/identities/pending")
    mine = next(s for s in queue["submissions"] if s["user_id"] == user.user_id)
    assert mine["why"] == "passport"
    status, body = await http.post(
        f"{ADMIN}/identities/pending/{mine['id']}/reject", {}
    )
    assert (status, body["field"]) == (400, "reason")
    status, _ = await http.post(
        f"{ADMIN}/identities/pending/{mine['id']}/reject",
        {"reason": "the scan was unreadable"},
    )
    assert status == 200
    async with clients(hs, user) as (client,):
        _, notices = await bot_messages(client, f"@groupreg:{hs.server_name}")
    assert "the scan was unreadable" in notices[0] or "unreadable" in "".join(notices)
    _, queue = await http.get(f"{ADMIN}/identities/pending")
    assert all(s["user_id"] != user.user_id for s in queue["submissions"])


async def test_unknown_link_is_refused(hs: Homeserver) -> None:
    """A3 b: a made-up token gets a page saying the link is not valid."""
    status, page = await post_form(
        hs, {"step": "open", "token": "made-up", "lang": "en"}
    )
    assert status == 404 and "not valid" in page
    status, page = await post_form(hs, {"step": "submit", "token": "made-up"})
    assert status in (400, 404), page


@pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)
async def test_self_service_in_a_browser(hs: Homeserver, provider: Provider) -> None:
    """A3 b end to end as a person does it: the link from the bot's DM opened
    in headless Chromium, the form filled in and consented, the provider's
    answer, and then the user can post. The form's screenshot is kept in
    tests/artefacts/."""
    from playwright.async_api import async_playwright

    provider.mode = "ok"
    user = hs.register()
    number = resident_id(120, born="19920315")
    provider.people.add(("林静", "resident_id", number))
    link = await _link_for(hs, user)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=BROWSER_ARGS
        )
        try:
            page = await browser.new_page(locale="zh-CN")
            response = await page.goto(link)
            assert response is not None and response.status == 200
            # The page posts the fragment's token and shows the form.
            await page.wait_for_selector("#name")
            assert "token" not in page.url, page.url
            await page.fill("#name", "林静")
            await page.select_option("#document_type", "resident_id")
            await page.fill("#document_number", number)
            await page.check("#consent")
            await page.screenshot(
                path=str(ARTEFACTS / "verify-form.png"), full_page=True
            )
            await page.click("#submit")
            await page.wait_for_selector("#outcome")
            outcome = await page.get_attribute("#outcome", "data-outcome")
            assert outcome == "verified", await page.content()
            assert re.search("验证成功", await page.inner_text("h1"))
        finally:
            await browser.close()
    assert await _can_post(hs, user)


async def test_no_token_or_identity_reaches_the_access_log(
    hs: Homeserver, provider: Provider
) -> None:
    """A5: through the whole flow (the link, the page, opening it, a
    mistake, the match) the homeserver's log, access lines included, holds
    neither token nor any identity field; fields in the query string are
    never read."""
    provider.mode = "ok"
    user = hs.register()
    name, number = "欧阳修远", resident_id(130, born="19770707")
    provider.people.add((name, "resident_id", number))
    link = await _link_for(hs, user)
    status, _ = await Http(hs).get(_path_of(link))
    assert status == 200
    token = await _opened(hs, link)
    # Identity fields in the query string are not read: no verification.
    query = urllib.parse.urlencode(
        {
            "step": "submit",
            "token": token,
            "consent": "yes",
            "name": name,
            "document_type": "resident_id",
            "document_number": number,
        }
    )
    status, page = await Http(hs).post(
        f"/_synapse/client/groupreg/v1/verify?{query}", data=b"", headers=FORM
    )
    assert status == 400 and 'data-outcome="verified"' not in str(page)
    assert not await _can_post(hs, user)
    fields = {"name": name, "document_type": "resident_id"}
    status, page = await _submit(hs, token, document_number=number[:-1] + "0", **fields)
    assert status == 400
    status, page = await _submit(hs, token, document_number=number, **fields)
    assert status == 200 and 'data-outcome="verified"' in page, page

    log = hs.log_text()
    access = [line for line in log.splitlines() if "synapse.access" in line]
    assert any("/v1/verify" in line for line in access)
    # The query-string probe above is the test's own doing: leave it out.
    log = "\n".join(line for line in log.splitlines() if "?step=submit" not in line)
    for secret in (link_token(link), token, name, number, number[:17]):
        assert secret not in log, secret
