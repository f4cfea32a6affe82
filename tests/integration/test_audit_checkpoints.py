"""F1: an audit log that a database writer cannot rewrite unnoticed.

The chain's head is signed into checkpoints (the homeserver's signing key,
which the database does not hold) kept in the database and in an
append-only file. Three attacks by someone who can write the database, each
found and named by `/audit/verify` and by `groupreg export-verify` against
the live server: an entry changed with every hash after it recomputed; the
newest entries deleted; a checkpoint deleted. Each test undoes its
tampering, so one homeserver serves them all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synapse_groupreg.audit import entry_hash
from tests.harness.client import Http, run_cli
from tests.harness.homeserver import Homeserver, User
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"
COLUMNS = "seq, ts, actor, action, target, details, prev_hash, hash"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Iterator[Homeserver]:
    server = homeservers(None, start=False)
    server.module_config = {
        "profile": "generic",
        "audit": {
            "checkpoints": {
                "interval": "1h",
                "file": str(server.dir / "audit-checkpoints.jsonl"),
            }
        },
    }
    server.write_config()
    yield server.start()


@pytest.fixture(scope="module")
def admin(hs: Homeserver) -> User:
    return hs.register(admin=True)


def checkpoint_file(hs: Homeserver) -> Path:
    return hs.dir / "audit-checkpoints.jsonl"


async def notices(hs: Homeserver, admin: User, count: int) -> None:
    for n in range(count):
        status, body = await Http(hs, admin.access_token).post(
            f"{ADMIN}/notices", {"user_id": admin.user_id, "body": f"notice {n}"}
        )
        assert status == 200, body


async def checkpoint(hs: Homeserver, admin: User) -> dict[str, Any]:
    status, body = await Http(hs, admin.access_token).post(f"{ADMIN}/audit/checkpoints")
    assert status == 200 and body["written"] is True, body
    return dict(body["checkpoint"])


async def verify(hs: Homeserver, admin: User) -> dict[str, Any]:
    status, body = await Http(hs, admin.access_token).get(f"{ADMIN}/audit/verify")
    assert status == 200, body
    return dict(body)


def rows(hs: Homeserver, above: int = 0) -> list[tuple[Any, ...]]:
    return hs.sql(
        f"SELECT {COLUMNS} FROM groupreg_audit_log WHERE seq > ? ORDER BY seq",
        (above,),
    )


def restore(hs: Homeserver, saved: list[tuple[Any, ...]]) -> None:
    """Put rows back exactly as they were."""
    for row in saved:
        hs.sql("DELETE FROM groupreg_audit_log WHERE seq = ?", (row[0],))
        hs.sql(
            f"INSERT INTO groupreg_audit_log ({COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )


def export(hs: Homeserver, admin: User, path: Path) -> dict[str, Any]:
    done = run_cli(
        hs, admin.access_token, "export", "--sections", "audit", "-o", str(path)
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(path.read_text().splitlines()[0]))


def export_verify(
    hs: Homeserver, admin: User, path: Path
) -> tuple[int, dict[str, Any]]:
    done = run_cli(hs, admin.access_token, "export-verify", str(path))
    text = done.stdout if done.returncode == 0 else done.stderr
    return done.returncode, dict(json.loads(text))


async def test_checkpoints_are_signed_and_kept_outside(
    hs: Homeserver, admin: User
) -> None:
    """F1: a checkpoint signs the chain's head with the homeserver's key
    (published at /_matrix/key/v2/server), links to the one before, and is
    appended to the file as well as the database; verify checks them all."""
    await notices(hs, admin, 2)
    first = await checkpoint(hs, admin)
    await notices(hs, admin, 2)
    second = await checkpoint(hs, admin)
    assert (first["n"] + 1, second["prev"]) == (second["n"], first["digest"])
    status, keys = await Http(hs).get("/_matrix/key/v2/server")
    key_id = next(iter(second["signatures"][hs.server_name]))
    assert status == 200 and key_id in keys["verify_keys"]
    lines = [json.loads(line) for line in checkpoint_file(hs).read_text().splitlines()]
    assert [line["n"] for line in lines][-2:] == [first["n"], second["n"]]
    verdict = await verify(hs, admin)
    assert verdict["ok"] is True, verdict
    assert verdict["checkpoints"]["last"]["n"] == second["n"]
    assert verdict["checkpoints"]["copies"]["file"].startswith("checked")
    status, listed = await Http(hs, admin.access_token).get(
        f"{ADMIN}/audit/checkpoints?limit=1"
    )
    assert listed["checkpoints"][0]["n"] == second["n"] and "next_token" in listed
    assert key_id in listed["verify_keys"]


async def test_a_rewritten_entry_is_found(
    hs: Homeserver, admin: User, tmp_path: Path
) -> None:
    """F1: change an entry's reason and recompute every hash after it, as
    a database writer can: the chain alone is consistent, but it no longer
    leads to the hash a signed checkpoint vouches for. /audit/verify names
    the entries that were rewritten; export-verify with the server says
    the export's head no longer matches."""
    await notices(hs, admin, 3)
    anchor = await checkpoint(hs, admin)
    path = tmp_path / "before.jsonl"
    header = export(hs, admin, path)
    assert header["audit_head"]["seq"] >= anchor["seq"]
    code, report = export_verify(hs, admin, path)
    assert code == 0 and report["live"]["ok"] is True, report

    victim = anchor["seq"] - 1
    saved = rows(hs, victim - 1)
    prev = saved[0][6]
    for seq, ts, actor, action, target, details, _, _ in saved:
        if seq == victim:
            details = json.dumps({"reason": "nothing to see"}, separators=(",", ":"))
        digest = entry_hash(prev, seq, ts, actor, action, target, details)
        hs.sql(
            "UPDATE groupreg_audit_log SET details = ?, prev_hash = ?, hash = ?"
            " WHERE seq = ?",
            (details, prev, digest, seq),
        )
        prev = digest
    try:
        verdict = await verify(hs, admin)
        assert verdict["ok"] is False
        kinds = [p["kind"] for p in verdict["problems"]]
        assert kinds == ["rewritten"], verdict
        problem = verdict["problems"][0]
        assert problem["first_seq"] <= victim <= problem["last_seq"] == anchor["seq"]
        assert problem["checkpoint"] == anchor["n"]
        assert verdict["first_bad"] == problem["first_seq"]
        assert "rewritten" in verdict["problem"]

        code, report = export_verify(hs, admin, path)
        assert code == 1 and report["ok"] is False
        assert any("rewritten" in p for p in report["live"]["problems"]), report
    finally:
        restore(hs, saved)
    assert (await verify(hs, admin))["ok"] is True


