"""A real nginx (Debian's) in front of a cluster's processes, routing with
the server block `deploy/nginx.py` renders from the topology, the same
block the container stack mounts.

nginx runs in the foreground as a child process with its own folder for
config, pid, logs and temporary files, and is stopped by PID.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from deploy.nginx import HEALTH_PATH


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


class ProxyFailed(RuntimeError):
    pass


class Nginx:
    """nginx on 127.0.0.1:`port` serving `server_block` (upstreams and one
    server), with an access log that names the upstream of each request."""

    def __init__(self, server_block: str, port: int) -> None:
        binary = nginx_binary()
        if binary is None:
            raise ProxyFailed("nginx is not installed (apt-get install nginx-light)")
        self.binary = binary
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.dir = Path(tempfile.mkdtemp(prefix="groupreg-nginx-"))
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        temp = self.dir / "temp"
        temp.mkdir()
        # Worker processes drop root's rights (to nobody) where the master
        # runs as root: they must be able to write the temporary files.
        temp.chmod(0o777)
        (self.dir / "synapse.conf").write_text(server_block)
        temporary_paths = "\n".join(
            f"    {kind}_temp_path {temp / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.dir / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 1;
pid {self.dir / "nginx.pid"};
error_log {self.error_log} warn;
events {{ worker_connections 1024; }}
http {{
    log_format routed '$request_method $uri $status $upstream_addr';
    access_log {self.access_log} routed;
{temporary_paths}
    include {self.dir / "synapse.conf"};
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Nginx:
        self.process = subprocess.Popen(
            [
                self.binary,
                "-e",
                str(self.error_log),
                "-p",
                str(self.dir),
                "-c",
                str(self.dir / "nginx.conf"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / "stderr.log").open("ab"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ProxyFailed(f"nginx exited:\n{self.output_tail()}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(self.base_url + HEALTH_PATH, timeout=2) as r,
            ):
                if r.status == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise ProxyFailed(f"nginx did not answer:\n{self.output_tail()}")

    def routed(self) -> list[tuple[str, str, int, str]]:
        """(method, path, status, upstream address) of every request so far."""
        found = []
        if self.access_log.exists():
            for line in self.access_log.read_text().splitlines():
                method, path, status, upstream = line.split(" ", 3)
                found.append((method, path, int(status), upstream))
        return found

    def output_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.dir / "stderr.log", self.error_log):
            if path.exists():
                text = path.read_text("utf-8", "replace").splitlines()[-lines:]
                parts.append(f"--- nginx {path.name} ---\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # SIGTERM: nginx's fast shutdown.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
