"""Fixtures for tests that drive real homeservers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from tests.harness.homeserver import Homeserver

HomeserverFactory = Callable[..., Homeserver]


@pytest.fixture(scope="module")
def homeservers(backend: str) -> Iterator[HomeserverFactory]:
    """Start homeservers on this module's database backend; all are stopped
    (and their PostgreSQL databases dropped) when the module's tests end.

    Call it as `homeservers(module_config, extra_config=None, start=True)`.
    """
    made: list[Homeserver] = []

    def make(
        module_config: Mapping[str, Any] | None,
        extra_config: Mapping[str, Any] | None = None,
        start: bool = True,
        name: str = "hs",
    ) -> Homeserver:
        hs = Homeserver(module_config, backend, extra_config, name=name)
        made.append(hs)
        return hs.start() if start else hs

    yield make
    for hs in made:
        hs.destroy()
