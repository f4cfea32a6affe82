"""What the dispatcher knows about one question Synapse asks, computed once
and shared by every rule that answers it.

Each kind of question has its facts: an event (`EventFacts`), a join
(`JoinFacts`), an invite (`InviteFacts`), a room creation
(`CreationFacts`), an alias (`AliasFacts`), a directory entry
(`ProfileFacts`), a stored file (`MediaFacts`). Everything that costs a
lookup is read on first use and kept for the other rules: the room's
registration, the room's state, the event a redaction targets. A plain
message asks for none of them.

Every facts object names an `actor` and a `target` (for the audit entry of
a refusal) and says whether it involves the notice bot, which the
dispatcher lets through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from synapse_groupreg.events import MEMBER

if TYPE_CHECKING:
    from synapse.events import EventBase

    from synapse_groupreg.store.rooms import RoomRow

StateMap = Mapping[tuple[str, str], "EventBase"]
IsBot = Callable[[str], bool]
_UNREAD: Any = object()


class Sources(Protocol):
    """Where facts come from when a rule asks (the composition root gives
    the registry and the Matrix room adapter)."""

    async def room(self, room_id: str) -> RoomRow | None:
        """The room's registration (cached in every process)."""
        ...

    async def state(self, room_id: str) -> StateMap:
        """The room's whole current state."""
        ...

    async def event(self, event_id: str) -> EventBase | None:
        """An event this server has (Synapse's event cache)."""
        ...


class _RoomFacts:
    """The lazily read registration of `room_id`, for every kind of facts."""

    __slots__ = ()
    _sources: Sources
    _room: Any

    async def room(self) -> RoomRow | None:
        """The room's registration, read once."""
        if self._room is _UNREAD:
            this: Any = self  # every subclass has a room_id
            self._room = await self._sources.room(this.room_id)
        room: RoomRow | None = self._room
        return room


@attrs.define(slots=True, eq=False)
class EventFacts(_RoomFacts):
    """An event: one a local user is sending (`check_event_for_spam`), one
    being created here (`check_event_allowed`: local events, and remote
    users' joins and knocks at make_join / make_knock), one received over
    federation, or a membership that arrived over federation and is
    already in the room (`seated`)."""

    event: EventBase
    #: The sender is a user of this server.
    local: bool
    _sources: Sources
    #: The room's state before the event, where Synapse handed it over.
    _state: StateMap | None = None
    #: The member is in the room already (a federated arrival judged after
    #: the fact): rules say whether they may stay, nothing is reserved.
    seated: bool = False
    _room: Any = _UNREAD
    _redacted: Any = _UNREAD

    @property
    def sender(self) -> str:
        return str(self.event.sender)

    @property
    def room_id(self) -> str:
        return str(self.event.room_id)

    @property
    def type(self) -> str:
        return str(self.event.type)

    @property
    def state_key(self) -> str | None:
        key = self.event.get_state_key()
        return None if key is None else str(key)

    @property
    def is_state(self) -> bool:
        return self.state_key is not None

    @property
    def membership(self) -> str | None:
        """`join`, `invite`, `leave`, `ban` or `knock` for member events."""
        if self.type != MEMBER:
            return None
        value = self.event.content.get("membership")
        return value if isinstance(value, str) else None

    @property
    def actor(self) -> str:
        return self.sender

    @property
    def target(self) -> str:
        return self.room_id

    def involves(self, is_bot: IsBot) -> bool:
        """The notice bot sends it, or it is the bot's own membership."""
        if is_bot(self.sender):
            return True
        return self.type == MEMBER and is_bot(self.state_key or "")

    async def state(self) -> StateMap:
        """The room's state: as Synapse handed it over, or else the current
        state, read on first use (only rules that need it pay for it)."""
        if self._state is None:
            self._state = await self._sources.state(self.room_id)
        return self._state

    async def redacted_sender(self) -> str | None:
        """For a redaction, the sender of the event it removes (None when
        unknown); read once."""
        event = await self.redacted_event()
        return None if event is None else str(event.sender)

    async def redacted_event(self) -> EventBase | None:
        if self._redacted is _UNREAD:
            redacts = getattr(self.event, "redacts", None)
            self._redacted = (
                await self._sources.event(redacts) if isinstance(redacts, str) else None
            )
        event: EventBase | None = self._redacted
        return event


