"""B8: the pure rules of timed mutes — durations, who may mute whom, what
a mute silences, and the room commands Element users type."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from synapse_groupreg.mutes.commands import Command, Kind, parse_command
from synapse_groupreg.mutes.model import (
    MAX_DURATION_MS,
    Actor,
    InvalidMute,
    MutesInForce,
    authority_refusal,
    parse_duration,
    refusal_of,
    silence_of,
    silences,
    target_refusal,
)
from synapse_groupreg.reasons import Reason
from synapse_groupreg.rooms.powers import Powers
from synapse_groupreg.store.mutes import ALL, MuteRow

ROOM = "!room:hs"


def _row(
    target: str,
    until: int = 10_000,
    platform: bool = False,
    exempt: tuple[str, ...] = (),
    mute_id: int = 1,
    lifted: int | None = None,
) -> MuteRow:
    return MuteRow(
        mute_id, ROOM, target, platform, "@admin:hs", "", exempt, 0, until, lifted, None
    )


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30s", 30_000),
        ("5m", 300_000),
        ("1h", 3_600_000),
        ("7d", 7 * 86_400_000),
        ("2w", 14 * 86_400_000),
        ("30分钟", 1_800_000),
        ("1小时", 3_600_000),
        ("3天", 3 * 86_400_000),
        (" 1H ", 3_600_000),
        (90, 90_000),
    ],
)
def test_durations_read_as_users_write_them(text: object, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize(
    "bad", ["", "1", "h", "1y", "0s", "31d", "5 parsecs", True, 1.5, None, "-1h", 0]
)
def test_bad_durations_are_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(InvalidMute) as e:
        parse_duration(bad)
    assert e.value.field == "duration"


def test_thirty_days_is_the_longest_mute() -> None:
    assert parse_duration("30d") == MAX_DURATION_MS


def test_a_mute_silences_speech_but_not_redactions_or_administration() -> None:
    for event_type in ("m.room.message", "m.reaction", "m.room.encrypted", "m.sticker"):
        assert silences(event_type, False)
    assert not silences("m.room.redaction", False)
    assert silences("m.room.topic", True) and silences("m.room.name", True)
    assert not silences("m.room.power_levels", True)
    assert not silences("org.groupreg.room", True)


def test_own_mute_comes_before_the_groups_and_exempt_speakers_pass() -> None:
    room = MutesInForce(
        [_row("@m:hs", until=500), _row(ALL, until=900, exempt=("@guest:hs",))]
    ).of_room(ROOM)
    assert room is not None
    own = silence_of(room, "@m:hs", 100)
    assert own is not None and not own.whole_group
    # Their own mute over, the group's still holds them.
    group = silence_of(room, "@m:hs", 600)
    assert group is not None and group.whole_group
    assert silence_of(room, "@guest:hs", 100) is None
    assert silence_of(room, "@other:hs", 950) is None  # both over


def test_a_later_mute_of_the_same_target_replaces_the_earlier() -> None:
    index = MutesInForce([_row("@m:hs", until=100), _row("@m:hs", 900, mute_id=2)])
    room = index.of_room(ROOM)
    assert room is not None and room["@m:hs"].id == 2
    assert index.of_room("!other:hs") is None


def test_refusals_say_until_when_and_whose_decision_never_who() -> None:
    member = refusal_of(_row("@m:hs"), "2026-12-03 22:00:00 UTC+08:00")
    assert member.reason is Reason.MEMBER_MUTED
    assert member.params["by"] == ("群管理员", "the group's admins")
    group = refusal_of(_row(ALL, platform=True), "later")
    assert group.reason is Reason.ROOM_MUTED
    assert group.params["by"] == ("平台", "the platform")
    assert "@admin:hs" not in repr(member.params) + repr(group.params)


def _event(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(**fields)


def _version(creator_power: bool) -> SimpleNamespace:
    return SimpleNamespace(msc4289_creator_power_enabled=creator_power)


def test_powers_of_v12_creators_are_above_every_level() -> None:
    create = _event(
        sender="@c:hs",
        room_version=_version(True),
        content={"additional_creators": ["@c2:hs"]},
    )
    power = _event(content={"users": {"@a:hs": 50, "@m:hs": 0}, "users_default": 0})
    powers = Powers.read(create, power)
    assert powers.of("@c:hs") == math.inf and powers.of("@c2:hs") == math.inf
    assert powers.of("@a:hs") == 50 and powers.of("@nobody:hs") == 0


def test_before_v12_the_creator_has_the_power_levels_gives() -> None:
    create = _event(sender="@c:hs", room_version=_version(False), content={})
    power = _event(content={"users": {"@c:hs": 100}, "users_default": 10})
    powers = Powers.read(create, power)
    assert powers.of("@c:hs") == 100 and powers.of("@x:hs") == 10


def test_only_admins_and_the_platform_may_mute() -> None:
    refusal = authority_refusal(Actor("@m:hs", False, 0), 50)
    assert refusal is not None and refusal.reason is Reason.MUTE_NOT_ALLOWED
    assert refusal.params["level"] == 50
    assert authority_refusal(Actor("@a:hs", False, 50), 50) is None
    assert authority_refusal(Actor("@p:hs", True, 0), 50) is None


def test_admins_mute_only_below_their_power_and_never_touch_the_platforms() -> None:
    admin = Actor("@a:hs", False, 50)
    assert target_refusal(admin, "@m:hs", 0, None) is None
    peer = target_refusal(admin, "@b:hs", 50, None)
    assert peer is not None and peer.reason is Reason.MUTE_PROTECTED
    creator = target_refusal(admin, "@c:hs", math.inf, None)
    assert creator is not None and creator.reason is Reason.MUTE_PROTECTED
    platform_mute = _row("@m:hs", platform=True)
    by_platform = target_refusal(admin, "@m:hs", 0, platform_mute)
    assert by_platform is not None and by_platform.reason is Reason.MUTE_BY_PLATFORM
    assert target_refusal(admin, ALL, 0, None) is None
    moderator = Actor("@p:hs", True, 0)
    assert target_refusal(moderator, "@c:hs", math.inf, platform_mute) is None


@pytest.mark.parametrize(
    ("body", "mentioned", "command"),
    [
        (
            "!mute @m:hs 1h spamming links",
            [],
            Command(Kind.MUTE, "@m:hs", 3_600_000, "spamming links"),
        ),
        (
            "！禁言 @m:hs 30分钟 刷屏",
            [],
            Command(Kind.MUTE, "@m:hs", 1_800_000, "刷屏"),
        ),
        # An Element pill: the display name in the body, the id in m.mentions.
        (
            "!mute Mary Smith 10m too loud",
            ["@m:hs"],
            Command(Kind.MUTE, "@m:hs", 600_000, "too loud"),
        ),
        ("!unmute @m:hs", [], Command(Kind.UNMUTE, "@m:hs")),
        ("!解除禁言 Mary", ["@m:hs"], Command(Kind.UNMUTE, "@m:hs")),
        (
            "!muteall 30m @speaker:hs lecture",
            [],
            Command(Kind.MUTE_ALL, ALL, 1_800_000, "lecture", ("@speaker:hs",)),
        ),
        ("!unmuteall", [], Command(Kind.UNMUTE_ALL)),
        ("!MUTES", [], Command(Kind.LIST)),
    ],
)
def test_room_commands(body: str, mentioned: list[str], command: Command) -> None:
    assert parse_command(body, mentioned) == command


@pytest.mark.parametrize(
    "body", ["hello", "!", "!help", "mute @m:hs 1h", "!mutex @m:hs 1h", ""]
)
def test_other_messages_are_not_commands(body: str) -> None:
    assert parse_command(body, []) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("!mute", "user_id"),
        ("!mute @m:hs", "duration"),
        ("!mute @m:hs forever", "duration"),
        ("!mute Mary", "user_id"),
        ("!muteall", "duration"),
        ("!muteall 40d", "duration"),
    ],
)
def test_bad_commands_say_what_is_missing(body: str, field: str) -> None:
    with pytest.raises(InvalidMute) as e:
        parse_command(body, [])
    assert e.value.field == field
