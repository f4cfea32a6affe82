"""G1, E2: the `complaints:` section: defaults, per-category deadlines, and
errors that name the key."""

from __future__ import annotations

from typing import Any

import pytest
from synapse.config._base import ConfigError

from synapse_groupreg.config import parse_config
from tests.unit.test_config import example

HOUR = 3_600_000


def _complaints(section: dict[str, Any]) -> Any:
    return parse_config({"profile": "generic", "complaints": section}).complaints


def test_defaults_are_24h_and_7d() -> None:
    """E2: acknowledge within 24 h, decide within 7 days; appeals likewise."""
    config = parse_config({"profile": "cn"}).complaints
    assert config.enabled
    assert config.deadlines.acknowledge_ms == 24 * HOUR
    assert config.deadlines.decide_ms == 7 * 24 * HOUR
    assert config.deadlines_for("gambling") == config.deadlines
    assert config.appeal_deadlines == config.deadlines
    assert config.report_category == "other"
    assert "violence_terror" in config.categories
    assert (config.rate_reports, config.rate_window_ms) == (20, HOUR)


def test_examples_show_the_defaults() -> None:
    """The complaint section of each shipped example is the profile's default."""
    for name, profile in (("cn.yaml", "cn"), ("generic.yaml", "generic")):
        shown = parse_config(example(name)).complaints
        assert shown == parse_config({"profile": profile}).complaints


def test_deadlines_per_category_in_seconds() -> None:
    """E2: each category may set its own deadlines; durations such as '30s'
    let tests see a case become overdue without waiting hours."""
    config = _complaints(
        {
            "deadlines": {"acknowledge": "2h", "decide": "3d"},
            "categories": {
                "violence_terror": {"acknowledge": "1s", "decide": "2s"},
                "other": {},
            },
        }
    )
    assert config.deadlines_for("violence_terror").acknowledge_ms == 1000
    assert config.deadlines_for("violence_terror").decide_ms == 2000
    assert config.deadlines_for("other").acknowledge_ms == 2 * HOUR
    assert config.deadlines_for("not-listed").decide_ms == 72 * HOUR


@pytest.mark.parametrize(
    ("section", "path", "message"),
    [
        (
            {"deadlines": {"acknowledge": "soon"}},
            ("complaints", "deadlines", "acknowledge"),
            "'soon' is not a duration",
        ),
        (
            {"categories": {"spam": {"decide": "1h", "acknowledge": "2h"}}},
            ("complaints", "categories", "spam", "decide"),
            "cannot come before the acknowledgement deadline",
        ),
        (
            {"categories": {"spam": {"answer": "1h"}}},
            ("complaints", "categories", "spam", "answer"),
            "unknown key 'answer'",
        ),
        (
            {"report_category": "spam"},
            ("complaints", "report_category"),
            "'spam' is not one of the categories; try one of: pornography",
        ),
        (
            {"rate": {"reports": 0}},
            ("complaints", "rate", "reports"),
            "the minimum is 1",
        ),
        ({"categories": {}}, ("complaints", "categories"), "at least one category"),
        (
            {"appeals": {"window": "180d"}},
            ("complaints", "appeals", "window"),
            "unknown key 'window'",
        ),
    ],
)
def test_errors_name_the_key(
    section: dict[str, Any], path: tuple[str, ...], message: str
) -> None:
    """G1: a wrong key or value names its path and what is allowed."""
    with pytest.raises(ConfigError) as caught:
        _complaints(section)
    assert caught.value.path == path
    assert message in caught.value.msg
