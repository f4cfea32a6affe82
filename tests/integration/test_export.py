"""F3: a signed JSONL export of the records, checkable against the
homeserver's published signing key; any change to it is detected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness.client import Http, run_cli
from tests.harness.homeserver import Homeserver
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"


@pytest.fixture(scope="module")
def hs(homeservers: HomeserverFactory) -> Homeserver:
    return homeservers({"profile": "generic"})


async def test_export_is_signed_and_verifiable(hs: Homeserver, tmp_path: Path) -> None:
    """F3: the export holds a header with the audit head, the records, and a
    signature by the server's key; `groupreg export-verify` checks it and
    catches a changed byte."""
    admin = hs.register(admin=True)
    status, _ = await Http(hs, admin.access_token).post(
        f"{ADMIN}/notices", {"user_id": admin.user_id, "body": "to be exported"}
    )
    assert status == 200
    path = tmp_path / "export.jsonl"
    done = run_cli(hs, admin.access_token, "export", "-o", str(path))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    header, signature = lines[0], lines[-1]
    assert header["type"] == "header"
    assert header["server_name"] == hs.server_name
    assert {"audit", "network"} <= set(header["sections"])
    assert signature["type"] == "signature"
    assert signature["key_id"].startswith("ed25519:")
    audit = [line for line in lines if line["type"] == "audit"]
    assert any(e["action"] == "notice.send" for e in audit)
    assert header["audit_head"]["seq"] == audit[-1]["seq"]
    assert header["audit_head"]["hash"] == audit[-1]["hash"]
    assert any(line["type"] == "network" for line in lines)

    verified = run_cli(hs, admin.access_token, "export-verify", str(path))
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["ok"] is True

    tampered = tmp_path / "tampered.jsonl"
    original = path.read_text()
    assert '"notice.send"' in original
    tampered.write_text(original.replace('"notice.send"', '"notice.sent"', 1))
    refused = run_cli(hs, admin.access_token, "export-verify", str(tampered))
    assert refused.returncode == 1
    assert "changed after signing" in json.loads(refused.stderr)["problem"]


async def test_export_sections_and_access(hs: Homeserver) -> None:
    admin, user = hs.register(admin=True), hs.register()
    http = Http(hs, admin.access_token)
    status, body = await http.get(f"{ADMIN}/export?sections=audit,bogus")
    assert (status, body["field"]) == (400, "sections")
    assert "available: audit, network" in body["error"]
    status, text = await http.get(f"{ADMIN}/export?sections=audit")
    assert status == 200
    kinds = {json.loads(line)["type"] for line in text.splitlines()}
    assert kinds == {"header", "audit", "signature"}
    status, _ = await Http(hs, user.access_token).get(f"{ADMIN}/export")
    assert status == 403
    # The download itself is audited.
    status, page = await http.get(f"{ADMIN}/audit?action=export.download")
    assert page["entries"] and page["entries"][-1]["actor"] == admin.user_id
