"""Driving the web console (G2) in Debian's headless Chromium with
playwright: open the page, sign in as a person would, keep screenshots in
tests/artefacts/, and collect what the browser complained about (script
errors, Content-Security-Policy and Trusted Types violations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.harness.browser import ARTEFACTS, BROWSER_ARGS, CHROMIUM
from tests.harness.homeserver import Homeserver, User

CONSOLE = "/_synapse/client/groupreg/console/"
#: Browser messages that mean the page broke its own rules or crashed.
_PROBLEMS = ("Content Security Policy", "Trusted", "Uncaught", "SyntaxError")


class Console:
    """One browser tab on the console."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on("console", self._message)

    def _message(self, message: Any) -> None:
        text = str(message.text)
        if any(p in text for p in _PROBLEMS):
            self.problems.append(text)

    async def sign_in(
        self,
        user: User,
        screenshot: str | None = None,
        wait_for: str = "#views:not([hidden])",
    ) -> None:
        await self.page.fill("#sign-in-user", user.localpart)
        await self.page.fill("#sign-in-password", user.password)
        if screenshot:
            await self.shot(screenshot)
        await self.page.click("#sign-in-submit")
        await self.page.locator(wait_for).wait_for()

    async def shot(self, name: str) -> None:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTEFACTS / name), full_page=True)

    async def shots(self, name: str) -> None:
        """`name`-1280.png and `name`-390.png: the view on a desk and on a
        phone (390 px wide), which must show no sideways scroll."""
        await self.shot(f"{name}-1280.png")
        await self.page.set_viewport_size({"width": 390, "height": 844})
        try:
            await self.page.wait_for_timeout(150)
            wide: Any = await self.page.evaluate(
                "() => document.documentElement.scrollWidth"
            )
            assert int(wide) <= 390, f"{name} is {wide} px wide at 390 px"
            await self.shot(f"{name}-390.png")
        finally:
            await self.page.set_viewport_size({"width": 1280, "height": 720})


@asynccontextmanager
async def console_page(hs: Homeserver, locale: str = "zh-CN") -> AsyncIterator[Console]:
    """A fresh browser (so a fresh sessionStorage) with the console open."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=BROWSER_ARGS
        )
        try:
            page = await browser.new_page(locale=locale, accept_downloads=True)
            console = Console(page)
            response = await page.goto(hs.base_url + CONSOLE)
            assert response is not None and response.status == 200
            await page.locator("#sign-in").wait_for()
            yield console
        finally:
            await browser.close()
