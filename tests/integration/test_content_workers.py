"""A keyword list change reaches a Synapse worker without a restart (C4, G5).

A real deployment shape: the main process and one `generic_worker` on
PostgreSQL, replicating over Redis. The list is changed through the admin
API of the main process; the worker, which handles the client's message,
must refuse it once its own poll of the list version has rebuilt its
automaton. Workers need PostgreSQL and a Redis server (`redis-server` on
PATH); without either the test is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import nio
import pytest
import yaml

from tests.harness.client import Http, clients, reason_of
from tests.harness.homeserver import REPO, Homeserver, User, free_port
from tests.integration.conftest import HomeserverFactory

ADMIN = "/_synapse/client/groupreg/admin/v1"
CONFIG = {"profile": "generic", "content": {"reload_interval": "2s"}}


@contextlib.contextmanager
def _process(
    args: list[str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, stopped by its PID when the block ends. It imports
    the module from this checkout, as the harness's homeservers do."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
    )}  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=out, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited:\n{log.read_text()[-4000:]}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=2) as r,
        ):
            if r.status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"not healthy:\n{log.read_text()[-4000:]}")


def _main_with_replication(hs: Homeserver, redis_port: int) -> None:
    """Add what a main process needs to serve workers: a replication
    listener, the instance map and Redis."""
    replication_port = free_port()
    listeners = hs.synapse_config()["listeners"]
    listeners.append(
        {
            "port": replication_port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "resources": [{"names": ["replication"]}],
        }
    )
    hs.extra_config.update(
        {
            "listeners": listeners,
            "instance_map": {"main": {"host": "127.0.0.1", "port": replication_port}},
            "redis": {"enabled": True, "host": "127.0.0.1", "port": redis_port},
        }
    )
    hs.write_config()


def _worker_config(hs: Homeserver, port: int) -> Path:
    log_config = yaml.safe_load((hs.dir / "log.yaml").read_text())
    log_config["handlers"]["file"]["filename"] = str(hs.dir / "worker.log")
    (hs.dir / "worker-log.yaml").write_text(yaml.safe_dump(log_config))
    path = hs.dir / "worker.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "worker_app": "synapse.app.generic_worker",
                "worker_name": "client_worker",
                "worker_listeners": [
                    {
                        "type": "http",
                        "port": port,
                        "bind_addresses": ["127.0.0.1"],
                        "resources": [{"names": ["client"]}],
                    }
                ],
                "worker_log_config": str(hs.dir / "worker-log.yaml"),
            }
        )
    )
    return path


def _client_view(main: Homeserver, port: int) -> Homeserver:
    """The same homeserver as clients see it through the worker's listener."""
    view = copy.copy(main)
    view.base_url = f"http://127.0.0.1:{port}"
    return view


async def _send(worker: Homeserver, user: User, room_id: str, body: str) -> object:
    async with clients(worker, user) as (client,):
        return await client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": body},
            tx_id=uuid.uuid4().hex,
        )


async def test_a_list_change_reaches_a_worker_without_restart(
    homeservers: HomeserverFactory, backend: str
) -> None:
    """C4: the worker refuses a word added on the main process, with no
    restart, once its poll (every `reload_interval`) has rebuilt the lists."""
    if backend != "postgres":
        pytest.skip("Synapse workers need PostgreSQL")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed")

    hs = homeservers(CONFIG, start=False, name="main")
    redis_port, worker_port = free_port(), free_port()
    with _process(
        [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no"],
        hs.dir, hs.dir / "redis.log",
    ):  # fmt: skip
        _main_with_replication(hs, redis_port)
        hs.start()
        worker_yaml = _worker_config(hs, worker_port)
        worker_args = [sys.executable, "-m", "synapse.app.generic_worker",
                       "-c", str(hs.config_path), "-c", str(worker_yaml)]  # fmt: skip
        with _process(worker_args, hs.dir, hs.dir / "worker.stderr") as process:
            worker = _client_view(hs, worker_port)
            _wait_healthy(
                f"{worker.base_url}/health", process, hs.dir / "worker.stderr"
            )
            await _check_propagation(hs, worker)


async def _check_propagation(hs: Homeserver, worker: Homeserver) -> None:
    admin, user = hs.register(admin=True), hs.register()
    async with clients(hs, user) as (client,):
        created = await client.room_create(name="worker room")
        assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    phrase = "工作进程测试词"
    sent = await _send(worker, user, room_id, phrase)
    assert isinstance(sent, nio.RoomSendResponse), sent

    status, body = await Http(hs, admin.access_token).put(
        f"{ADMIN}/keywords/worker_test",
        {"action": "block", "credit_penalty": 1, "words": ["进程测试"]},
    )
    assert status == 200, body
    changed_at = time.monotonic()

    # Poll until the worker refuses (bounded so a bug cannot hang the run;
    # the lag is printed, not asserted: timings depend on the machine).
    reason = None
    while reason is None and time.monotonic() - changed_at < 60:
        reason = await reason_of(await _send(worker, user, room_id, phrase))
        if reason is None:
            await asyncio.sleep(0.1)
    lag = time.monotonic() - changed_at
    print(f"list change reached the worker after {lag:.2f} s")
    assert reason == "PROHIBITED_CONTENT"
    status, listing = await Http(worker, admin.access_token).get(f"{ADMIN}/keywords")
    assert status == 200
    assert listing["loaded_version"] == body["version"]
