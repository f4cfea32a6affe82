"""G8: the container stack (docker/) mirrors the tested topology and would
run: its generated files are what deploy/ makes now (so they cannot drift
from the harness's topology), `docker compose config` accepts the base
stack and the cn overlay, every process's merged config is one Synapse
1.163 accepts with `--no-secrets-in-config` (no secret written inline),
each service checks its own port and runs as a non-root user, the secrets
script makes owner-only files, and the dashboard reads the module's
metrics.

No Docker engine runs here: nothing is built or started (docker/README.md
says what was and was not run)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from synapse.config.homeserver import HomeServerConfig

from deploy import dashboard
from deploy.compose import SYNAPSE_USER, generated_files, service_name
from deploy.topology import HTTP, LARGE_SERVER, fixed_ports
from synapse_groupreg.config import parse_config
from synapse_groupreg.identity.vault import generate_key_file

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def _compose_command() -> list[str] | None:
    """`docker compose` (v2) where it answers, else `docker-compose` (v1)."""
    if shutil.which("docker"):
        found = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        )
        if found.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def _load(path: str) -> Any:
    return yaml.safe_load((DOCKER / path).read_text())


def test_the_generated_files_are_what_the_topology_makes() -> None:
    """G8: compose files, process configs, nginx's routing and Prometheus's
    targets come from deploy/topology.py (`scripts/stack.py generate`)."""
    stale = [
        path
        for path, text in generated_files().items()
        if not (DOCKER / path).exists() or (DOCKER / path).read_text() != text
    ]
    assert stale == [], "run: .venv/bin/python scripts/stack.py generate"


@pytest.mark.parametrize(
    "files", [["compose.yaml"], ["compose.yaml", "compose.cn.yaml"]], ids=["base", "cn"]
)
def test_docker_compose_config_accepts_the_stack(files: list[str]) -> None:
    command = _compose_command()
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but neither `docker compose` nor docker-compose runs")
        pytest.skip("no docker compose here (scripts/setup.sh installs docker-compose)")
    args = [part for f in files for part in ("-f", f)]
    done = subprocess.run(
        [*command, *args, "config", "-q"],
        cwd=DOCKER,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_process_is_a_service_checking_its_own_port_as_non_root() -> None:
    services = _load("compose.yaml")["services"]
    for instance in LARGE_SERVER.instances:
        service = services[service_name(instance)]
        assert service["command"][:3] == ["run", "-m", instance.app]
        assert service["user"] == SYNAPSE_USER
        [url] = [part for part in service["healthcheck"]["test"] if "://" in part]
        assert url == f"http://127.0.0.1:{fixed_ports(instance, HTTP)}/health"
    # The other services: images that drop root, their own health checks.
    for name in ("postgres", "redis", "nginx", "prometheus", "grafana"):
        assert "healthcheck" in services[name], name
    assert "unprivileged" in services["nginx"]["image"]
    assert "user" not in services["nginx"]  # the image's own (uid 101)
    assert services["nginx"]["ports"] == ["8008:8080"]


def test_nginx_routes_as_the_harness_does() -> None:
    """The routing the topology tests pass through, with the stack's hosts."""
    conf = (DOCKER / "nginx" / "synapse.conf").read_text()
    for route in LARGE_SERVER.routes:
        for pattern in route.patterns:
            assert f'location ~ "{pattern}"' in conf
    assert "server event-persister1:8011;" in conf
    assert "server event-persister2:8012;" in conf
    assert re.search(r"listen 8080;", conf)


