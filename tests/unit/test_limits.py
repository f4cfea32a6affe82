"""The pure rules of the limits (B9, D7): the sliding windows, mention
counting, the event stage's decision (group admins exempt from the class
limits, not from the band's), the join rule a wave sets, the band hooks
Synapse asks, and the config's errors naming the key."""

from __future__ import annotations

from typing import Any

import pytest
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.config._base import ConfigError

from synapse_groupreg.config import Language, parse_config
from synapse_groupreg.config.credit import BandLimits, CreditBand
from synapse_groupreg.config.rooms import ClassLimits
from synapse_groupreg.limits.bands import INVITES_LIMITER, BandHooks
from synapse_groupreg.limits.counting import Window
from synapse_groupreg.limits.decide import Limiter
from synapse_groupreg.limits.mentions import mention_count, mentioned
from synapse_groupreg.limits.waves import wave_rule
from synapse_groupreg.reasons import Reason, message
from synapse_groupreg.sanctions.statements import display_duration

# -- windows -----------------------------------------------------------------


def test_a_window_allows_limit_actions_then_says_when() -> None:
    window = Window(1000)
    for t in (0, 100, 200):
        assert window.retry_at("k", 3, t) is None
        window.add("k", 3, t)
    assert window.retry_at("k", 3, 300) == 1000
    assert window.retry_at("k", 3, 999) == 1000
    assert window.retry_at("k", 3, 1000) is None
    window.add("k", 3, 1000)
    assert window.retry_at("k", 3, 1050) == 1100


def test_keys_are_counted_apart_and_pruned() -> None:
    window = Window(1000)
    window.add("a", 1, 0)
    window.add("b", 1, 500)
    assert window.retry_at("a", 1, 10) == 1000
    assert window.retry_at("c", 1, 10) is None
    assert window.prune(1200) == 1
    assert len(window) == 1


def test_add_counts_what_lies_within_the_window() -> None:
    window = Window(1000)
    counts = []
    for t in (0, 10, 20):
        window.add("r", 5, t)
        counts.append(window.count("r", t))
    assert counts == [1, 2, 3]
    window.add("r", 5, 1015)
    assert window.count("r", 1015) == 2 and window.count("x", 0) == 0


# -- mentions ----------------------------------------------------------------

A, B, C = "@alice:example.org", "@bob:example.org", "@carol:other.example:8448"


@pytest.mark.parametrize(
    ("content", "count"),
    [
        ({"body": "hello"}, 0),
        ({"body": "mail me at a@b"}, 0),
        ({"body": "hi", "m.mentions": {"user_ids": [A, B]}}, 2),
        ({"body": f"{A} {A}", "m.mentions": {"user_ids": [A]}}, 1),
        ({"body": "@room hello"}, 1),
        ({"body": "hi", "m.mentions": {"room": True}}, 1),
        ({"body": f"{A} and {C}"}, 2),
        (
            {
                "body": "A B",
                "formatted_body": '<a href="https://matrix.to/#/%40alice%3Aexample.org">'
                'A</a> <a href="https://matrix.to/#/@bob:example.org">B</a>',
            },
            2,
        ),
        ({"body": f"@room {A}", "m.mentions": {"user_ids": [A, B], "room": True}}, 3),
        ({"body": "x", "m.mentions": {"user_ids": "not a list"}}, 0),
    ],
)
def test_mentions_count_each_user_once(content: dict[str, Any], count: int) -> None:
    assert mention_count(content) == count


def test_mentioned_names_the_users() -> None:
    users, room = mentioned({"body": f"{A} @room", "m.mentions": {"user_ids": [B]}})
    assert users == {A, B} and room


# -- the event stage's decision -------------------------------------------------

LIMITS = ClassLimits(messages_per_minute=2, mentions_per_message=1)
LOW = CreditBand("low", 0, frozenset(), BandLimits(messages_per_minute=3))


