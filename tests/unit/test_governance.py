"""G7, F1: the pure rules of governance: who holds which role, what a
change of `roles:` audits, the config keys, and checkpoint signatures and
the verdict over a chain and its checkpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from signedjson.key import generate_signing_key, get_verify_key
from synapse.config._base import ConfigError

from synapse_groupreg.audit import entry_hash
from synapse_groupreg.config import parse_config
from synapse_groupreg.governance.checkpoints import (
    BadCheckpoint,
    Checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    signature_problem,
)
from synapse_groupreg.governance.roles import (
    ALL_ROLES,
    Role,
    RolePolicy,
    covers,
    role_changes,
)
from synapse_groupreg.governance.verdict import (
    ChainFacts,
    Copy,
    check_checkpoints,
    first_bad,
)

SERVER = "example.org"
KEY = generate_signing_key("a_test")
KEYS: dict[str, Any] = {"ed25519:a_test": get_verify_key(KEY)}


# -- roles -----------------------------------------------------------------


def test_without_roles_server_admins_hold_all() -> None:
    """G7: no `roles` section keeps today's rule."""
    policy = parse_config({"profile": "generic"}).roles
    assert not policy.configured
    assert policy.roles_of("@a:hs", True) == ALL_ROLES
    assert policy.roles_of("@a:hs", False) == frozenset()


def test_configured_roles_ignore_server_admin_rights() -> None:
    """G7: once roles are configured only holders hold them; owner covers
    every route's role."""
    policy = parse_config(
        {
            "profile": "generic",
            "roles": {"owner": ["@boss:hs"], "auditor": ["@aud:hs", "@boss:hs"]},
        }
    ).roles
    assert policy.roles_of("@root:hs", True) == frozenset()
    assert policy.roles_of("@aud:hs", False) == {Role.AUDITOR}
    assert covers({Role.OWNER}, Role.MODERATOR)
    assert not covers({Role.AUDITOR}, Role.MODERATOR)
    assert policy.holders()["auditor"] == ["@aud:hs", "@boss:hs"]


@pytest.mark.parametrize(
    ("roles", "path", "words"),
    [
        ({"auditor": ["@a:hs"]}, ("roles", "owner"), "at least one owner"),
        ({"owner": ["@a:hs"], "janitor": []}, ("roles", "janitor"), "not a role"),
        ({"owner": ["alice"]}, ("roles", "owner"), "not a Matrix user id"),
        ({"owner": "@a:hs"}, ("roles", "owner"), "expected a list"),
    ],
)
def test_bad_roles_name_the_key(
    roles: dict[str, Any], path: tuple[str, ...], words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "generic", "roles": roles})
    assert tuple(caught.value.path or ()) == path
    assert words in caught.value.msg


def test_role_changes_are_grants_revocations_and_mode() -> None:
    """G7: what a start audits: the first start with roles grants all;
    later only the differences; dropping the section switches the mode."""
    policy = RolePolicy({Role.OWNER: frozenset({"@b:hs"}), Role.AUDITOR: frozenset()})
    first = role_changes(frozenset(), None, policy)
    assert first.granted == (("@b:hs", "owner"),) and first.mode == "configured"
    same = role_changes(frozenset({("@b:hs", "owner")}), "configured", policy)
    assert same.empty
    later = role_changes(
        frozenset({("@b:hs", "owner"), ("@x:hs", "auditor")}), "configured", policy
    )
    assert later.revoked == (("@x:hs", "auditor"),) and later.mode is None
    off = role_changes(frozenset({("@b:hs", "owner")}), "configured", RolePolicy(None))
    assert off.revoked == (("@b:hs", "owner"),) and off.mode == "server_admins"


def test_reveal_and_checkpoint_keys() -> None:
    """A6, F1: defaults per profile, and bad values named."""
    cn, generic = parse_config({"profile": "cn"}), parse_config({"profile": "generic"})
    assert (cn.identity.reveal.approvals, generic.identity.reveal.approvals) == (1, 0)
    assert cn.identity.reveal.notify_subject is False
    assert cn.audit.checkpoints.key == "homeserver"
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "cn", "identity": {"reveal": {"approvals": 9}}})
    assert tuple(caught.value.path or ()) == ("identity", "reveal", "approvals")
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "cn", "audit": {"checkpoints": {"room": "#a:hs"}}})
    assert tuple(caught.value.path or ()) == ("audit", "checkpoints", "room")


