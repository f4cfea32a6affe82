"""Where an existing room goes (H2): pure rules over what its state says.

- A direct chat: two people at most (joined or invited), marked direct by
  either member (`is_direct` on an invite, or listed in a member's
  `m.direct` account data) or created as one (the `trusted_private_chat`
  preset Element uses gives both creators, room version 12). It becomes
  class `direct`, not a group.
- A group: by default the smallest class whose member cap holds its
  members (`by_size`), or the default class (`default`). A room larger than
  every cap goes to the largest class and is `over_cap`: its members stay
  and keep talking, nobody new joins until it is under the cap or an admin
  moves it. Adoption never removes anyone.
"""

from __future__ import annotations

import attrs

from synapse_groupreg.config.adoption import ClassChoice
from synapse_groupreg.config.rooms import DIRECT, RoomsConfig


@attrs.frozen(slots=True)
class Placement:
    """The class an existing room goes to, and whether it is over its cap."""

    room_class: str
    over_cap: bool = False

    @property
    def is_direct(self) -> bool:
        return self.room_class == DIRECT


def place_existing(
    rooms: RoomsConfig, choice: ClassChoice, members: int, direct: bool
) -> Placement:
    """The class of an existing room of `members` members (joined or
    invited)."""
    if direct and members <= 2:
        return Placement(DIRECT)
    if choice is ClassChoice.DEFAULT:
        default = rooms.classes[rooms.default_class]
        return Placement(default.name, members > default.member_cap)
    # Stable: among classes of equal caps the first configured wins.
    by_cap = sorted(rooms.classes.values(), key=lambda c: c.member_cap)
    for room_class in by_cap:
        if members <= room_class.member_cap:
            return Placement(room_class.name)
    return Placement(by_cap[-1].name, over_cap=True)
