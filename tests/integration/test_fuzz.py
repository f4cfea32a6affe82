"""G6: requests generated from docs/openapi.yaml (tests/harness/fuzz.py)
over every route of both APIs and the verification page, as anonymous, a
user and a server admin: bodies, query values, path ids and Content-Type.
No answer is a 5xx and the homeserver's log holds no traceback. A small
fixed budget here (`GROUPREG_FUZZ_EXAMPLES`, default 1500, derandomised);
bench/fuzz.py runs a longer one and prints what it tried."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.harness import fuzz
from tests.harness.homeserver import Homeserver
from tests.harness.identity import cn_config, start
from tests.integration.conftest import HomeserverFactory

EXAMPLES = int(os.environ.get("GROUPREG_FUZZ_EXAMPLES", "1500"))


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    # cn: real-name identity, the verification page and every concern on.
    return start(homeservers, lambda d: cn_config(d))


async def test_no_route_answers_5xx_to_generated_requests(hs: Homeserver) -> None:
    user, admin = hs.register(), hs.register(admin=True)
    tokens = {"anonymous": None, "user": user.access_token, "admin": admin.access_token}
    tally = fuzz.Tally()
    await asyncio.to_thread(fuzz.run, hs.base_url, tokens, EXAMPLES, tally)
    _, ops = fuzz.operations()
    assert sum(tally.tried.values()) >= EXAMPLES * 0.9
    routes = {label for label, _ in tally.tried}
    # A small budget still reaches most routes (the bench reaches all).
    assert len(routes) >= len(ops) * 0.7, sorted(routes)
    assert tally.server_errors == [], tally.server_errors[:10]
    log = hs.log_text()
    at = log.find("Traceback")
    assert at < 0, log[max(0, at - 1500) : at + 3000]
