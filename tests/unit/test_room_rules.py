"""Pure rules of the groups concern: registration codes (B4), class placement
and qualifications (B1, B2, B7, C5), cap arithmetic (B3, B6)."""

from __future__ import annotations

import itertools

import pytest

from synapse_groupreg.config import parse_config
from synapse_groupreg.config.rooms import RoomsConfig
from synapse_groupreg.identity.levels import IdentityLevel
from synapse_groupreg.reasons import Reason
from synapse_groupreg.rooms import classes
from synapse_groupreg.rooms.accountability import Accountability
from synapse_groupreg.rooms.caps import SeatRules, creation_cap_refusal, seat_refusal
from synapse_groupreg.rooms.classes import InvalidField, Placement
from synapse_groupreg.rooms.codes import check_digit, format_code, normalise_code
from synapse_groupreg.store.seats import CreationCounts, SeatCounts


def rooms(profile: str = "cn", **extra: object) -> RoomsConfig:
    return parse_config({"profile": profile, "rooms": extra}).rooms


# -- registration codes (B4) --------------------------------------------------


def test_codes_are_prefix_serial_and_check_digit() -> None:
    """B4: human-readable: prefix, zero-padded serial, one check digit."""
    assert format_code("G", 17) == "G000000175"
    assert format_code("QX", 123456789) == "QX1234567897"
    for serial in (1, 9, 10, 99999999, 100000000):
        code = format_code("G", serial)
        assert normalise_code(code) == code


def test_check_digit_catches_every_single_digit_error() -> None:
    """B4: a mistyped digit anywhere makes the code invalid."""
    for serial in (1, 17, 4711, 98765432):
        code = format_code("G", serial)
        for i in range(1, len(code)):
            for digit in "0123456789":
                if digit == code[i]:
                    continue
                typo = code[:i] + digit + code[i + 1 :]
                assert normalise_code(typo) is None, typo


def test_check_digit_catches_adjacent_swaps() -> None:
    """B4: swapping two neighbouring different digits is caught."""
    for serial in (12345678, 90817263, 10203040):
        code = format_code("G", serial)
        for i in range(1, len(code) - 1):
            if code[i] == code[i + 1]:
                continue
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert normalise_code(swapped) is None, swapped


def test_typed_codes_are_normalised() -> None:
    """B4: admins find a code however it was copied (case, separators)."""
    code = format_code("G", 17)
    assert normalise_code("g-0000-0017 5") == code
    assert normalise_code(" g00000017.5 ") == code
    for bad in ("", "G", "G17", "0000000175", "G00000017A", "GROUP0000000175"):
        assert normalise_code(bad) is None, bad


def test_codes_of_distinct_serials_differ() -> None:
    """B4: the code is injective in the serial (uniqueness follows from the
    database sequence never repeating a serial)."""
    made = {format_code("G", n) for n in range(1, 20001)}
    assert len(made) == 20000


def test_check_digit_needs_digits() -> None:
    with pytest.raises(ValueError):
        check_digit("12a")


# -- placement (B1, B2) ---------------------------------------------------------


def test_plain_create_room_gets_the_default_class() -> None:
    """B2: Element sends no class: the room gets the configured default."""
    assert classes.place_new_room(rooms(), {"name": "x"}) == Placement("small", None)
    assert classes.place_new_room(rooms("generic"), {}).room_class == "medium"


def test_class_and_category_from_the_body() -> None:
    """B2: `org.groupreg.class` and `org.groupreg.category` choose."""
    body = {"org.groupreg.class": "large", "org.groupreg.category": "work"}
    assert classes.place_new_room(rooms(), body) == Placement("large", "work")


def test_direct_chats_are_class_direct() -> None:
    """B1: is_direct with at most one invitee is a direct chat; with more it
    is a group of the default class."""
    direct = {"is_direct": True, "invite": ["@b:hs"]}
    assert classes.place_new_room(rooms(), direct).is_direct
    assert classes.place_new_room(rooms(), {"is_direct": True}).is_direct
    three = {"is_direct": True, "invite": ["@b:hs", "@c:hs"]}
    assert classes.place_new_room(rooms(), three) == Placement("small", None)


