"""The web console (G2): the complaint queue (E2), identity review (A3) and
the room registry (B4-B6, D2), at `/_synapse/client/groupreg/console/`.

The routes are public and carry no data: the page is a template that only
learns the server's language, its scripts and style are files in
`synapse_groupreg/static/`. The browser signs the admin in with Synapse's
own `/_matrix/client/v3/login`, keeps the access token in sessionStorage
and calls the admin API with it, so every rule of that API (401, 403 for
non-admins, audit) holds for the console as for any other client.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from synapse_groupreg.config import Language
from synapse_groupreg.http.base import (
    PREFIX,
    RawBody,
    Request,
    Route,
    not_found,
    template_environment,
)
from synapse_groupreg.services import Services

PACKAGE = Path(__file__).resolve().parents[1]
STATIC = PACKAGE / "static"
CONSOLE = f"{PREFIX}/console/"

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}

#: Scripts and style are same-origin files: no inline script or style, no
#: eval, no other origin; the token lives in sessionStorage, so nothing may
#: frame the page or read it through a referrer. Trusted Types make a stray
#: `innerHTML` with data from a report or a room name fail instead of run.
CONSOLE_HEADERS: Mapping[bytes, bytes] = {
    b"Cache-Control": b"no-store",
    b"Referrer-Policy": b"no-referrer",
    b"X-Frame-Options": b"DENY",
    b"X-Content-Type-Options": b"nosniff",
    b"Cross-Origin-Opener-Policy": b"same-origin",
    b"Cross-Origin-Resource-Policy": b"same-origin",
    b"Content-Security-Policy": (
        b"default-src 'self'; script-src 'self'; style-src 'self';"
        b" img-src 'self'; connect-src 'self'; object-src 'none';"
        b" base-uri 'none'; form-action 'none'; frame-ancestors 'none';"
        b" require-trusted-types-for 'script'; trusted-types 'none'"
    ),
}


def console_assets(folder: Path = STATIC) -> dict[str, RawBody]:
    """The console's scripts and style by file name, read once: only these
    names are ever served, so a path can never reach another file."""
    assets = {}
    for path in sorted(folder.glob("console*")):
        content_type = _CONTENT_TYPES.get(path.suffix)
        if content_type is not None and path.is_file():
            assets[path.name] = RawBody(
                path.read_bytes(), content_type, headers=CONSOLE_HEADERS
            )
    return assets


class ConsolePage:
    def __init__(self, services: Services) -> None:
        self._s = services
        self._env = template_environment()
        self._assets = console_assets()

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/console", "public", self.redirect),
            Route("GET", "/console/", "public", self.page),
            Route("GET", "/console/{asset}", "public", self.asset),
        ]

    async def redirect(self, request: Request) -> tuple[int, RawBody]:
        """Without the slash the page's relative links would miss."""
        return 308, RawBody(
            b"",
            "text/plain",
            headers={**CONSOLE_HEADERS, b"Location": CONSOLE.encode()},
        )

    async def page(self, request: Request) -> tuple[int, RawBody]:
        """The page: structure only, in the server's language (G3); the
        script lets the admin switch."""
        language: Language = self._s.config.language
        html = self._env.get_template("console.html").render(
            lang="en" if language is Language.EN else "zh-Hans",
            language=language.value,
            base=CONSOLE,
        )
        return 200, RawBody(
            html.encode("utf-8"), "text/html; charset=utf-8", headers=CONSOLE_HEADERS
        )

    async def asset(self, request: Request) -> tuple[int, RawBody]:
        found = self._assets.get(request.params["asset"])
        if found is None:
            raise not_found("Console file")
        return 200, found
