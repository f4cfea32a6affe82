"""Room classes, caps, registration codes and federation (requirements B1-B7, C5).

Everything under the `rooms:` key of the module's configuration. Each class
says how big its groups may grow, who may create one, who may join once it
is large, whether end-to-end encryption and federation are allowed, and
which categories a group of that class may declare.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from synapse_groupreg.config._reader import Section
from synapse_groupreg.identity.levels import IdentityLevel

#: The class of direct chats (`is_direct`, at most two members): not a
#: group, no registration code, not counted against creation or join caps.
DIRECT = "direct"
#: Direct chats hold at most two members, joined and invited together.
DIRECT_MEMBER_CAP = 2

_CLASS_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_CODE_PREFIX = re.compile(r"^[A-Z]{1,4}$")
_LEVELS = [level.value for level in IdentityLevel]

# Categories a group declares (B1, B6): the Provisions ask platforms to
# classify groups; these are the cn defaults and the generic ones alike.
_CATEGORIES = ["work", "study", "family", "interest", "community", "business", "other"]

# The cn classes of B1. Raw YAML, read through the same checks as an
# operator's own values.
_CN_CLASSES: dict[str, Any] = {
    "small": {
        "member_cap": 40,
        "create": {"identity": "phone", "min_credit": 60},
    },
    "medium": {
        "member_cap": 200,
        "create": {"identity": "id", "min_credit": 80},
    },
    "large": {
        "member_cap": 500,
        "create": {"identity": "id", "min_credit": 90},
        "join": {"verified_from": 0, "identity": "phone"},
    },
    "xl": {
        "member_cap": 2000,
        "create": {"identity": "id", "min_credit": 90, "approval": True},
        "join": {"verified_from": 0, "identity": "phone"},
    },
}

# generic: the same sizes without identity or credit requirements.
_GENERIC_CLASSES: dict[str, Any] = {
    "small": {"member_cap": 40},
    "medium": {"member_cap": 200},
    "large": {"member_cap": 500},
    "xl": {"member_cap": 2000, "create": {"approval": True}},
}


@attrs.frozen(slots=True)
class ClassLimits:
    """Flood and join-wave limits of a class (B9); None turns each off.

    Counted in each process's memory (messages: by the process that takes
    the send request; joins: by the background-tasks process, which sees
    every worker's events), over `rooms.limits_window` (one minute).
    """

    #: Messages one member may send in one room per window.
    messages_per_minute: int | None = None
    #: Users one message may mention (`@room` counts as one).
    mentions_per_message: int | None = None
    #: Joins per window above which the group turns to knocking.
    joins_per_minute: int | None = None
    #: How long a join wave keeps the group knock-only (milliseconds).
    join_cooldown_ms: int = 600_000

    @property
    def on(self) -> bool:
        return any(
            v is not None
            for v in (
                self.messages_per_minute,
                self.mentions_per_message,
                self.joins_per_minute,
            )
        )

    @classmethod
    def read(cls, section: Section) -> ClassLimits:
        limits = cls(
            messages_per_minute=section.optional_integer(
                "messages_per_minute", minimum=1
            ),
            mentions_per_message=section.optional_integer(
                "mentions_per_message", minimum=1
            ),
            joins_per_minute=section.optional_integer("joins_per_minute", minimum=1),
            join_cooldown_ms=section.duration_ms("join_cooldown", "10m"),
        )
        if not 1_000 <= limits.join_cooldown_ms <= 7 * 86_400_000:
            raise section.error(
                "join_cooldown", "must lie between '1s' and '7d' (e.g. '10m')"
            )
        section.finish()
        return limits


@attrs.frozen(slots=True)
class RoomClass:
    """One class of group (分级分类管理)."""

    name: str
    #: Members (joined + invited, local and remote) a room of the class holds.
    member_cap: int
    #: Rooms of this class one user may have created (None: only the total).
    created_per_user: int | None
    #: The identity level a creator needs.
    create_identity: IdentityLevel
    #: The credit score a creator needs; None asks nothing (and so does a
    #: server without the credit system).
    create_min_credit: int | None
    #: Creating a room of this class, or moving one into it, needs a server
    #: admin's approval.
    create_approval: bool
    #: From this many members on, joiners need `join_identity` (None: never).
    join_verified_from: int | None
    join_identity: IdentityLevel
    #: Whether `m.room.encryption` may be sent. Encrypted rooms cannot be
    #: filtered (C5).
    encryption: bool
    #: Whether users of other servers may be members.
    federation: bool
    #: The categories a room of the class may declare.
    categories: tuple[str, ...]
    #: Flood and join-wave limits (B9), off unless configured.
    limits: ClassLimits = ClassLimits()

    @classmethod
    def read(cls, name: str, section: Section, profile_cn: bool) -> RoomClass:
        if not _CLASS_NAME.match(name) or name == DIRECT:
            raise section.error(
                None,
                f"{name!r} is not a usable class name; use lower-case letters, "
                f"digits, '_' and '-' (at most 32), and not {DIRECT!r}, which "
                "names direct chats",
            )
        if not section.has("member_cap"):
            raise section.error("member_cap", "'member_cap' is required")
        create = section.section("create")
        join = section.section("join")
        categories = section.string_list("categories", _CATEGORIES)
        if not categories:
            raise section.error("categories", "list at least one category")
        if len(set(categories)) != len(categories):
            raise section.error("categories", "a category is listed twice")
        room_class = cls(
            name=name,
            member_cap=section.integer("member_cap", 0, minimum=2),
            created_per_user=section.optional_integer("created_per_user", minimum=1),
            create_identity=IdentityLevel(
                create.string("identity", IdentityLevel.NONE.value, _LEVELS)
            ),
            create_min_credit=create.optional_integer(
                "min_credit", minimum=0, maximum=120
            ),
            create_approval=create.boolean("approval", False),
            join_verified_from=join.optional_integer("verified_from", minimum=0),
            join_identity=IdentityLevel(
                join.string("identity", IdentityLevel.PHONE.value, _LEVELS)
            ),
            encryption=section.boolean("encryption", not profile_cn),
            federation=section.boolean("federation", not profile_cn),
            categories=categories,
            limits=ClassLimits.read(section.section("limits")),
        )
        create.finish()
        join.finish()
        return room_class


@attrs.frozen(slots=True)
class DirectChats:
    """What the `direct` class allows."""

    encryption: bool
    federation: bool

    @classmethod
    def read(cls, section: Section, profile_cn: bool) -> DirectChats:
        direct = cls(
            encryption=section.boolean("encryption", not profile_cn),
            federation=section.boolean("federation", not profile_cn),
        )
        section.finish()
        return direct


@attrs.frozen(slots=True)
class RoomsConfig:
    """The whole `rooms:` section."""

    default_class: str
    classes: Mapping[str, RoomClass]
    direct: DirectChats
    #: Groups one user may have created (active ones; direct chats not counted).
    created_per_user: int
    #: Groups one local user may be joined to (direct chats not counted).
    joined_per_user: int
    #: From this many members on, a group needs a name and a category before
    #: more may join (B6); None turns the rule off.
    info_required_at: int | None
    #: The power level from which a member counts as a group admin (B5).
    admin_power_level: int
    #: How long a seat reserved for a join or invite stays reserved if the
    #: membership event never lands (milliseconds).
    seat_hold_ms: int
    #: Servers whose users may be invited into, and join, rooms of classes
    #: that forbid federation.
    federation_allowlist: frozenset[str]
    #: Letters in front of every registration code.
    code_prefix: str
    #: The window of the per-minute limits (B9): one minute; tests shorten it.
    limits_window_ms: int = 60_000

    def class_names(self) -> list[str]:
        return list(self.classes)

    # The rules of a room's class, where None stands for a direct chat.

    def allows_federation(self, room_class: RoomClass | None) -> bool:
        return self.direct.federation if room_class is None else room_class.federation

    def allows_encryption(self, room_class: RoomClass | None) -> bool:
        return self.direct.encryption if room_class is None else room_class.encryption

    def admits_server(self, room_class: RoomClass | None, server: str) -> bool:
        """Whether users of `server` (another server) may be members."""
        return self.allows_federation(room_class) or server in self.federation_allowlist

    @classmethod
    def read(cls, section: Section, profile_cn: bool) -> RoomsConfig:
        classes = section.items(
            "classes",
            lambda name, item: RoomClass.read(name, item, profile_cn),
            _CN_CLASSES if profile_cn else _GENERIC_CLASSES,
        )
        if not classes:
            raise section.error("classes", "configure at least one room class")
        default_class = section.string(
            "default_class", "small" if profile_cn else "medium", list(classes)
        )
        code_prefix = section.string("code_prefix", "G")
        if not _CODE_PREFIX.match(code_prefix):
            raise section.error(
                "code_prefix",
                f"{code_prefix!r} is not allowed; use 1 to 4 capital letters A-Z",
            )
        allowlist = section.string_list("federation_allowlist", ())
        for i, server in enumerate(allowlist):
            if not server or any(c.isspace() or c in "@/" for c in server):
                raise section.error(
                    "federation_allowlist",
                    f"item {i} ({server!r}) is not a server name such as "
                    "'example.org' or 'example.org:8448'",
                )
        config = cls(
            default_class=default_class,
            classes=classes,
            direct=DirectChats.read(section.section(DIRECT), profile_cn),
            created_per_user=section.integer("created_per_user", 50, minimum=1),
            joined_per_user=section.integer("joined_per_user", 500, minimum=1),
            # null turns the rule off; the generic profile has it off.
            info_required_at=(
                section.optional_integer("info_required_at", minimum=1)
                if section.has("info_required_at")
                else 100
                if profile_cn
                else None
            ),
            admin_power_level=section.integer(
                "admin_power_level", 50, minimum=1, maximum=100
            ),
            seat_hold_ms=_seat_hold(section),
            federation_allowlist=frozenset(allowlist),
            code_prefix=code_prefix,
            limits_window_ms=_limits_window(section),
        )
        section.finish()
        return config


def _seat_hold(section: Section) -> int:
    hold = section.duration_ms("seat_hold", "60s")
    if not 1_000 <= hold <= 3_600_000:
        raise section.error(
            "seat_hold", "must lie between '1s' and '1h' (a join takes seconds)"
        )
    return hold


def _limits_window(section: Section) -> int:
    window = section.duration_ms("limits_window", "1m")
    if not 1_000 <= window <= 3_600_000:
        raise section.error(
            "limits_window",
            "must lie between '1s' and '1h'; the limits are per minute, so "
            "change it only to test them",
        )
    return window


def class_name(room_class: RoomClass | None) -> str:
    """A class's name, `direct` for direct chats (None)."""
    return DIRECT if room_class is None else room_class.name
