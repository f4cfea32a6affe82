"""G1 for the `rooms:` section (B1-B7): every key checked, errors name it."""

from __future__ import annotations

from typing import Any

import pytest
from synapse.config._base import ConfigError

from synapse_groupreg.config import parse_config
from synapse_groupreg.identity.levels import IdentityLevel
from tests.unit.test_config import example


def error_of(rooms: object, profile: str = "cn") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": profile, "rooms": rooms})
    return caught.value


def test_cn_defaults_are_the_b1_classes() -> None:
    """B1: small <=40 phone/60, medium <=200 id/80, large <=500 id/90 with
    verified joiners, xl <=2000 with approval; no encryption or federation."""
    rooms = parse_config({"profile": "cn"}).rooms
    small, large, xl = (rooms.classes[n] for n in ("small", "large", "xl"))
    assert (small.member_cap, small.create_identity, small.create_min_credit) == (
        40,
        IdentityLevel.PHONE,
        60,
    )
    assert large.join_verified_from == 0 and xl.create_approval
    assert not any(c.encryption or c.federation for c in rooms.classes.values())
    assert (rooms.created_per_user, rooms.joined_per_user) == (50, 500)
    assert rooms.info_required_at == 100 and rooms.default_class == "small"


def test_generic_defaults_allow_federation_and_no_identity() -> None:
    rooms = parse_config({"profile": "generic"}).rooms
    assert all(c.federation and c.encryption for c in rooms.classes.values())
    assert all(c.create_identity is IdentityLevel.NONE for c in rooms.classes.values())
    assert rooms.info_required_at is None


@pytest.mark.parametrize("name", ["cn.yaml", "generic.yaml"])
def test_examples_show_the_defaults(name: str) -> None:
    block = example(name)
    assert (
        parse_config(block).rooms == parse_config({"profile": block["profile"]}).rooms
    )


@pytest.mark.parametrize(
    ("rooms", "path", "message"),
    [
        ({"clases": {}}, ("rooms", "clases"), "unknown key 'clases'"),
        (
            {"default_class": "huge"},
            ("rooms", "default_class"),
            "try one of: small, medium, large, xl",
        ),
        (
            {"classes": {"a": {"member_cap": 1}}},
            ("rooms", "classes", "a", "member_cap"),
            "the minimum is 2",
        ),
        (
            {"classes": {"a": {}}},
            ("rooms", "classes", "a", "member_cap"),
            "'member_cap' is required",
        ),
        (
            {"classes": {"direct": {"member_cap": 5}}},
            ("rooms", "classes", "direct"),
            "names direct chats",
        ),
        (
            {"classes": {"a": {"member_cap": 5, "create": {"identity": "passport"}}}},
            ("rooms", "classes", "a", "create", "identity"),
            "try one of: none, phone, id",
        ),
        (
            {"classes": {"a": {"member_cap": 5, "create": {"min_credit": 121}}}},
            ("rooms", "classes", "a", "create", "min_credit"),
            "the maximum is 120",
        ),
        (
            {"classes": {"a": {"member_cap": 5, "categories": []}}},
            ("rooms", "classes", "a", "categories"),
            "at least one category",
        ),
        (
            {"classes": {"a": {"member_cap": 5, "join": {"from": 3}}}},
            ("rooms", "classes", "a", "join", "from"),
            "unknown key 'from'",
        ),
        ({"code_prefix": "g1"}, ("rooms", "code_prefix"), "1 to 4 capital letters"),
        ({"seat_hold": "2h"}, ("rooms", "seat_hold"), "between '1s' and '1h'"),
        ({"seat_hold": 60}, ("rooms", "seat_hold"), "expected a duration"),
        (
            {"federation_allowlist": ["@x:y"]},
            ("rooms", "federation_allowlist"),
            "is not a server name",
        ),
        ({"direct": {"encrypt": True}}, ("rooms", "direct", "encrypt"), "unknown key"),
        ({"joined_per_user": 0}, ("rooms", "joined_per_user"), "the minimum is 1"),
    ],
)
def test_bad_rooms_config_names_the_key(
    rooms: dict[str, Any], path: tuple[str, ...], message: str
) -> None:
    """G1: a wrong key or value names its path and what is allowed."""
    e = error_of(rooms)
    assert e.path == path, e
    assert message in e.msg, e.msg


def test_info_rule_can_be_turned_off_and_on() -> None:
    """B6: null turns the room-info rule off; generic can turn it on."""
    assert (
        parse_config(
            {"profile": "cn", "rooms": {"info_required_at": None}}
        ).rooms.info_required_at
        is None
    )
    assert (
        parse_config(
            {"profile": "generic", "rooms": {"info_required_at": 30}}
        ).rooms.info_required_at
        == 30
    )
