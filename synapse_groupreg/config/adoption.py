"""`adoption:` — taking over a server that already has rooms (H1, H2, H3, H5).

On a server that ran without the module, or while it was unloaded, rooms
exist that the registry does not know. The background-tasks instance
registers them (adoption) and rewrites the registration state of every
registered room where it is missing or differs (repair).
"""

from __future__ import annotations

import enum

import attrs

from synapse_groupreg.config._reader import Section


class ClassChoice(str, enum.Enum):
    """Which class an existing room goes to (H2)."""

    #: The smallest class whose member cap holds the room's members (by
    #: cap; among equal caps, the first configured); the largest if none does.
    BY_SIZE = "by_size"
    #: The default class (`rooms.default_class`), whatever the room's size.
    DEFAULT = "default"


class EncryptedRooms(str, enum.Enum):
    """What becomes of a room encrypted before adoption whose class forbids
    encryption (H3): encryption cannot be turned off in Matrix."""

    #: The room keeps working; it is listed as an exception.
    KEEP = "keep"
    #: Posting is suspended, with a statement to the members saying why and
    #: what to do (create a new, unencrypted group).
    SUSPEND = "suspend"


@attrs.frozen(slots=True)
class AdoptionConfig:
    enabled: bool
    classes: ClassChoice
    encrypted_rooms: EncryptedRooms
    #: With `encrypted_rooms: suspend`, how long the suspension lasts.
    suspend_for_ms: int
    #: Rooms taken per batch, and the pause between batches, so that
    #: adopting ten thousand rooms does not stall the server.
    batch: int
    pause_ms: int
    #: How often the registry looks again for rooms it does not know.
    interval_ms: int
    #: Rewrite `org.groupreg.room` where it differs from the registry.
    repair: bool

    @classmethod
    def read(cls, section: Section) -> AdoptionConfig:
        config = cls(
            enabled=section.boolean("enabled", True),
            classes=ClassChoice(
                section.string(
                    "classes",
                    ClassChoice.BY_SIZE.value,
                    [c.value for c in ClassChoice],
                )
            ),
            encrypted_rooms=EncryptedRooms(
                section.string(
                    "encrypted_rooms",
                    EncryptedRooms.KEEP.value,
                    [c.value for c in EncryptedRooms],
                )
            ),
            suspend_for_ms=section.duration_ms("suspend_for", "365d"),
            batch=section.integer("batch", 50, minimum=1, maximum=1000),
            pause_ms=section.duration_ms("pause", "1s"),
            interval_ms=section.duration_ms("interval", "10m"),
            repair=section.boolean("repair", True),
        )
        section.finish()
        return config
