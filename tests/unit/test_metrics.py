"""G4 and G6: every decision is counted by check and outcome and timed; a
failing check is counted by its fail mode."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from synapse_groupreg.config import parse_config
from synapse_groupreg.dispatch import UNAVAILABLE, Guard
from synapse_groupreg.reasons import Reason, Refusal


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_decisions_are_counted_and_timed() -> None:
    guard = Guard(parse_config({"profile": "generic"}).fail, "metrics.test")
    meter = guard.meter("caps")
    before_allow = _value(
        "groupreg_decisions_total",
        check="caps",
        outcome="allow",
        server_name="metrics.test",
    )
    meter.done(time.perf_counter(), None)
    meter.done(time.perf_counter(), Refusal(Reason.ROOM_FULL, {"limit": 3}))
    assert (
        _value(
            "groupreg_decisions_total",
            check="caps",
            outcome="allow",
            server_name="metrics.test",
        )
        == before_allow + 1
    )
    assert (
        _value(
            "groupreg_decisions_total",
            check="caps",
            outcome="ROOM_FULL",
            server_name="metrics.test",
        )
        == 1
    )
    assert (
        _value("groupreg_check_seconds_count", check="caps", server_name="metrics.test")
        == 2
    )


def test_failures_answer_by_fail_mode_and_are_counted() -> None:
    fail = parse_config({"profile": "generic", "fail": {"identity": "open"}}).fail
    guard = Guard(fail, "metrics.fail")
    assert guard.failed("content", RuntimeError("database gone")) is UNAVAILABLE
    assert guard.failed("identity", RuntimeError("database gone")) is None
    assert (
        _value(
            "groupreg_check_failures_total",
            check="content",
            mode="closed",
            server_name="metrics.fail",
        )
        == 1
    )
    assert (
        _value(
            "groupreg_check_failures_total",
            check="identity",
            mode="open",
            server_name="metrics.fail",
        )
        == 1
    )
