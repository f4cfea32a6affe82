"""D1: credit arithmetic — the range, recovery computed from the last
violation, bands, and the replay that undoes a reversed penalty."""

from __future__ import annotations

from typing import Any

import pytest
from synapse.config._base import ConfigError

from synapse_groupreg.config import parse_config
from synapse_groupreg.config.credit import CreditConfig
from synapse_groupreg.credit import clamp, next_recovery_ms, recovered, replay
from synapse_groupreg.store.credit import AWARD, PENALTY, RESTORE, LedgerHead, LedgerRow

DAY = 86_400_000
WEEK = 7 * DAY


def config(**credit: Any) -> CreditConfig:
    return parse_config({"profile": "cn", "credit": credit}).credit


CN = config()


def row(
    ts: int,
    kind: str,
    delta: int,
    score_after: int = 0,
    reversed_ts: int | None = None,
    n: int = 0,
) -> LedgerRow:
    return LedgerRow(
        n, "@u:hs", ts, kind, delta, score_after, "r", "system", {}, None, reversed_ts
    )


def test_everyone_starts_at_100_within_0_to_120() -> None:
    """D1: start 100, range 0-120."""
    assert recovered(None, CN, 0) == 100
    assert clamp(-5, CN) == 0
    assert clamp(130, CN) == 120


def test_recovery_is_one_point_per_full_week_since_the_last_violation() -> None:
    """D1: +1 per 7 days without violation, computed, not stored."""
    head = LedgerHead(score=80, as_of=1000, last_violation=1000)
    assert recovered(head, CN, 1000 + WEEK - 1) == 80
    assert recovered(head, CN, 1000 + WEEK) == 81
    assert recovered(head, CN, 1000 + 10 * WEEK + 3 * DAY) == 90


def test_recovery_stops_at_the_ceiling_and_never_lowers_a_high_score() -> None:
    """D1: recovery climbs back to the start score, no further; scores
    above it (awards) are left alone."""
    head = LedgerHead(score=95, as_of=0, last_violation=0)
    assert recovered(head, CN, 100 * WEEK) == 100
    high = LedgerHead(score=115, as_of=0, last_violation=0)
    assert recovered(high, CN, 100 * WEEK) == 115


def test_recovery_banked_at_a_later_entry_is_not_counted_twice() -> None:
    """D1: an award written after a violation keeps the recovery clock of
    that violation; steps before the award are already in its score."""
    # Violation at 0 (score 80), an award of +2 three and a half weeks later:
    # the award's score holds the three steps (83 + 2 = 85).
    head = LedgerHead(score=85, as_of=3 * WEEK + 3 * DAY, last_violation=0)
    assert recovered(head, CN, 4 * WEEK - 1) == 85
    assert recovered(head, CN, 4 * WEEK) == 86


def test_next_recovery_time() -> None:
    head = LedgerHead(score=80, as_of=0, last_violation=0)
    assert next_recovery_ms(head, CN, 3 * DAY) == WEEK
    assert next_recovery_ms(head, CN, WEEK) == 2 * WEEK
    assert next_recovery_ms(LedgerHead(100, 0, 0), CN, 0) is None
    assert next_recovery_ms(None, CN, 0) is None


def test_configured_recovery_rate() -> None:
    """D1: recovery is configuration."""
    fast = config(recovery={"points": 2, "every": "1d", "up_to": 110})
    head = LedgerHead(score=100, as_of=0, last_violation=0)
    assert recovered(head, fast, 3 * DAY) == 106
    assert recovered(head, fast, 30 * DAY) == 110


def test_replay_without_a_reversed_penalty() -> None:
    """D5/E4: reversing a penalty replays the ledger as if it never was,
    including the recovery it interrupted."""
    history = [
        row(0, PENALTY, -10, 90, n=1),
        row(2 * WEEK, PENALTY, -20, 72, reversed_ts=3 * WEEK, n=2),
        row(3 * WEEK, AWARD, 5, 0, n=3),
    ]
    head = replay(history, CN)
    assert head is not None
    # 90 -> (3 weeks of recovery from the first violation) 93 -> award 98.
    assert head.score == 98
    assert head.last_violation == 0
    assert recovered(head, CN, 5 * WEEK) == 100


def test_replay_skips_restore_entries() -> None:
    history = [
        row(0, PENALTY, -10, 90, reversed_ts=DAY, n=1),
        row(DAY, RESTORE, 10, 100, n=2),
    ]
    head = replay(history, CN)
    assert head is None


@pytest.mark.parametrize(
    ("score", "band", "denies"),
    [
        (120, "excellent", set()),
        (100, "good", set()),
        (60, "fair", set()),
        (59, "poor", {"admin", "create_groups"}),
        (29, "restricted", {"admin", "create_groups", "posting"}),
        (0, "restricted", {"admin", "create_groups", "posting"}),
    ],
)
def test_default_bands(score: int, band: str, denies: set[str]) -> None:
    """D1: bands gate admin rights, group creation and posting."""
    found = CN.band_of(score)
    assert (found.name, set(found.denies)) == (band, denies)


def test_lowest_score_a_gate_needs() -> None:
    assert CN.floor_allowing("posting") == 30
    assert CN.floor_allowing("admin") == 60


def test_penalties_by_violation_class() -> None:
    """D1: penalties by violation class from config; a kind falls back to
    its class (the part before ':')."""
    c = config(penalties={"prohibited_content": 3, "prohibited_content:fraud": 8})
    assert c.penalty_for("prohibited_content:gambling") == 3
    assert c.penalty_for("prohibited_content:fraud") == 8
    assert c.penalty_for("unknown") == 0


@pytest.mark.parametrize(
    ("credit", "key"),
    [
        ({"bands": {"a": {"from": 10}}}, "bands"),
        ({"bands": {"a": {"from": 0}, "b": {"from": 0}}}, "bands"),
        ({"bands": {"a": {"from": 0, "denies": ["flying"]}}}, "denies"),
        ({"bands": {"a": {}}}, "from"),
        ({"start": 130}, "start"),
        ({"recovery": {"every": "0s"}}, "every"),
        ({"penalties": {"spam": -1}}, "spam"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_credit_config_names_the_key(credit: dict[str, Any], key: str) -> None:
    """G1: a wrong credit key stops start-up naming the key."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "cn", "credit": credit})
    assert key in str(caught.value) or key in (caught.value.path or ())
