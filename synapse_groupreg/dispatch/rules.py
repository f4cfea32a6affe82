"""Rules: what each concern contributes to the dispatcher.

A rule has a name, the check it belongs to (`fail:` and `enforcement:`
keys, and the `check` label of the metrics), and a decision over the facts
of one stage. The stages are the questions Synapse asks; each is answered
by one Synapse callback, registered once, by the dispatcher alone.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs
from synapse.api.errors import SynapseError

from synapse_groupreg.reasons import Refusal


class Stage(str, enum.Enum):
    """A question Synapse asks, and the callback that asks it."""

    #: `on_create_room`: a createRoom body, before Synapse validates it, for
    #: every user; rules may change the body (CreationFacts).
    CREATE_REQUEST = "create_request"
    #: `user_may_create_room`: a validated creation or a room upgrade, not
    #: for server admins (CreationFacts).
    CREATE = "create"
    #: `user_may_join_room`: a local user about to join (JoinFacts).
    JOIN = "join"
    #: `user_may_invite`: a local user inviting (InviteFacts).
    INVITE = "invite"
    #: `federated_user_may_invite`: another server's invite (EventFacts).
    REMOTE_INVITE = "remote_invite"
    #: `check_event_for_spam`: every non-membership event a local user
    #: sends, and every event received over federation, where a refusal
    #: soft-fails it (EventFacts, without state until a rule asks).
    EVENT = "event"
    #: `check_event_allowed` for `m.room.member`: every membership event
    #: created here (local users, server admins included; remote users'
    #: joins and knocks at make_join / make_knock), with the room's state;
    #: and, `seated`, memberships that arrived over federation.
    MEMBER = "member"
    #: `check_event_allowed` for `org.groupreg.room`: every registration
    #: state event created here, createRoom's own included (EventFacts).
    REGISTRATION = "registration"
    #: `user_may_create_room_alias` (AliasFacts).
    ALIAS = "alias"
    #: `check_username_for_spam`: a refusal hides the user from directory
    #: searches (ProfileFacts).
    DIRECTORY = "directory"
    #: `check_media_file_for_spam`: a file Synapse stores, local uploads and
    #: remote media, not thumbnails (MediaFacts).
    MEDIA = "media"


F = TypeVar("F")
Decide = Callable[[F], Awaitable[Refusal | None]]


@attrs.frozen(slots=True)
class Rule(Generic[F]):
    """One decision of one concern at one stage.

    Args:
        name: what the rule is, for logs (e.g. "identity.send").
        check: the check it belongs to (config CHECKS): its fail mode,
            enforcement mode and metric label.
        decide: None to allow, or the refusal. A refusal's `then` runs only
            when the refusal is enforced.
        audit: the audit action recorded for each enforced refusal
            (e.g. "room.refused"), or None.
        remote: also judge facts whose actor is on another server (the
            default judges local actors only).
        bot: also judge the notice bot (the default lets it through).
        removal: at the member stage, the audit action when a member who
            arrived over federation is removed on this rule's refusal.
    """

    name: str
    check: str
    decide: Decide[F]
    audit: str | None = None
    remote: bool = False
    bot: bool = False
    removal: str = "room.removed"


class BadRequest(Exception):
    """A rule's answer that is not a refusal of the rules but a request
    Synapse must refuse as malformed (a 400 naming the field). The
    dispatcher passes the error through unchanged; any other exception of
    a rule is a fault, answered by the check's fail mode (G6)."""

    def __init__(self, error: SynapseError) -> None:
        super().__init__(str(error))
        self.error = error


#: What one concern contributes: its rules at each stage, in its order.
Contribution = Mapping[Stage, Sequence[Rule[Any]]]


@attrs.frozen(slots=True)
class RuleBook:
    """Which rules run at each stage, in order: the first refusal wins."""

    stages: Mapping[Stage, Sequence[Rule[Any]]]

    def at(self, stage: Stage) -> Sequence[Rule[Any]]:
        return self.stages.get(stage, ())

    @classmethod
    def build(
        cls,
        order: Mapping[Stage, Sequence[str]],
        contributions: Mapping[str, Contribution],
    ) -> RuleBook:
        """The rules of each stage, concern by concern in `order`'s order.

        Raises:
            ValueError: a concern contributes to a stage whose order does not
                name it (its rules would never run).
        """
        for concern, contribution in contributions.items():
            for stage, rules in contribution.items():
                if rules and concern not in order.get(stage, ()):
                    raise ValueError(
                        f"{concern} has rules for {stage.value}, "
                        f"but the order of {stage.value} omits it"
                    )
        stages = {
            stage: tuple(
                rule
                for concern in concerns
                for rule in contributions.get(concern, {}).get(stage, ())
            )
            for stage, concerns in order.items()
        }
        return cls(stages={s: r for s, r in stages.items() if r})
