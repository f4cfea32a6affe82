"""G1: a wrong key or value stops Synapse at start-up with a message that
names the key path and what is allowed; the shipped examples start it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import identity as identity_harness
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
    pytest.param(
        {"profile": "cn", "identity": {"self_service": {"link_lifetime": "soon"}}},
        "modules.<item 0>.config.identity.self_service.link_lifetime",
        "'soon' is not a duration; write a number and a unit",
        id="bad-duration",
    ),
    pytest.param(
        {"profile": "cn", "identity": {"gates": ["send", "post"]}},
        "modules.<item 0>.config.identity.gates.1",
        "'post' is not allowed; try one of: send, create_room, invite, join",
        id="unknown-gate",
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


def test_cn_refuses_to_start_without_a_key_file(backend: str, tmp_path: Path) -> None:
    """A6: the cn profile does not start without identity.key_file, nor with
    one that does not load; the message names the key."""
    if backend != "sqlite":
        pytest.skip("one database is enough for a start-up refusal")
    code, output = Homeserver({"profile": "cn"}, backend).run_to_exit()
    assert code != 0
    assert "identity.key_file is required" in output, output
    missing = tmp_path / "nowhere.key"
    config = {"profile": "cn", "identity": {"key_file": str(missing)}}
    code, output = Homeserver(config, backend).run_to_exit()
    assert code != 0
    assert "identity.key_file" in output and "does not exist" in output, output


def test_covenant_needs_synapse_user_consent(backend: str) -> None:
    """A9: requiring the covenant without Synapse's user_consent stops
    Synapse with a message naming covenant.required and what to configure."""
    if backend != "sqlite":
        pytest.skip("one database is enough for a start-up refusal")
    hs = Homeserver(None, backend)
    hs.module_config = identity_harness.cn_config(hs.dir, covenant=True)
    hs.write_config()
    code, output = hs.run_to_exit()
    assert code != 0
    assert "covenant.required is true" in output and "user_consent" in output, output


def test_cn_example_starts_synapse(homeservers: HomeserverFactory) -> None:
    """The cn example, given a key file and Synapse's user_consent, starts."""
    block = yaml.safe_load((EXAMPLES / "cn.yaml").read_text())["modules"][0]["config"]

    def config(folder: Path) -> dict[str, Any]:
        block["identity"]["key_file"] = identity_harness.key_file(folder)
        return dict(block)

    hs = identity_harness.start(homeservers, config, consent=True)
    assert "synapse-groupreg loaded: profile cn" in hs.log_text()