async def _decide(
    limiter: Limiter,
    now: int,
    *,
    sender: str = A,
    content: dict[str, Any] | None = None,
    limits: ClassLimits | None = LIMITS,
    band: CreditBand | None = None,
    admin: bool = False,
) -> Reason | None:
    asked: list[bool] = []

    async def is_admin() -> bool:
        asked.append(True)
        return admin

    refusal = await limiter.decide(
        "!room",
        sender,
        content or {"body": "hi"},
        limits,
        (40, band) if band is not None else None,
        is_admin,
        now,
    )
    if refusal is None:
        return None
    assert message(refusal, Language.BILINGUAL)
    return refusal.reason


async def test_flood_then_free_after_the_window() -> None:
    limiter = Limiter(60_000)
    assert await _decide(limiter, 0) is None
    assert await _decide(limiter, 1) is None
    assert await _decide(limiter, 2) is Reason.FLOOD_LIMIT
    assert await _decide(limiter, 2, sender=B) is None
    assert await _decide(limiter, 60_000) is None


async def test_refused_messages_are_not_counted() -> None:
    limiter = Limiter(1000)
    for t in (0, 1):
        await _decide(limiter, t)
    for t in range(2, 900, 50):
        assert await _decide(limiter, t) is Reason.FLOOD_LIMIT
    assert await _decide(limiter, 1001) is None


async def test_group_admins_are_exempt_from_class_limits_only() -> None:
    limiter = Limiter(60_000)
    many = {"body": f"{A} {B}"}
    assert await _decide(limiter, 0, content=many) is Reason.MENTION_LIMIT
    assert await _decide(limiter, 0, content=many, admin=True) is None
    for t in range(5):
        assert await _decide(limiter, t, sender=C, admin=True) is None
    for t in range(3):
        assert await _decide(limiter, t, sender=B, limits=None, band=LOW) is None
    reason = await _decide(limiter, 4, sender=B, limits=None, band=LOW, admin=True)
    assert reason is Reason.CREDIT_RATE_LIMIT


async def test_the_state_is_read_only_when_a_limit_would_refuse() -> None:
    limiter = Limiter(60_000)
    calls = 0

    async def is_admin() -> bool:
        nonlocal calls
        calls += 1
        return False

    for t in range(3):
        await limiter.decide("!r", A, {"body": "x"}, LIMITS, None, is_admin, t)
    assert calls == 1


async def test_the_credit_rate_refusal_names_score_band_and_wait() -> None:
    limiter = Limiter(60_000)
    for t in range(3):
        await limiter.decide("!r", A, {}, None, (40, LOW), _never, t)
    refusal = await limiter.decide("!r", A, {}, None, (40, LOW), _never, 30_000)
    assert refusal is not None and refusal.reason is Reason.CREDIT_RATE_LIMIT
    text = message(refusal, Language.BILINGUAL)
    assert "您的信用分为 40（“low”档）" in text and "try again in 30 seconds" in text


async def _never() -> bool:
    raise AssertionError("the band's limit does not ask whether one is an admin")


def test_display_duration() -> None:
    assert display_duration(60_000) == ("1 分钟", "1 minute")
    assert display_duration(120_000) == ("2 分钟", "2 minutes")
    assert display_duration(3_000) == ("3 秒", "3 seconds")


# -- join waves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "version", "after"),
    [
        ("public", "12", "knock"),
        ("restricted", "12", "knock_restricted"),
        ("restricted", "9", "knock"),
        ("public", "6", "invite"),
    ],
)
def test_the_rule_a_wave_sets(before: str, version: str, after: str) -> None:
    assert wave_rule(before, KNOWN_ROOM_VERSIONS[version]) == after


# -- what the bands tell Synapse ---------------------------------------------------


class _Credit:
    def __init__(self, band: CreditBand) -> None:
        self.band = band

    async def band_of(self, user_id: str) -> tuple[int, CreditBand]:
        return 10, self.band


