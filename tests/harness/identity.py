"""Helpers for tests of servers with real-name identity and the covenant on:
a key file, the cn module config, Synapse's `user_consent`, valid document
numbers, and accepting the covenant as a user would."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from synapse_groupreg.identity.documents import check_character
from synapse_groupreg.identity.vault import generate_key_file
from tests.harness.client import Http
from tests.harness.homeserver import REPO, Homeserver, User

ADMIN = "/_synapse/client/groupreg/admin/v1"
CLIENT = "/_synapse/client/groupreg/v1"
COVENANT_TEMPLATES = REPO / "config" / "covenant"
COVENANT_VERSION = "1.0"


def resident_id(serial: int, born: str = "19900101", region: str = "110105") -> str:
    """A valid 18-digit resident ID: region, birth date, a 3-digit serial and
    the computed check character."""
    body = f"{region}{born}{serial % 1000:03d}"
    return body + check_character(body)


def born_years_ago(years: int) -> str:
    today = date.today()
    try:
        return date(today.year - years, today.month, today.day).strftime("%Y%m%d")
    except ValueError:  # 29 February
        return date(today.year - years, today.month, 28).strftime("%Y%m%d")


def key_file(folder: Path) -> str:
    path = folder / "identity.key"
    if not path.exists():
        generate_key_file(path)
    return str(path)


def cn_config(
    folder: Path,
    identity: Mapping[str, Any] | None = None,
    covenant: bool = False,
    **top: Any,
) -> dict[str, Any]:
    """The module config of a cn server with a key file; the covenant is off
    unless asked for (it needs Synapse's user_consent, see `start`)."""
    return {
        "profile": "cn",
        "identity": {"key_file": key_file(folder), **(identity or {})},
        "covenant": {"required": covenant},
        **top,
    }


def consent_config(hs: Homeserver) -> dict[str, Any]:
    """homeserver.yaml keys for Synapse's user_consent and its resource."""
    return {
        "user_consent": {
            "version": COVENANT_VERSION,
            "template_dir": str(COVENANT_TEMPLATES),
        },
        "listeners": [
            {
                "port": hs.port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client", "consent"], "compress": False}],
            }
        ],
    }


def start(
    homeservers: Callable[..., Homeserver],
    module_config: Callable[[Path], dict[str, Any]],
    extra_config: Mapping[str, Any] | None = None,
    consent: bool = False,
) -> Homeserver:
    """Start a homeserver whose module config needs its folder (key file)."""
    hs = homeservers(None, extra_config, start=False)
    hs.module_config = module_config(hs.dir)
    if consent:
        hs.extra_config.update(consent_config(hs))
    hs.write_config()
    return hs.start()


def form_secret(hs: Homeserver) -> str:
    config = yaml.safe_load(hs.config_path.read_text())
    return str(config["form_secret"])


async def accept_covenant(hs: Homeserver, user: User) -> None:
    """What the user does on Synapse's consent page: post the form."""
    mac = hmac.new(
        form_secret(hs).encode(), user.user_id.encode(), hashlib.sha256
    ).hexdigest()
    query = urllib.parse.urlencode({"v": COVENANT_VERSION, "u": user.user_id, "h": mac})
    status, body = await Http(hs).post(f"/_matrix/consent?{query}", data=b"")
    assert status == 200, body


async def verify(
    hs: Homeserver,
    admin: User,
    user: User,
    number: str,
    name: str = "张三",
    document_type: str = "resident_id",
) -> tuple[int, Any]:
    """PUT an identity through the admin API."""
    return await Http(hs, admin.access_token).put(
        f"{ADMIN}/identities/{urllib.parse.quote(user.user_id)}",
        {"name": name, "document_type": document_type, "document_number": number},
    )


async def bind_phone(
    hs: Homeserver, admin: User, user: User, msisdn: str | None
) -> None:
    """Set the user's msisdn 3PIDs through Synapse's admin API (digits
    without '+', as Synapse stores them); None removes them all."""
    threepids = [{"medium": "msisdn", "address": msisdn}] if msisdn else []
    status, body = await Http(hs, admin.access_token).put(
        f"/_synapse/admin/v2/users/{urllib.parse.quote(user.user_id)}",
        {"threepids": threepids},
    )
    assert status == 200, body


async def bot_messages(
    client: Any, bot: str, wait: float = 20
) -> tuple[str, list[str]]:
    """Join the notice bot's direct chat (allowed while unverified) and read
    its notices, newest first; returns (room_id, bodies)."""
    import nio

    deadline = time.monotonic() + wait
    room_id, invited = None, False
    while room_id is None and time.monotonic() < deadline:
        sync = await client.sync(timeout=500)
        assert isinstance(sync, nio.SyncResponse), sync
        for rid, info in sync.rooms.invite.items():
            if any(getattr(e, "sender", None) == bot for e in info.invite_state):
                room_id, invited = rid, True
        for rid in sync.rooms.join:
            if room_id is None or rid == room_id:
                room_id, invited = rid, False
    assert room_id is not None, "the notice bot opened no direct chat"
    if invited:
        joined = await client.join(room_id)
        assert isinstance(joined, nio.JoinResponse), joined
    # The invite can arrive before the notice itself: wait for it.
    while True:
        messages = await client.room_messages(room_id, start="", limit=50)
        assert isinstance(messages, nio.RoomMessagesResponse), messages
        bodies = [
            e.body for e in messages.chunk if isinstance(e, nio.RoomMessageNotice)
        ]
        if bodies or time.monotonic() > deadline:
            return room_id, bodies
        await asyncio.sleep(0.2)


def link_in(text: str) -> str:
    """The verification link in a notice (its token in the fragment)."""
    match = re.search(r"https?://\S+/verify#token=[\w-]+", text)
    assert match is not None, text
    return match.group(0)


def link_token(link: str) -> str:
    """The token in a verification link's fragment."""
    fragment = urllib.parse.urlsplit(link).fragment
    return urllib.parse.parse_qs(fragment)["token"][0]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def post_form(hs: Homeserver, fields: Mapping[str, str]) -> tuple[int, str]:
    """POST the verification page's form, as the browser does."""
    status, body = await Http(hs).post(
        f"{CLIENT}/verify", data=urllib.parse.urlencode(dict(fields)), headers=FORM
    )
    return status, str(body)


async def open_link(hs: Homeserver, link: str) -> tuple[int, str, str | None]:
    """What the page's script does with the link: post the fragment's token
    (`step=open`). Returns the status, the page, and the form's own token."""
    status, page = await post_form(
        hs, {"step": "open", "token": link_token(link), "lang": "en"}
    )
    found = re.search(r'name="token" value="([^"]+)"', page)
    return status, page, found.group(1) if found else None
