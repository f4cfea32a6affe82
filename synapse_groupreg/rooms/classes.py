"""Which class a room belongs to, and who qualifies for one (B1, B2, C5, B7).

Pure rules: no Synapse, no database. The checks feed them the createRoom
body and the facts they looked up; they answer a placement, a refusal, or
`InvalidField` for input that is simply wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from synapse_groupreg.config.rooms import (
    DIRECT,
    DIRECT_MEMBER_CAP,
    RoomClass,
    RoomsConfig,
)
from synapse_groupreg.events import ENCRYPTION
from synapse_groupreg.identity.levels import IdentityLevel
from synapse_groupreg.reasons import Reason, Refusal

#: createRoom body fields that choose a class and a category (B2).
CLASS_FIELD = "org.groupreg.class"
CATEGORY_FIELD = "org.groupreg.category"

_LEVEL_WORDS = {
    IdentityLevel.NONE: ("无", "none"),
    IdentityLevel.PHONE: ("手机号验证", "a verified phone number"),
    IdentityLevel.ID: ("身份证件验证", "a verified identity document"),
}


class InvalidField(ValueError):
    """A request field is not acceptable: a 400 naming the field."""

    def __init__(self, field: str, message: str, reason: Reason | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.reason = reason


@attrs.frozen(slots=True)
class Placement:
    """Where a new room goes: its class (or `direct`) and category."""

    room_class: str
    category: str | None

    @property
    def is_direct(self) -> bool:
        return self.room_class == DIRECT


def is_direct_chat(body: Mapping[str, Any]) -> bool:
    """A direct chat as B1 means it: `is_direct` and at most one invitee."""
    invites = len(body.get("invite") or ()) + len(body.get("invite_3pid") or ())
    return bool(body.get("is_direct")) and invites <= 1


def unknown_class(config: RoomsConfig, name: str) -> Refusal:
    return Refusal(
        Reason.CLASS_UNKNOWN,
        {"room_class": name, "allowed": ", ".join(config.class_names())},
    )


def place_new_room(config: RoomsConfig, body: Mapping[str, Any]) -> Placement:
    """The class and category of a room being created from `body`.

    Raises:
        InvalidField: the class or category field has the wrong type, names
            an unknown class (reason CLASS_UNKNOWN) or a category the class
            does not list.
    """
    if is_direct_chat(body):
        return Placement(DIRECT, None)
    name = body.get(CLASS_FIELD, config.default_class)
    if not isinstance(name, str):
        raise InvalidField(CLASS_FIELD, f"'{CLASS_FIELD}' must be a string")
    room_class = config.classes.get(name)
    if room_class is None:
        raise InvalidField(CLASS_FIELD, "", Reason.CLASS_UNKNOWN)
    category = body.get(CATEGORY_FIELD)
    check_category(room_class, category, CATEGORY_FIELD)
    return Placement(name, category)


def check_category(room_class: RoomClass, category: object, field: str) -> None:
    """Raises InvalidField unless `category` is None or one of the class's."""
    if category is None:
        return
    if not isinstance(category, str) or category not in room_class.categories:
        raise InvalidField(
            field,
            f"'{field}' must be one of the categories of class "
            f"'{room_class.name}': {', '.join(room_class.categories)}",
        )


def qualification_refusal(
    room_class: RoomClass,
    level: IdentityLevel,
    credit: int | None,
    approved: bool = False,
) -> Refusal | None:
    """Whether a user with `level` and `credit` (None: no credit system) may
    create a room of `room_class`, or move one into it (`approved`: a server
    admin already said yes)."""
    requirement: tuple[str, str] | None = None
    if not level.at_least(room_class.create_identity):
        zh, en = _LEVEL_WORDS[room_class.create_identity]
        requirement = (f"需要{zh}", f"it needs {en}")
    elif (
        credit is not None
        and room_class.create_min_credit is not None
        and credit < room_class.create_min_credit
    ):
        need = room_class.create_min_credit
        requirement = (
            f"信用分须达到 {need}（当前 {credit}）",
            f"it needs a credit score of at least {need} (yours is {credit})",
        )
    elif room_class.create_approval and not approved:
        requirement = (
            "该类别须经平台审批：请先创建其他类别的群组，再申请调整类别",
            "it needs platform approval: create the group in another class, "
            "then ask to move it",
        )
    if requirement is None:
        return None
    return Refusal(
        Reason.CLASS_NOT_QUALIFIED,
        {"room_class": room_class.name, "requirement": requirement},
    )


def creation_refusal(
    config: RoomsConfig,
    placement: Placement,
    initial_state: Sequence[Mapping[str, Any]],
    remote_invitees: Sequence[str],
    invitees: int,
) -> Refusal | None:
    """What a createRoom request asks that its class forbids, before anything
    is created: encryption (C5), users of other servers (B7), more members
    than the class holds (B3). `remote_invitees` must already exclude
    allow-listed servers."""
    allows_encryption, allows_federation, cap = class_limits(config, placement)
    if not allows_encryption and any(
        s.get("type") == ENCRYPTION for s in initial_state
    ):
        return Refusal(
            Reason.ENCRYPTION_FORBIDDEN, {"room_class": placement.room_class}
        )
    if not allows_federation and remote_invitees:
        return federation_refusal(placement.room_class, remote_invitees[0])
    if 1 + invitees > cap:
        return Refusal(Reason.ROOM_FULL, {"limit": cap})
    return None


def class_limits(config: RoomsConfig, placement: Placement) -> tuple[bool, bool, int]:
    """(encryption allowed, federation allowed, member cap) of a placement."""
    room_class = None if placement.is_direct else config.classes[placement.room_class]
    return (
        config.allows_encryption(room_class),
        config.allows_federation(room_class),
        DIRECT_MEMBER_CAP if room_class is None else room_class.member_cap,
    )


def server_of(user_id: str) -> str:
    """The server part of a user id (`@alice:example.org:8448` ->
    `example.org:8448`)."""
    return user_id.split(":", 1)[1] if ":" in user_id else user_id


def federation_refusal(room_class: str, user_id: str) -> Refusal:
    return Refusal(
        Reason.FEDERATION_FORBIDDEN,
        {"room_class": room_class, "server": server_of(user_id)},
    )


def moving_refusal(
    target: RoomClass, members: int, encrypted: bool, remote_servers: Sequence[str]
) -> Refusal | None:
    """Whether a room as it stands fits `target` (B2): its members, its
    encryption, its remote members."""
    if members > target.member_cap:
        return Refusal(
            Reason.CLASS_NOT_QUALIFIED,
            {
                "room_class": target.name,
                "requirement": (
                    f"群成员 {members} 人，超过该类别上限 {target.member_cap} 人",
                    f"the group has {members} members and the class holds "
                    f"at most {target.member_cap}",
                ),
            },
        )
    if encrypted and not target.encryption:
        return Refusal(Reason.ENCRYPTION_FORBIDDEN, {"room_class": target.name})
    if remote_servers and not target.federation:
        return Refusal(
            Reason.FEDERATION_FORBIDDEN,
            {"room_class": target.name, "server": remote_servers[0]},
        )
    return None