async def test_deleted_newest_entries_are_found(
    hs: Homeserver, admin: User, tmp_path: Path
) -> None:
    """F1: delete the newest three entries (a checkpoint covers them): the
    chain that is left is consistent, but the last checkpoint vouches for
    an entry past its end; export-verify says the export's head is gone."""
    await notices(hs, admin, 3)
    anchor = await checkpoint(hs, admin)
    path = tmp_path / "before.jsonl"
    export(hs, admin, path)
    # Make the checkpoint the newest thing: drop what came after it too.
    saved = rows(hs, anchor["seq"] - 3)
    hs.sql("DELETE FROM groupreg_audit_log WHERE seq > ?", (anchor["seq"] - 3,))
    try:
        verdict = await verify(hs, admin)
        assert verdict["ok"] is False
        truncated = [p for p in verdict["problems"] if p["kind"] == "truncated"]
        assert truncated, verdict
        problem = truncated[-1]
        assert (problem["first_seq"], problem["last_seq"]) == (
            anchor["seq"] - 2,
            anchor["seq"],
        )
        assert "missing" in problem["message"]
        assert verdict["first_bad"] == anchor["seq"] - 2

        code, report = export_verify(hs, admin, path)
        assert code == 1
        assert any(
            "missing from the live chain" in p for p in report["live"]["problems"]
        )
    finally:
        restore(hs, saved)
    assert (await verify(hs, admin))["ok"] is True


async def test_deleted_checkpoints_are_found(
    hs: Homeserver, admin: User, tmp_path: Path
) -> None:
    """F1: delete a checkpoint from the database (the newest, then one in
    the middle), or a line from the file, or forge one's hash: each is
    named by its number and where it is missing or wrong."""
    await notices(hs, admin, 1)
    await checkpoint(hs, admin)
    await notices(hs, admin, 1)
    newest = await checkpoint(hs, admin)
    path = tmp_path / "before.jsonl"
    export(hs, admin, path)
    kept = hs.sql("SELECT n, seq, ts, body FROM groupreg_audit_checkpoints ORDER BY n")
    file_text = checkpoint_file(hs).read_text()

    def put_back() -> None:
        hs.sql("DELETE FROM groupreg_audit_checkpoints")
        for row in kept:
            hs.sql(
                "INSERT INTO groupreg_audit_checkpoints (n, seq, ts, body)"
                " VALUES (?, ?, ?, ?)",
                row,
            )
        checkpoint_file(hs).write_text(file_text)

    def named(verdict: dict[str, Any], kind: str) -> list[tuple[int, str]]:
        return [
            (p["checkpoint"], p["message"])
            for p in verdict["problems"]
            if p["kind"] == kind
        ]

    try:
        hs.sql("DELETE FROM groupreg_audit_checkpoints WHERE n = ?", (newest["n"],))
        verdict = await verify(hs, admin)
        assert verdict["ok"] is False
        assert named(verdict, "checkpoint_missing") == [
            (
                newest["n"],
                f"checkpoint {newest['n']} is missing from the database"
                " (the file has it)",
            )
        ]
        code, report = export_verify(hs, admin, path)
        assert code == 1 and any(
            f"checkpoint {newest['n']} is missing" in p
            for p in report["live"]["problems"]
        )
        put_back()

        middle = newest["n"] - 1
        hs.sql("DELETE FROM groupreg_audit_checkpoints WHERE n = ?", (middle,))
        assert [n for n, _ in named(await verify(hs, admin), "checkpoint_missing")] == [
            middle
        ]
        put_back()

        lines = file_text.splitlines()
        checkpoint_file(hs).write_text("\n".join(lines[:-2] + lines[-1:]) + "\n")
        missing = named(await verify(hs, admin), "checkpoint_missing")
        assert missing == [
            (
                middle,
                f"checkpoint {middle} is missing from the file (the database has it)",
            )
        ]
        put_back()

        forged = json.loads(kept[-1][3])
        forged["hash"] = "0" * 64
        hs.sql(
            "UPDATE groupreg_audit_checkpoints SET body = ? WHERE n = ?",
            (json.dumps(forged, sort_keys=True, separators=(",", ":")), newest["n"]),
        )
        verdict = await verify(hs, admin)
        assert [n for n, _ in named(verdict, "checkpoint_signature")] == [newest["n"]]
        assert [n for n, _ in named(verdict, "checkpoint_differs")] == [newest["n"]]
    finally:
        put_back()
    assert (await verify(hs, admin))["ok"] is True
