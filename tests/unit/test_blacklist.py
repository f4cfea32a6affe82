"""D4: blacklist matching (exact, globs, servers, persons, expiry) and the
Matrix policy-list exchange with Draupnir/Mjolnir."""

from __future__ import annotations

import pytest

from synapse_groupreg.blacklist.model import (
    BlacklistIndex,
    InvalidEntry,
    check_target,
    glob_regex,
    refusal_for,
)
from synapse_groupreg.blacklist.policy import export_rules, read_rules
from synapse_groupreg.config import Language
from synapse_groupreg.reasons import message
from synapse_groupreg.store.blacklist import BlacklistRow

NOW = 1_000_000
HASH = "ab" * 32


def entry(
    n: int,
    kind: str,
    target: str,
    expires: int = NOW + 1000,
    linked: tuple[str, ...] = (),
) -> BlacklistRow:
    return BlacklistRow(
        n, kind, target, "r", "@admin:hs", "admin", 0, expires, linked, None, None, None
    )


def test_users_exact_and_by_glob() -> None:
    """D4: user entries match exactly or by policy-list glob."""
    index = BlacklistIndex(
        [
            entry(1, "user", "@bad:hs"),
            entry(2, "user", "@spam*:hs"),
            entry(3, "user", "@?x:o"),
        ]
    )
    assert index.user("@bad:hs", NOW) is not None
    assert index.user("@spammer:hs", NOW) is not None
    assert index.user("@ax:o", NOW) is not None
    assert index.user("@good:hs", NOW) is None
    assert index.user("@abx:o", NOW) is None


def test_a_listed_server_lists_all_its_users() -> None:
    """D4: a server entry blocks every user of the server, with or without
    its port, case-insensitively; globs cover subdomains."""
    index = BlacklistIndex(
        [entry(1, "server", "Evil.example"), entry(2, "server", "*.bad.org")]
    )
    listed = index.user("@anyone:evil.example:8448", NOW)
    assert listed is not None and listed.kind == "server"
    assert index.user("@x:a.bad.org", NOW) is not None
    assert index.user("@x:bad.org", NOW) is None
    assert index.server("EVIL.EXAMPLE", NOW) is not None


def test_expired_entries_stop_applying_without_a_reload() -> None:
    """D4: expiry is compared with the clock at each question, including
    answers memoised for a user."""
    index = BlacklistIndex([entry(1, "user", "@bad:hs", expires=NOW + 10)])
    assert index.user("@bad:hs", NOW) is not None
    assert index.user("@bad:hs", NOW + 10) is None
    globbed = BlacklistIndex([entry(1, "server", "*.x", expires=NOW + 10)])
    assert globbed.user("@a:b.x", NOW) is not None
    assert globbed.user("@a:b.x", NOW + 11) is None


def test_person_entries_block_their_accounts() -> None:
    """D4: a person entry blocks the accounts verified with the document."""
    index = BlacklistIndex([entry(1, "person", HASH, linked=("@a:hs", "@b:hs"))])
    listed = index.user("@b:hs", NOW)
    assert listed is not None and listed.kind == "person"
    assert index.person(HASH, NOW) is not None
    assert index.person("cd" * 32, NOW) is None


def test_rooms_by_id_alias_or_glob() -> None:
    index = BlacklistIndex([entry(1, "room", "!abc"), entry(2, "room", "#casino*:hs")])
    assert index.room("!abc", (), NOW) is not None
    assert index.room("!other", ["#casino-royal:hs"], NOW) is not None
    assert index.room("!other", ["#chess:hs"], NOW) is None


def test_refusals_name_what_is_listed() -> None:
    """D4/G3: BLACKLISTED says whose account, which server, or the group."""
    index = BlacklistIndex([entry(1, "server", "evil.example")])
    listed = index.user("@x:evil.example", NOW)
    assert listed is not None
    text = message(refusal_for(listed, "self"), Language.EN)
    assert text == "Your server evil.example is on the blacklist."
    assert "被邀请" not in message(refusal_for(listed, "invitee"), Language.ZH_HANS)


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("user", "bob"),
        ("user", "!room:hs"),
        ("room", "@bob:hs"),
        ("server", "@bob:hs"),
        ("person", "not-a-hash"),
        ("user", " "),
    ],
)
def test_targets_are_checked_for_their_kind(kind: str, target: str) -> None:
    with pytest.raises(InvalidEntry) as caught:
        check_target(kind, target)
    assert caught.value.field == "target"


def test_glob_regex_escapes_everything_else() -> None:
    assert glob_regex("@a.b*:x") == r"@a\.b.*:x"


def test_policy_rules_read_stable_and_legacy_types() -> None:
    """D4: import reads m.policy.rule.* and the older Mjolnir types, bans
    only; removed rules (empty content) are skipped, each with why."""
    events = [
        {
            "type": "m.policy.rule.user",
            "state_key": "r1",
            "content": {
                "entity": "@spam*:hs",
                "recommendation": "m.ban",
                "reason": "spam",
            },
        },
        {
            "type": "org.matrix.mjolnir.rule.server",
            "state_key": "r2",
            "content": {
                "entity": "evil.example",
                "recommendation": "org.matrix.mjolnir.ban",
            },
        },
        {"type": "m.policy.rule.room", "state_key": "r3", "content": {}},
        {
            "type": "m.policy.rule.user",
            "state_key": "r4",
            "content": {"entity": "@x:hs", "recommendation": "org.example.mute"},
        },
        {"type": "m.room.name", "state_key": "", "content": {"name": "My ban list"}},
        {
            "type": "m.policy.rule.user",
            "state_key": "r5",
            "content": {"entity": "nobody", "recommendation": "m.ban"},
        },
        "junk",
    ]
    rules, skipped = read_rules(events)
    assert [(r.kind, r.target, r.reason) for r in rules] == [
        ("user", "@spam*:hs", "spam"),
        ("server", "evil.example", "policy list"),
    ]
    assert [s.index for s in skipped] == [2, 3, 4, 5, 6]
    assert "not a ban" in skipped[1].why


def test_policy_export_round_trips_and_keeps_persons_home() -> None:
    """D4: exported rules are m.policy.rule.* with m.ban and read back the
    same; persons (a keyed hash, personal data) are never exported."""
    rows = [
        entry(1, "user", "@bad:hs"),
        entry(2, "room", "#casino:hs"),
        entry(3, "server", "*.evil.example"),
        entry(4, "person", HASH),
    ]
    events, persons = export_rules(rows)
    assert persons == 1
    assert [e["type"] for e in events] == [
        "m.policy.rule.user",
        "m.policy.rule.room",
        "m.policy.rule.server",
    ]
    assert all(e["content"]["recommendation"] == "m.ban" for e in events)
    rules, skipped = read_rules(events)
    assert not skipped
    assert [(r.kind, r.target) for r in rules] == [
        ("user", "@bad:hs"),
        ("room", "#casino:hs"),
        ("server", "*.evil.example"),
    ]
