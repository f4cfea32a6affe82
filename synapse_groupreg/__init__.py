"""synapse-groupreg: group-chat governance enforced by the Synapse homeserver."""

__version__ = "0.1.0"
