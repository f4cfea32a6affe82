"""The Matrix event types the module reads or writes, named once.

Plain strings, importable without Synapse (the CLI and the pure rules use
them too). `ROOM_STATE` is the module's own state event (docs/openapi.yaml).
"""

from __future__ import annotations

CREATE = "m.room.create"
MEMBER = "m.room.member"
POWER_LEVELS = "m.room.power_levels"
JOIN_RULES = "m.room.join_rules"
NAME = "m.room.name"
TOPIC = "m.room.topic"
CANONICAL_ALIAS = "m.room.canonical_alias"
ENCRYPTION = "m.room.encryption"
ENCRYPTED = "m.room.encrypted"
REDACTION = "m.room.redaction"
TOMBSTONE = "m.room.tombstone"
MESSAGE = "m.room.message"
REACTION = "m.reaction"

#: A group's registration: {code, class, category, creator} (docs/openapi.yaml).
ROOM_STATE = "org.groupreg.room"

#: Memberships that occupy a seat in a room (B3: joined + invited).
SEATED = ("join", "invite")


def state_key_pair(event_type: str) -> tuple[str, str]:
    """The (type, state_key) of a room-wide state event."""
    return (event_type, "")
