"""Test-wide setup: which databases run, and homeserver logs on failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness import databases
from tests.harness.homeserver import RUNNING
from tests.harness.proxy import nginx_binary
from tests.harness.workers import redis_reachable

BACKENDS = databases.backends()
_USED: set[str] = set()


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") != "true":
        return
    if "postgres" not in BACKENDS:
        raise pytest.UsageError(
            "CI=true but PostgreSQL is not reachable (127.0.0.1:5432 or "
            "GROUPREG_TEST_POSTGRES): the suite must run on both databases in CI"
        )
    if not redis_reachable():
        raise pytest.UsageError(
            "CI=true but Redis is not reachable on 127.0.0.1:6379: the worker "
            "tests (main process + generic worker) must run in CI"
        )
    if nginx_binary() is None:
        raise pytest.UsageError(
            "CI=true but nginx is not installed: the worker-topology tests route"
            " through it (scripts/setup.sh installs Debian's nginx-light)"
        )


def pytest_report_header(config: pytest.Config) -> str:
    pg = databases.postgres_dsn()
    where = f"postgres ({pg})" if pg else "postgres not reachable, skipped"
    redis = (
        "redis reachable"
        if redis_reachable()
        else "redis not reachable: worker tests skip"
    )
    return f"groupreg integration databases: sqlite, {where}; {redis}"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database under the homeservers of one test module (each module
    runs once per reachable database)."""
    _USED.add(request.param)
    return str(request.param)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        for hs in RUNNING:
            report.sections.append(
                (f"homeserver {hs.server_name} log", hs.output_tail(120))
            )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _USED:
        terminalreporter.write_line(
            "groupreg integration tests ran on: " + ", ".join(sorted(_USED))
        )
