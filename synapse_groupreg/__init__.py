"""synapse-groupreg: group-chat governance enforced by the Synapse homeserver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = ["GroupRegModule", "__version__"]

if TYPE_CHECKING:
    from synapse_groupreg.module import GroupRegModule


def __getattr__(name: str) -> Any:
    # Imported on first use, not with the package: the `groupreg` CLI and
    # the pure rules need none of Synapse, which takes seconds to import.
    if name == "GroupRegModule":
        from synapse_groupreg.module import GroupRegModule

        return GroupRegModule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
