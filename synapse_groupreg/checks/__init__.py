"""The concerns' rules, and the one list that says which run where.

Each file answers for one concern and contributes rules (dispatch/rules.py)
at the stages where Synapse asks about what it governs, and reactions to
what happened. `ORDER` is the one place that says, per stage, whose rules
run and in which order: the first refusal wins, so checks that cost a
lookup and refuse whole rooms or users come before the ones that read
content, and those that reserve something (seats, creations) come last,
so that nothing is reserved for an act another rule refuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from synapse_groupreg.dispatch import Stage

#: Per stage, the concerns whose rules run, in order.
ORDER: Mapping[Stage, Sequence[str]] = {
    Stage.CREATE_REQUEST: ("content", "rooms"),
    Stage.CREATE: ("identity", "covenant", "blacklist", "sanctions", "rooms"),
    Stage.JOIN: ("identity", "covenant", "blacklist", "sanctions", "federation"),
    Stage.INVITE: ("identity", "covenant", "blacklist"),
    Stage.REMOTE_INVITE: ("blacklist", "sanctions", "federation"),
    Stage.EVENT: (
        "rooms",
        "blacklist",
        "sanctions",
        "mutes",
        "identity",
        "covenant",
        "content",
        "links",
        "limits",
    ),
    Stage.MEMBER: (
        "identity",
        "covenant",
        "blacklist",
        "sanctions",
        "content",
        "rooms",
    ),
    Stage.REGISTRATION: ("rooms",),
    Stage.ALIAS: ("content",),
    Stage.DIRECTORY: ("content",),
    Stage.MEDIA: ("media",),
}
