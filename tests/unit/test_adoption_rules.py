"""Adoption's pure rules (H2, H4): where an existing room goes, how the
enforcement modes read, what observe mode counts."""

from __future__ import annotations

from datetime import date

import pytest

from synapse_groupreg.adoption.classify import place_existing
from synapse_groupreg.adoption.observations import ObservationLog
from synapse_groupreg.config import ConfigError, parse_config
from synapse_groupreg.config.adoption import ClassChoice
from synapse_groupreg.reasons import Reason, Refusal
from tests.support.memory import memory_store, resolve

ROOMS = parse_config({"profile": "cn"}).rooms  # small 40, medium 200, ...


@pytest.mark.parametrize(
    ("members", "expected", "over"),
    [(1, "small", False), (40, "small", False), (41, "medium", False),
     (45, "medium", False), (2000, "xl", False), (2001, "xl", True)],
)  # fmt: skip
def test_by_size_takes_the_smallest_class_that_holds_the_room(
    members: int, expected: str, over: bool
) -> None:
    """H2: the smallest class whose cap holds the members; above every cap,
    the largest, over its cap (nobody is removed)."""
    placed = place_existing(ROOMS, ClassChoice.BY_SIZE, members, direct=False)
    assert (placed.room_class, placed.over_cap) == (expected, over)


def test_default_places_every_group_in_the_default_class() -> None:
    placed = place_existing(ROOMS, ClassChoice.DEFAULT, 45, direct=False)
    assert (placed.room_class, placed.over_cap) == ("small", True)


def test_a_direct_chat_stays_a_direct_chat_only_while_two_people() -> None:
    """H2, B1: marked direct and two people: class direct; a room marked
    direct that grew is a group."""
    assert place_existing(ROOMS, ClassChoice.BY_SIZE, 2, direct=True).is_direct
    grown = place_existing(ROOMS, ClassChoice.BY_SIZE, 3, direct=True)
    assert grown.room_class == "small"


def test_enforcement_reads_a_word_or_a_mapping() -> None:
    """H4: `enforcement: observe` for every check, or a default and checks
    named one by one; anything else is refused naming the key."""
    everything = parse_config({"profile": "generic", "enforcement": "observe"})
    assert everything.enforcement.observes("identity")
    assert everything.enforcement.observes("content")
    some = parse_config(
        {"profile": "generic", "enforcement": {"default": "enforce", "caps": "observe"}}
    )
    assert some.enforcement.observing == ("caps",)
    with pytest.raises(ConfigError) as wrong:
        parse_config({"profile": "generic", "enforcement": {"caps": "maybe"}})
    assert "enforcement" in str(wrong.value.path) or "maybe" in str(wrong.value)


def test_grace_until_is_a_date_and_ends() -> None:
    """H4: the identity grace period is a calendar day, checked strictly."""
    config = parse_config(
        {"profile": "cn", "identity": {"grace_until": "2027-03-01"}}
    ).identity
    assert config.in_grace(date(2027, 2, 28))
    assert not config.in_grace(date(2027, 3, 1))
    with pytest.raises(ConfigError) as wrong:
        parse_config({"profile": "cn", "identity": {"grace_until": "next spring"}})
    assert "YYYY-MM-DD" in str(wrong.value)


def test_observed_refusals_are_summed_and_written_in_batches() -> None:
    """H4: each process counts in memory and adds to the table; two
    flushes add up."""
    store, memory, _ = memory_store()
    now = [1000]
    log = ObservationLog(store.adoption, lambda: now[0])
    refusal = Refusal(Reason.IDENTITY_REQUIRED, {})
    for _ in range(3):
        log.note("identity", refusal, "@a:x", "!r:x")
    before = memory.transactions
    resolve(log.flush())
    resolve(log.flush())  # nothing new: no transaction
    assert memory.transactions - before == 1
    now[0] = 2000
    log.note("identity", refusal, "@b:x", "!s:x")
    resolve(log.flush())
    (seen,) = resolve(store.adoption.observations())
    assert (seen.check, seen.reason, seen.count) == ("identity", "IDENTITY_REQUIRED", 4)
    assert (seen.first_ts, seen.last_ts, seen.last_actor) == (1000, 2000, "@b:x")
