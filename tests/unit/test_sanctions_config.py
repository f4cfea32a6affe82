"""G1: the sanctions and blacklist sections refuse what they cannot
honour, naming the key (D2-D6)."""

from __future__ import annotations

from typing import Any

import pytest
from synapse.config._base import ConfigError

from synapse_groupreg.config import parse_config


def _error(sanctions: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "generic", "sanctions": sanctions})
    return f"{'.'.join(caught.value.path or ())}: {caught.value.msg}"


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({"action": "lower_credit", "amount": 1}, "exactly one trigger"),
        (
            {"violation": "x", "credit_below": 5, "action": "warn"},
            "exactly one trigger",
        ),
        ({"violation": "x", "action": "close"}, "automatic.r.action"),
        (
            {"violation": "x", "per": "room", "action": "lower_credit"},
            "automatic.r.action",
        ),
        ({"violation": "x", "action": "lower_credit"}, "automatic.r.amount"),
        ({"violation": "x", "action": "suspend_admin"}, "automatic.r.duration"),
        (
            {"credit_below": 50, "action": "lower_credit", "amount": 1},
            "automatic.r.action",
        ),
        ({"credit_below": 50, "per": "room", "action": "warn"}, "automatic.r.per"),
        ({"violation": "x", "action": "warn", "per": "room", "colour": 1}, "colour"),
    ],
)
def test_automatic_rules_are_checked(rule: dict[str, Any], where: str) -> None:
    """D5: a threshold rule that could not apply stops start-up."""
    assert where in _error({"automatic": {"r": rule}})


def test_other_sanction_keys() -> None:
    assert "utc_offset" in _error({"utc_offset": "8"})
    assert "instructions" in _error({"appeal": {"instructions": "no placeholders"}})
    assert "rules.warn" in _error({"rules": {"warn": 5}})
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "cn", "blacklist": {"default_expiry": "forever"}})
    assert caught.value.path == ("blacklist", "default_expiry")


def test_times_shown_at_the_configured_offset() -> None:
    config = parse_config({"profile": "generic", "sanctions": {"utc_offset": "-05:30"}})
    assert config.sanctions.utc_offset_minutes == -330
    assert parse_config({"profile": "cn"}).sanctions.utc_offset_minutes == 480
