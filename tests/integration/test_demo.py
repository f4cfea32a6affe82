"""The README's demo command brings up Synapse with the module on SQLite,
and a matrix-nio client can register, create a room and talk in it; the
demo serves Prometheus metrics that the Grafana dashboard reads, prints a
usable hint, honours --port on a later start, refuses a --profile switch
with what to do, and its setup installs nothing when nothing changed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nio
import pytest

from deploy import dashboard
from tests.harness.client import reason_of
from tests.harness.homeserver import REPO, free_port


@contextmanager
def demo(folder: Path, *args: str) -> Iterator[list[str]]:
    """Run scripts/demo.py until it says it is running (or exits); yields
    its output so far, and stops it on leaving."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "demo.py"),
            "--dir",
            str(folder),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # The checkout under test, even when the virtualenv has another copy
        # installed (as tests/harness/homeserver.py does for its servers).
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        output: list[str] = []
        deadline = time.monotonic() + 90
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            output.append(line)
            if "Ctrl-C stops" in line or process.poll() is not None:
                break
        if process.poll() is not None:
            output += process.stdout.readlines()
        yield output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _metrics(port: int) -> str:
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/_synapse/metrics", timeout=10
    ) as r:
        return str(r.read().decode())


@pytest.mark.parametrize("profile", ["generic", "cn"])
async def test_demo_serves_a_client(tmp_path: Path, profile: str) -> None:
    """generic: register, create a room, talk; the metrics listener
    serves every metric the dashboard reads (G4). cn: the same client is
    refused until verified (A1), with the reason beside the message, and
    the hint names the demo's own address."""
    port, metrics_port = free_port(), free_port()
    with demo(
        tmp_path / "demo",
        "--port", str(port), "--metrics-port", str(metrics_port), "--profile", profile,
    ) as output:  # fmt: skip
        text = "".join(output)
        assert f"is running on http://127.0.0.1:{port}" in text, text
        assert (tmp_path / "demo" / "admin-password.txt").exists()
        config = (tmp_path / "demo" / "homeserver.yaml").read_text()
        assert "synapse_groupreg.GroupRegModule" in config
        assert f"http://127.0.0.1:{metrics_port}/_synapse/metrics" in text
        assert str(dashboard_path()) in text
        assert "{port}" not in text
        prometheus = (tmp_path / "demo" / "prometheus.yml").read_text()
        assert f"127.0.0.1:{metrics_port}" in prometheus

        client = nio.AsyncClient(f"http://127.0.0.1:{port}", "")
        try:
            registered = await client.register("visitor", "a-long-password-1")
            assert isinstance(registered, nio.RegisterResponse), registered
            if profile == "cn":
                assert f"--url http://127.0.0.1:{port} login" in text
                # Element is told not to create encrypted rooms (H3).
                url = f"http://127.0.0.1:{port}/.well-known/matrix/client"
                with urllib.request.urlopen(url, timeout=10) as r:
                    known = json.loads(r.read())
                assert known["io.element.e2ee"] == {"force_disable": True}, known
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
        exported = _metrics(metrics_port)
        for name, exists in dashboard.METRICS.items():
            family = name.removesuffix("_bucket")
            assert (f"# HELP {family} " in exported) is exists, name
        assert re.search(
            r'groupreg_decisions_total\{check="content",outcome="allow"', exported
        )


def dashboard_path() -> Path:
    return REPO / "docker" / "grafana" / "dashboards" / "groupreg.json"


def test_a_later_start_honours_the_port_and_refuses_a_profile_switch(
    tmp_path: Path,
) -> None:
    """The second start of the same demo/ moves to a new --port (and its
    metrics with it); asking for another profile stops with what to do."""
    folder = tmp_path / "demo"
    first = free_port()
    with demo(folder, "--port", str(first)) as output:
        assert any(f"running on http://127.0.0.1:{first}" in line for line in output)
    second, metrics = free_port(), free_port()
    with demo(folder, "--port", str(second), "--metrics-port", str(metrics)) as output:
        text = "".join(output)
        assert f"now on port {second}, metrics on {metrics}" in text, text
        assert f"running on http://127.0.0.1:{second}" in text, text
        assert "groupreg_decisions_total" in _metrics(metrics)
    with demo(folder, "--port", str(second), "--profile", "cn") as output:
        text = "".join(output)
        assert "holds a demo of the generic profile" in text, text
        assert "--reset" in text


def test_setup_installs_nothing_when_nothing_changed() -> None:
    """`scripts/demo.sh` runs setup first on every start; with pyproject.toml
    and the script unchanged since the last install, pip does not run."""
    done = subprocess.run(
        [str(REPO / "scripts" / "setup.sh")],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    # The suite's own setup ran just before (scripts/test.sh), or this one did.
    again = subprocess.run(
        [str(REPO / "scripts" / "setup.sh")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "nothing to install" in again.stdout, (done.stdout, again.stdout)
