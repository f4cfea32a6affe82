"""The README's demo command brings up Synapse with the module on SQLite,
and a matrix-nio client can register, create a room and talk in it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nio
import pytest

from tests.harness.client import reason_of
from tests.harness.homeserver import REPO, free_port


@pytest.mark.parametrize("profile", ["generic", "cn"])
async def test_demo_serves_a_client(tmp_path: Path, profile: str) -> None:
    """generic: register, create a room, talk. cn: the same client is
    refused until verified (A1), with the reason beside the message."""
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "demo.py"),
            "--dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--profile",
            profile,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # The checkout under test, even when the virtualenv has another copy
        # installed (as tests/harness/homeserver.py does for its servers).
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        output = []
        deadline = time.monotonic() + 90
        assert demo.stdout is not None
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            output.append(line)
            if "is running on" in line or demo.poll() is not None:
                break
        assert any("is running on" in line for line in output), "".join(output)
        assert (tmp_path / "demo" / "admin-password.txt").exists()
        config = (tmp_path / "demo" / "homeserver.yaml").read_text()
        assert "synapse_groupreg.GroupRegModule" in config

        client = nio.AsyncClient(f"http://127.0.0.1:{port}", "")
        try:
            registered = await client.register("visitor", "a-long-password-1")
            assert isinstance(registered, nio.RegisterResponse), registered
            if profile == "cn":
                refused = await client.room_create(name="demo room")
                assert await reason_of(refused) == "IDENTITY_REQUIRED"
                return
            created = await client.room_create(name="demo room")
            assert isinstance(created, nio.RoomCreateResponse), created
            sent = await client.room_send(
                created.room_id, "m.room.message", {"msgtype": "m.text", "body": "你好"}
            )
            assert isinstance(sent, nio.RoomSendResponse), sent
            history = await client.room_messages(created.room_id, start="", limit=5)
            assert isinstance(history, nio.RoomMessagesResponse)
            assert [
                e.body for e in history.chunk if isinstance(e, nio.RoomMessageText)
            ] == ["你好"]
        finally:
            await client.close()
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            demo.kill()