# -- checkpoints -------------------------------------------------------------


def chain(count: int) -> list[tuple[int, str]]:
    """(seq, hash) of a chain of `count` entries."""
    out, prev = [], ""
    for seq in range(1, count + 1):
        prev = entry_hash(prev, seq, seq, "system", "x", "", "{}")
        out.append((seq, prev))
    return out


def checkpoints_of(entries: list[tuple[int, str]], at: list[int]) -> list[Checkpoint]:
    made: list[Checkpoint] = []
    for n, seq in enumerate(at, start=1):
        prev = made[-1] if made else None
        made.append(
            sign_checkpoint(n, seq, entries[seq - 1][1], seq, prev, SERVER, KEY)
        )
    return made


def facts(entries: list[tuple[int, str]]) -> ChainFacts:
    return ChainFacts(
        entries=len(entries),
        last_seq=entries[-1][0] if entries else 0,
        break_seq=None,
        break_problem=None,
        hashes=dict(entries),
    )


def test_a_checkpoint_is_signed_and_linked() -> None:
    made = checkpoints_of(chain(5), [2, 5])
    assert made[1].prev == made[0].digest
    assert signature_problem(made[1], SERVER, KEYS) is None
    forged = json.loads(made[1].body)
    forged["seq"] = 4
    bad = parse_checkpoint(json.dumps(forged))
    assert "does not verify" in (signature_problem(bad, SERVER, KEYS) or "")
    other = {"ed25519:other": get_verify_key(generate_signing_key("other"))}
    assert "none of this server's keys" in (
        signature_problem(made[0], SERVER, other) or ""
    )
    with pytest.raises(BadCheckpoint):
        parse_checkpoint('{"type": "something else"}')


def test_sound_chain_and_checkpoints_pass() -> None:
    entries = chain(6)
    bodies = [c.body for c in checkpoints_of(entries, [2, 5])]
    problems, last = check_checkpoints(
        facts(entries),
        [Copy("database", bodies, ""), Copy("file", bodies, "")],
        SERVER,
        KEYS,
    )
    assert problems == [] and last is not None and last.n == 2


def test_a_rewritten_chain_is_named_between_checkpoints() -> None:
    """F1: entries rewritten with recomputed hashes: the first checkpoint
    that no longer matches names the range since the last that does."""
    entries = chain(9)
    bodies = [c.body for c in checkpoints_of(entries, [3, 6, 9])]
    rewritten = entries[:4] + [(seq, "f" * 64) for seq, _ in entries[4:]]
    problems, _ = check_checkpoints(
        facts(rewritten), [Copy("database", bodies, "")], SERVER, KEYS
    )
    assert [(p.kind, p.first_seq, p.last_seq, p.checkpoint) for p in problems] == [
        ("rewritten", 4, 6, 2)
    ]
    assert first_bad(problems) is problems[0]


def test_cut_entries_and_missing_checkpoints_are_named() -> None:
    entries = chain(8)
    made = checkpoints_of(entries, [3, 8])
    bodies = [c.body for c in made]
    problems, _ = check_checkpoints(
        facts(entries[:5]), [Copy("database", bodies, "")], SERVER, KEYS
    )
    assert [(p.kind, p.first_seq, p.last_seq) for p in problems] == [
        ("truncated", 6, 8)
    ]
    problems, _ = check_checkpoints(
        facts(entries),
        [Copy("database", bodies[:1], ""), Copy("file", bodies, "")],
        SERVER,
        KEYS,
    )
    assert [(p.kind, p.checkpoint) for p in problems] == [("checkpoint_missing", 2)]
    assert "missing from the database (the file has it)" in problems[0].message
    problems, _ = check_checkpoints(
        facts(entries), [Copy("database", bodies[1:], "")], SERVER, KEYS
    )
    assert ("checkpoint_missing", 1) in [(p.kind, p.checkpoint) for p in problems]