async def test_band_hooks() -> None:
    band = CreditBand(
        "low",
        0,
        frozenset(),
        BandLimits(
            invites_per_minute=6, max_upload_size=1024, upload_bytes_per_day=4096
        ),
    )
    hooks = BandHooks(_Credit(band), lambda u: u == "@bot:x")  # type: ignore[arg-type]
    override = await hooks.ratelimit_override(A, INVITES_LIMITER)
    assert override is not None
    assert (override.per_second, override.burst_count) == (0.1, 6)
    assert await hooks.ratelimit_override(A, "rc_invites.per_room") is None
    assert await hooks.ratelimit_override("@bot:x", INVITES_LIMITER) is None
    assert await hooks.upload_size_allowed(A, 1024)
    assert not await hooks.upload_size_allowed(A, 1025)
    limits = await hooks.upload_limits(A)
    assert limits is not None and [(x.max_bytes, x.time_period_ms) for x in limits] == [
        (4096, 86_400_000)
    ]
    plain = BandHooks(
        _Credit(CreditBand("ok", 0, frozenset())),  # type: ignore[arg-type]
        lambda u: False,
    )
    assert await plain.ratelimit_override(A, INVITES_LIMITER) is None
    assert await plain.upload_limits(A) is None
    assert await plain.upload_size_allowed(A, 10**9)


# -- config ---------------------------------------------------------------------


def test_limits_are_off_by_default() -> None:
    for profile in ("cn", "generic"):
        config = parse_config({"profile": profile})
        assert not any(c.limits.on for c in config.rooms.classes.values())
        assert not any(b.limits.on for b in config.credit.bands)
        assert config.rooms.limits_window_ms == 60_000


def test_limits_are_read() -> None:
    config = parse_config(
        {
            "profile": "generic",
            "rooms": {
                "limits_window": "30s",
                "classes": {
                    "a": {
                        "member_cap": 5,
                        "limits": {"messages_per_minute": 20, "join_cooldown": "5m"},
                    }
                },
                "default_class": "a",
            },
            "credit": {
                "bands": {
                    "all": {
                        "from": 0,
                        "rate_limits": {"invites_per_minute": 3},
                        "media": {
                            "max_upload_size": "10M",
                            "upload_bytes_per_day": "1G",
                        },
                    }
                }
            },
        }
    )
    limits = config.rooms.classes["a"].limits
    assert (limits.messages_per_minute, limits.join_cooldown_ms) == (20, 300_000)
    assert config.rooms.limits_window_ms == 30_000
    band = config.credit.bands[0].limits
    assert (band.invites_per_minute, band.max_upload_size) == (3, 10 * 1024**2)
    assert band.upload_bytes_per_day == 1024**3


@pytest.mark.parametrize(
    ("raw", "path", "text"),
    [
        (
            {"rooms": {"classes": {"a": {"member_cap": 5, "limits": {"flood": 1}}}}},
            ("rooms", "classes", "a", "limits", "flood"),
            "unknown key 'flood'",
        ),
        (
            {
                "rooms": {
                    "classes": {
                        "a": {"member_cap": 5, "limits": {"messages_per_minute": 0}}
                    }
                }
            },
            ("rooms", "classes", "a", "limits", "messages_per_minute"),
            "the minimum is 1",
        ),
        (
            {
                "rooms": {
                    "classes": {
                        "a": {"member_cap": 5, "limits": {"join_cooldown": "0s"}}
                    }
                }
            },
            ("rooms", "classes", "a", "limits", "join_cooldown"),
            "between '1s' and '7d'",
        ),
        (
            {"rooms": {"limits_window": "2h"}},
            ("rooms", "limits_window"),
            "between '1s' and '1h'",
        ),
        (
            {
                "credit": {
                    "bands": {"x": {"from": 0, "media": {"max_upload_size": "big"}}}
                }
            },
            ("credit", "bands", "x", "media", "max_upload_size"),
            "expected a size",
        ),
        (
            {"credit": {"bands": {"x": {"from": 0, "rate_limits": {"per_day": 1}}}}},
            ("credit", "bands", "x", "rate_limits", "per_day"),
            "unknown key 'per_day'",
        ),
    ],
)
def test_config_errors_name_the_key(
    raw: dict[str, Any], path: tuple[str, ...], text: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "generic", **raw})
    assert tuple(caught.value.path or ()) == path
    assert text in str(caught.value)
