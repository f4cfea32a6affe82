"""synapse-groupreg: group-chat governance enforced by the Synapse homeserver."""

__version__ = "0.1.0"

from synapse_groupreg.module import GroupRegModule

__all__ = ["GroupRegModule", "__version__"]