def test_unknown_class_and_bad_category_name_the_field() -> None:
    with pytest.raises(InvalidField) as caught:
        classes.place_new_room(rooms(), {"org.groupreg.class": "huge"})
    assert caught.value.reason is Reason.CLASS_UNKNOWN
    with pytest.raises(InvalidField) as caught:
        classes.place_new_room(rooms(), {"org.groupreg.class": 3})
    assert caught.value.field == "org.groupreg.class"
    with pytest.raises(InvalidField) as caught:
        classes.place_new_room(rooms(), {"org.groupreg.category": "gossip"})
    assert caught.value.field == "org.groupreg.category"
    assert "work" in caught.value.message


# -- qualifications (B1) --------------------------------------------------------


def test_qualifications_by_identity_credit_and_approval() -> None:
    """B1: the cn classes ask phone/credit 60, id/80, id/90, approval."""
    cn = rooms()
    small, medium, xl = cn.classes["small"], cn.classes["medium"], cn.classes["xl"]
    phone, id_ = IdentityLevel.PHONE, IdentityLevel.ID
    assert classes.qualification_refusal(small, phone, 60) is None
    refusal = classes.qualification_refusal(small, IdentityLevel.NONE, 100)
    assert refusal is not None and refusal.reason is Reason.CLASS_NOT_QUALIFIED
    refusal = classes.qualification_refusal(small, phone, 59)
    assert refusal is not None
    assert "at least 60 (yours is 59)" in refusal.params["requirement"][1]  # type: ignore[index]
    assert classes.qualification_refusal(medium, phone, 100) is not None
    assert classes.qualification_refusal(medium, id_, 80) is None
    assert classes.qualification_refusal(xl, id_, 120) is not None
    assert classes.qualification_refusal(xl, id_, 120, approved=True) is None


def test_credit_is_skipped_without_a_credit_system() -> None:
    """B1: until the credit system exists (score None), only identity counts."""
    small = rooms().classes["small"]
    assert classes.qualification_refusal(small, IdentityLevel.PHONE, None) is None


def test_creation_refuses_what_the_class_forbids() -> None:
    """C5, B7, B3: encryption in initial_state, remote invitees, too many
    invitees are refused before anything is created."""
    cn = rooms()
    small = Placement("small", None)
    enc = [{"type": "m.room.encryption", "content": {}}]
    refusal = classes.creation_refusal(cn, small, enc, [], 0)
    assert refusal is not None and refusal.reason is Reason.ENCRYPTION_FORBIDDEN
    refusal = classes.creation_refusal(cn, small, [], ["@x:remote.example"], 1)
    assert refusal is not None and refusal.reason is Reason.FEDERATION_FORBIDDEN
    assert refusal.params["server"] == "remote.example"
    refusal = classes.creation_refusal(cn, small, [], [], 40)
    assert refusal is not None and refusal.params == {"limit": 40}
    assert classes.creation_refusal(cn, small, [], [], 39) is None
    generic = rooms("generic")
    assert (
        classes.creation_refusal(generic, Placement("medium", None), enc, [], 0) is None
    )


def test_moving_needs_the_room_to_fit() -> None:
    """B2: members within the cap, no encryption or remote members where
    the class forbids them."""
    small = rooms().classes["small"]
    assert classes.moving_refusal(small, 40, False, []) is None
    too_many = classes.moving_refusal(small, 41, False, [])
    assert too_many is not None and too_many.reason is Reason.CLASS_NOT_QUALIFIED
    encrypted = classes.moving_refusal(small, 2, True, [])
    assert encrypted is not None and encrypted.reason is Reason.ENCRYPTION_FORBIDDEN
    remote = classes.moving_refusal(small, 2, False, ["other.example"])
    assert remote is not None and remote.reason is Reason.FEDERATION_FORBIDDEN