@attrs.define(slots=True, eq=False)
class JoinFacts(_RoomFacts):
    """A local user about to join a room (`user_may_join_room`: not for
    server admins, nor for a room's creator joining it at creation)."""

    user_id: str
    room_id: str
    is_invited: bool
    _sources: Sources
    _room: Any = _UNREAD
    #: Synapse asks only about local users.
    local: bool = True

    @property
    def actor(self) -> str:
        return self.user_id

    @property
    def target(self) -> str:
        return self.room_id

    def involves(self, is_bot: IsBot) -> bool:
        return is_bot(self.user_id)


@attrs.define(slots=True, eq=False)
class InviteFacts(_RoomFacts):
    """A local user inviting someone (`user_may_invite`, not for server
    admins)."""

    inviter: str
    invitee: str
    room_id: str
    _sources: Sources
    _room: Any = _UNREAD
    #: The inviter is local.
    local: bool = True

    @property
    def actor(self) -> str:
        return self.inviter

    @property
    def target(self) -> str:
        return self.room_id

    def involves(self, is_bot: IsBot) -> bool:
        return is_bot(self.inviter) or is_bot(self.invitee)


@attrs.define(slots=True, eq=False)
class CreationFacts:
    """A room about to be created: a createRoom body (`on_create_room`,
    before Synapse validates it, for everyone; rules there may change it),
    or the room's configuration once validated (`user_may_create_room`: not
    for server admins; also for room upgrades, which have no createRoom
    body)."""

    user_id: str
    request: dict[str, Any]
    is_admin: bool
    local: bool = True

    @property
    def actor(self) -> str:
        return self.user_id

    @property
    def target(self) -> str:
        return ""

    def involves(self, is_bot: IsBot) -> bool:
        return is_bot(self.user_id)


@attrs.define(slots=True, eq=False)
class AliasFacts:
    """A room alias about to be created (`user_may_create_room_alias`)."""

    user_id: str
    alias: str
    local: bool = True

    @property
    def actor(self) -> str:
        return self.user_id

    @property
    def target(self) -> str:
        return self.alias

    def involves(self, is_bot: IsBot) -> bool:
        return is_bot(self.user_id)


@attrs.define(slots=True, eq=False)
class ProfileFacts:
    """A user shown in a user-directory search (`check_username_for_spam`):
    a refusal hides them."""

    user_id: str
    display_name: str | None
    local: bool

    @property
    def actor(self) -> str:
        return self.user_id

    @property
    def target(self) -> str:
        return self.user_id

    def involves(self, is_bot: IsBot) -> bool:
        return is_bot(self.user_id)


@attrs.define(slots=True, eq=False)
class MediaFacts:
    """A file Synapse has written and is about to keep
    (`check_media_file_for_spam`): a local upload, a copy of another
    server's media, a URL preview's page or image. Thumbnails are not
    asked about: the file they are made from was."""

    #: Where the file is on disk (read it in a thread).
    path: str
    #: The file's id: the media id for local uploads.
    file_id: str
    #: The server the media came from; None for this server's own files.
    origin: str | None
    #: The user whose request stores the file (the uploader; for remote
    #: media, who asked for it); None when Synapse did not say.
    requester: str | None
    #: A URL preview's download.
    url_preview: bool = False

    @property
    def local(self) -> bool:
        """Uploaded here (remote media is judged only by rules that say
        `remote=True`)."""
        return self.origin is None

    @property
    def actor(self) -> str:
        return self.requester or self.origin or "-"

    @property
    def target(self) -> str:
        return f"{self.origin or 'local'}/{self.file_id}"

    def involves(self, is_bot: IsBot) -> bool:
        return self.requester is not None and is_bot(self.requester)


class Facts(Protocol):
    local: bool

    @property
    def actor(self) -> str: ...

    @property
    def target(self) -> str: ...

    def involves(self, is_bot: IsBot) -> bool: ...


#: Loads the current state of a room (Sources.state), for seated arrivals.
StateLoader = Callable[[str], Awaitable[StateMap]]
