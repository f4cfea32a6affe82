"""`roles:` and `audit:` — who governs the governors (G7, F1).

`roles:` maps each module role to the Synapse users who hold it; without
the section Synapse's server admins hold every role. `audit.checkpoints`
says how often the audit chain's head is signed, with which key, and where
the signed checkpoints are kept outside the database.
"""

from __future__ import annotations

import re

import attrs

from synapse_groupreg.config._reader import Section
from synapse_groupreg.governance.roles import ROLE_NAMES, Role, RolePolicy

#: A Matrix user id, as far as config can tell: '@localpart:server'.
_USER_ID = re.compile(r"^@[^:\s]+:[^\s]+$")
#: The key name that means "the homeserver's own signing key".
HOMESERVER_KEY = "homeserver"


def read_roles(root: Section) -> RolePolicy:
    """The `roles:` section; absent or null keeps today's behaviour (server
    admins hold every role).

    Raises:
        ConfigError: a role that does not exist, a user id that is not one,
            or a configuration without an owner.
    """
    if not root.has("roles") or root.raw.get("roles") is None:
        root.section("roles")  # mark it read
        return RolePolicy(None)
    section = root.section("roles")
    grants: dict[Role, frozenset[str]] = {}
    for name in section.names():
        if name not in ROLE_NAMES:
            raise section.error(
                name,
                f"{name!r} is not a role; try one of: {', '.join(ROLE_NAMES)}",
            )
        users = section.string_list(name, ())
        for i, user in enumerate(users):
            if not _USER_ID.match(user):
                raise section.error(
                    name,
                    f"item {i}: {user!r} is not a Matrix user id ('@name:server')",
                )
        grants[Role(name)] = frozenset(users)
    if not grants.get(Role.OWNER):
        raise section.error(
            Role.OWNER.value,
            "name at least one owner: without one nobody could see who holds"
            " which role (remove 'roles' to let server admins hold every role)",
        )
    section.finish()
    return RolePolicy(grants)


@attrs.frozen(slots=True)
class CheckpointConfig:
    """Signed checkpoints of the audit chain's head (F1)."""

    #: How often a checkpoint is written when the chain has moved.
    interval_ms: int
    #: HOMESERVER_KEY (the homeserver's signing key, whose public half other
    #: servers already know), or the path of the module's own ed25519 key
    #: file in Synapse's signing-key format (`generate_signing_key -o PATH`).
    key: str
    #: An append-only file every checkpoint is also written to; None keeps
    #: them only in the database (and the room).
    file: str | None
    #: A room the notice bot posts every checkpoint into; the bot must be
    #: invited (it joins on the first checkpoint).
    room: str | None

    @classmethod
    def read(cls, section: Section) -> CheckpointConfig:
        interval = section.duration_ms("interval", "1h")
        if not 1000 <= interval <= 7 * 86_400_000:
            raise section.error("interval", "must be between 1s and 7d")
        key = section.string("key", HOMESERVER_KEY)
        if not key:
            raise section.error(
                "key", "name 'homeserver' or the path of an ed25519 key file"
            )
        file = section.optional_string("file")
        room = section.optional_string("room")
        if room is not None and not room.startswith("!"):
            raise section.error(
                "room", f"{room!r} is not a room id (it starts with '!')"
            )
        section.finish()
        return cls(interval_ms=interval, key=key, file=file, room=room)


@attrs.frozen(slots=True)
class AuditConfig:
    checkpoints: CheckpointConfig

    @classmethod
    def read(cls, section: Section) -> AuditConfig:
        config = cls(checkpoints=CheckpointConfig.read(section.section("checkpoints")))
        section.finish()
        return config
