"""G1: a wrong key or value stops Synapse at start-up with a message that
names the key path and what is allowed; the shipped examples start it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory

EXAMPLES = Path(__file__).resolve().parents[2] / "config"

BAD_CONFIGS = [
    pytest.param(
        {"profile": "cn", "langauge": "en"},
        "modules.<item 0>.config.langauge",
        "unknown key 'langauge'; allowed keys here:",
        id="unknown-key",
    ),
    pytest.param(
        {"profile": "generic", "notices": {"bot_localpart": ["x"]}},
        "modules.<item 0>.config.notices.bot_localpart",
        "expected a string, got a list",
        id="wrong-type",
    ),
    pytest.param(
        {"profile": "eu"},
        "modules.<item 0>.config.profile",
        "'eu' is not allowed; try one of: cn, generic",
        id="unknown-profile",
    ),
    pytest.param(
        {"profile": "generic", "logs": {"retention": "half a year"}},
        "modules.<item 0>.config.logs.retention",
        "'half a year' is not a duration; write a number and a unit",
        id="bad-duration",
    ),
    pytest.param(
        {"profile": "generic", "fail": {"content": "sometimes"}},
        "modules.<item 0>.config.fail.content",
        "'sometimes' is not allowed; try one of: closed, open",
        id="bad-choice",
    ),
]


@pytest.mark.parametrize(("config", "path", "message"), BAD_CONFIGS)
def test_bad_config_stops_synapse_naming_the_key(
    config: dict[str, Any], path: str, message: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("config errors stop Synapse before it opens any database")
    hs = Homeserver(config, backend)
    code, output = hs.run_to_exit()
    assert code != 0
    assert f"Error in configuration at '{path}'" in output, output
    assert message in output, output


def test_generic_example_starts_synapse(homeservers: HomeserverFactory) -> None:
    block = yaml.safe_load((EXAMPLES / "generic.yaml").read_text())["modules"][0][
        "config"
    ]
    hs = homeservers(block)
    assert "synapse-groupreg loaded: profile generic" in hs.log_text()