def _secrets(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("s3cret-" + name)


def _rewritten(folder: Path, cn: bool) -> tuple[Path, dict[str, Path]]:
    """docker/config's files as the containers see them, with the
    container paths moved below `folder`."""
    data, secrets = folder / "data", folder / "secrets"
    data.mkdir()
    compose = _load("compose.yaml")
    names = list(compose["secrets"])
    if cn:
        names += list(_load("compose.cn.yaml")["secrets"])
    _secrets(secrets, names)
    if cn:
        (secrets / "groupreg_identity_key").unlink()
        generate_key_file(secrets / "groupreg_identity_key")
    moves = {
        "/run/secrets/": f"{secrets}/",
        "/data/": f"{data}/",
        "/config/log.yaml": str(folder / "log.yaml"),
        "/config/covenant": str(ROOT / "config" / "covenant"),
    }

    def copy(source: Path, target: Path) -> None:
        text = source.read_text()
        for old, new in moves.items():
            text = text.replace(old, new)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    shared = folder / "shared"
    copy(DOCKER / "config" / "homeserver.yaml", shared / "homeserver.yaml")
    copy(DOCKER / "config" / "stack.yaml", shared / "stack.yaml")
    copy(
        DOCKER / "config" / ("cn/groupreg.yaml" if cn else "groupreg.yaml"),
        shared / "groupreg.yaml",
    )
    if cn:
        copy(DOCKER / "config" / "cn" / "consent.yaml", shared / "consent.yaml")
    copy(DOCKER / "config" / "log.yaml", folder / "log.yaml")
    instances = {}
    for instance in LARGE_SERVER.instances:
        source = (
            DOCKER / "config" / "cn" / "main.yaml"
            if cn and instance.is_main
            else DOCKER / "config" / "instances" / f"{instance.name}.yaml"
        )
        instances[instance.name] = folder / "instances" / source.name
        copy(source, instances[instance.name])
    return shared, instances


@pytest.mark.parametrize("cn", [False, True], ids=["base", "cn"])
def test_every_process_config_is_one_synapse_accepts(tmp_path: Path, cn: bool) -> None:
    """G8: Synapse's own config loader, as each container runs it (the
    shared folder, then the process's file), with --no-secrets-in-config:
    every secret comes from a file. The worker roles are the topology's."""
    shared, instances = _rewritten(tmp_path, cn)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "synapse.app.homeserver",
            "-c",
            str(shared),
            "-c",
            str(instances["main"]),
            "--generate-keys",
        ],
        check=True,
        capture_output=True,
    )
    for name, path in instances.items():
        config = HomeServerConfig.load_config(
            "test", ["-c", str(shared), "-c", str(path), "--no-secrets-in-config"]
        )
        # Synapse calls the main process "master" inside (MAIN_PROCESS_INSTANCE_NAME).
        assert config.worker.instance_name == ("master" if name == "main" else name)
        assert config.worker.run_background_tasks == (name == "background")
        assert config.worker.send_federation == (name == "federation_sender")
        assert config.worker.writers.events == list(LARGE_SERVER.event_persisters)
        if cn and name == "main":
            [http, *_] = config.server.listeners
            assert http.http_options is not None
            names = [n for r in http.http_options.resources for n in r.names]
            assert "consent" in names
    modules = yaml.safe_load((shared / "groupreg.yaml").read_text())["modules"]
    module = parse_config(modules[0]["config"])
    assert module.profile.value == ("cn" if cn else "generic")


def test_no_secret_is_written_in_the_stack() -> None:
    """Secrets are Docker secrets: no password or secret value in any
    config file of docker/ (the compose files name files, never values)."""
    for path in [*DOCKER.glob("config/**/*.yaml"), *DOCKER.glob("compose*.yaml")]:
        for line in path.read_text().splitlines():
            key, _, value = line.strip().partition(":")
            if re.search(r"(secret|password)$", key.strip("- ")) and value.strip():
                assert value.strip().startswith(("/run/secrets/", "./secrets/")), (
                    path,
                    line,
                )


def test_the_secrets_script_makes_owner_only_files(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    done = subprocess.run(
        [str(DOCKER / "make-secrets.sh")],
        env={**os.environ, "SECRETS_DIR": str(folder)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        _load("compose.yaml")["secrets"]
    )
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        if os.geteuid() == 0 and path.name.startswith("synapse_"):
            assert path.stat().st_uid == 991, path
    pgpass = (folder / "synapse_pgpass").read_text()
    password = (folder / "postgres_password").read_text()
    assert pgpass == f"postgres:5432:synapse:synapse:{password}\n"
    again = subprocess.run(
        [str(DOCKER / "make-secrets.sh")],
        env={**os.environ, "SECRETS_DIR": str(folder)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "created" not in again.stdout  # existing secrets are kept
    assert (folder / "postgres_password").read_text() == password


def test_the_dashboard_reads_the_module_metrics() -> None:
    """G4: every query reads a metric of the module (adoption's gauge is
    the one it does not export yet); the provisioned file is the
    generated one; every panel has a title and a description."""
    document = json.loads(
        (DOCKER / "grafana" / "dashboards" / "groupreg.json").read_text()
    )
    used = {
        name
        for expr in dashboard.expressions(document)
        for name in re.findall(r"groupreg_[a-z_]+", expr)
    }
    assert used == set(dashboard.METRICS)
    titles = {p["title"] for p in document["panels"]}
    assert {
        "Decisions by check and outcome",
        "Check latency",
        "Check failures",
        "Complaints open and overdue",
        "Adoption progress",
    } <= titles
    assert all(p["description"] for p in document["panels"])
