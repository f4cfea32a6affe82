"""G1: the configuration is checked key by key, and the shipped examples parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from synapse.config._base import ConfigError

from synapse_groupreg.config import (
    FailMode,
    GroupRegConfig,
    Language,
    Profile,
    parse_config,
    parse_duration_ms,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "config"


def example(name: str) -> dict[str, Any]:
    """The module's `config:` block of a shipped example."""
    doc = yaml.safe_load((EXAMPLES / name).read_text())
    block: dict[str, Any] = doc["modules"][0]["config"]
    return block


def error_of(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value


@pytest.mark.parametrize("name", ["cn.yaml", "generic.yaml"])
def test_shipped_examples_parse(name: str) -> None:
    """The examples in config/ are complete and valid, so they cannot rot."""
    config = parse_config(example(name))
    assert isinstance(config, GroupRegConfig)


def test_example_values_are_the_profile_defaults() -> None:
    """The examples say they show the defaults: parsing them gives the same
    configuration as the bare profile (apart from the digest)."""
    for name, profile in (("cn.yaml", "cn"), ("generic.yaml", "generic")):
        shown = parse_config(example(name))
        bare = parse_config({"profile": profile})
        assert shown.profile == bare.profile
        assert shown.language == bare.language
        assert shown.notices == bare.notices
        assert shown.logs == bare.logs
        assert shown.credit == bare.credit
        assert shown.sanctions == bare.sanctions
        assert shown.blacklist == bare.blacklist
        assert shown.roles == bare.roles
        assert shown.audit == bare.audit
        assert shown.identity.reveal == bare.identity.reveal


def test_profiles_choose_defaults() -> None:
    cn, generic = parse_config({"profile": "cn"}), parse_config({"profile": "generic"})
    assert (cn.profile, cn.language, cn.real_name) == (
        Profile.CN,
        Language.ZH_HANS,
        True,
    )
    assert (generic.language, generic.real_name) == (Language.EN, False)


def test_profile_is_required_and_checked() -> None:
    e = error_of({})
    assert e.path == ("profile",) and "cn, generic" in e.msg
    e = error_of({"profile": "eu"})
    assert e.path == ("profile",)
    assert "'eu' is not allowed; try one of: cn, generic" in e.msg


def test_unknown_key_is_named_with_the_allowed_ones() -> None:
    e = error_of({"profile": "cn", "langauge": "en"})
    assert e.path == ("langauge",)
    assert "unknown key 'langauge'" in e.msg and "language" in e.msg
    e = error_of({"profile": "cn", "notices": {"bot": "x"}})
    assert e.path == ("notices", "bot")
    assert "bot_localpart" in e.msg


def test_wrong_type_is_named() -> None:
    e = error_of({"profile": "cn", "notices": {"bot_localpart": 7}})
    assert e.path == ("notices", "bot_localpart")
    assert "expected a string, got an integer" in e.msg
    e = error_of({"profile": "cn", "fail": "closed"})
    assert e.path == ("fail",) and "expected a mapping" in e.msg


def test_fail_modes_per_check() -> None:
    """G6: each check fails closed or open as configured."""
    config = parse_config(
        {"profile": "generic", "fail": {"default": "open", "identity": "closed"}}
    )
    assert config.fail.for_check("identity") is FailMode.CLOSED
    assert config.fail.for_check("content") is FailMode.OPEN
    e = error_of({"profile": "generic", "fail": {"content": "maybe"}})
    assert e.path == ("fail", "content") and "closed, open" in e.msg
    e = error_of({"profile": "generic", "fail": {"contents": "open"}})
    assert e.path == ("fail", "contents")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("250ms", 250),
        ("30s", 30_000),
        ("5m", 300_000),
        ("24h", 86_400_000),
        ("7d", 604_800_000),
        ("2w", 1_209_600_000),
        ("3y", 94_608_000_000),
        ("1.5h", 5_400_000),
    ],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["7", "7 days", "d7", "-1d", "", "1x"])
def test_bad_durations_explain_the_format(text: str) -> None:
    with pytest.raises(ValueError, match="write a number and a unit"):
        parse_duration_ms(text)


def test_digest_changes_with_the_rules() -> None:
    a = parse_config({"profile": "cn"})
    b = parse_config({"profile": "cn", "language": "en"})
    assert a.digest != b.digest
    assert a.digest == parse_config({"profile": "cn"}).digest


def test_cn_profile_keeps_network_logs_six_months() -> None:
    """F2: the cn profile refuses a network-log retention under 180 days."""
    e = error_of({"profile": "cn", "logs": {"retention": "30d"}})
    assert e.path == ("logs", "retention") and "180d" in e.msg
    assert parse_config({"profile": "generic", "logs": {"retention": "30d"}})


def test_bad_duration_is_named() -> None:
    e = error_of({"profile": "generic", "logs": {"retention": "forever"}})
    assert e.path == ("logs", "retention")
    assert "'forever' is not a duration" in e.msg