# -- caps (B3, B6) ----------------------------------------------------------------


def _rules(**overrides: object) -> SeatRules:
    values: dict[str, object] = {
        "member_cap": 10,
        "info_required_at": None,
        "has_info": False,
        "verified_from": None,
        "joiner_verified": False,
        "joined_limit": None,
        "bot_name": "bot",
    }
    values.update(overrides)
    return SeatRules(**values)  # type: ignore[arg-type]


def test_room_cap_counts_the_newcomer() -> None:
    """B3: with cap 10, nine others leave one seat; ten leave none."""
    assert seat_refusal(_rules(), SeatCounts(9, None)) is None
    full = seat_refusal(_rules(), SeatCounts(10, None))
    assert full is not None and full.reason is Reason.ROOM_FULL
    assert full.params == {"limit": 10}


def test_room_info_required_from_the_threshold() -> None:
    """B6: from 100 members on, no more joins without name and category."""
    rules = _rules(member_cap=500, info_required_at=100)
    assert seat_refusal(rules, SeatCounts(99, None)) is None
    refusal = seat_refusal(rules, SeatCounts(100, None))
    assert refusal is not None and refusal.reason is Reason.ROOM_INFO_REQUIRED
    assert (
        seat_refusal(
            _rules(member_cap=500, info_required_at=100, has_info=True),
            SeatCounts(100, None),
        )
        is None
    )


def test_verified_joiners_above_the_threshold() -> None:
    """B1: large classes admit only verified joiners."""
    rules = _rules(verified_from=0)
    refusal = seat_refusal(rules, SeatCounts(0, None))
    assert refusal is not None and refusal.reason is Reason.IDENTITY_REQUIRED
    assert (
        seat_refusal(_rules(verified_from=0, joiner_verified=True), SeatCounts(0, None))
        is None
    )
    assert seat_refusal(_rules(verified_from=5), SeatCounts(4, None)) is None


def test_join_limit_per_user() -> None:
    """B3: groups joined per user."""
    rules = _rules(joined_limit=500)
    assert seat_refusal(rules, SeatCounts(1, 499)) is None
    refusal = seat_refusal(rules, SeatCounts(1, 500))
    assert refusal is not None and refusal.reason is Reason.JOIN_LIMIT


def test_creation_caps_total_and_per_class() -> None:
    """B3: groups created per user, in total and per class."""
    config = rooms(classes={"a": {"member_cap": 5, "created_per_user": 2}})
    a = config.classes["a"]
    assert creation_cap_refusal(config, a, CreationCounts(1, 1, 0)) is None
    per_class = creation_cap_refusal(config, a, CreationCounts(2, 2, 0))
    assert per_class is not None and per_class.params == {"limit": 2}
    total = creation_cap_refusal(config, a, CreationCounts(50, 0, 0))
    assert total is not None and total.reason is Reason.CREATE_LIMIT
    assert total.params == {"limit": 50}
    joined = creation_cap_refusal(config, a, CreationCounts(0, 0, 500))
    assert joined is not None and joined.reason is Reason.JOIN_LIMIT


def test_admins_are_power_50_and_up() -> None:
    """B5: admins from a power-levels users map (malformed entries ignored)."""
    account = Accountability(None, None, 50)  # type: ignore[arg-type]
    users = {"@a:x": 100, "@b:x": 50, "@c:x": 49, "@d:x": "100", "@e:x": True}
    assert account.admins_of(users) == {"@a:x": 100, "@b:x": 50}


def test_every_pair_of_cn_classes_is_ordered_by_size() -> None:
    """B1: the cn defaults: small 40, medium 200, large 500, xl 2000."""
    caps = [c.member_cap for c in rooms().classes.values()]
    assert caps == [40, 200, 500, 2000]
    assert all(a < b for a, b in itertools.pairwise(caps))
