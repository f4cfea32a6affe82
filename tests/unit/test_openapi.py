"""G2: docs/openapi.yaml documents every route the module serves, and
nothing it does not serve."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml

from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http import all_routes
from synapse_groupreg.services import Services

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch"}


def _documented() -> set[tuple[str, str]]:
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def _served() -> set[tuple[str, str]]:
    # Route lists only keep bound methods; nothing is called without Synapse.
    routes = all_routes(cast(Services, object()))
    return {(r.method, r.path) for r in routes}


def test_every_route_is_documented() -> None:
    missing = _served() - _documented()
    assert not missing, f"routes missing from docs/openapi.yaml: {sorted(missing)}"


def test_every_documented_route_exists() -> None:
    extra = _documented() - _served()
    assert not extra, (
        f"docs/openapi.yaml documents routes nobody serves: {sorted(extra)}"
    )


def test_no_route_is_served_twice() -> None:
    routes = all_routes(cast(Services, object()))
    keys = [(r.method, r.path) for r in routes]
    assert len(keys) == len(set(keys))


def test_each_admin_operation_shows_its_role() -> None:
    """G7: `x-groupreg-role` on every admin operation is the role its route
    declares, and no other operation carries one."""
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    shown = {
        (method.upper(), path): op.get("x-groupreg-role")
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }
    declared = {
        (r.method, r.path): r.access.value if isinstance(r.access, Role) else None
        for r in all_routes(cast(Services, object()))
    }
    assert shown == declared
