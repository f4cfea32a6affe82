"""The dispatcher: the one place where the module meets Synapse's callbacks.

It registers each Synapse callback once, builds the facts of each question
once, and runs the stage's rules in the rule book's order. For every rule
it lets the notice bot through (unless the rule says otherwise), times and
counts the decision (G4), answers a fault by the check's fail mode (G6),
and applies the check's enforcement mode (H4): an enforced refusal runs its
consequence and its audit entry (inside the guard: a broken database never
turns a refusal into a 500) and becomes Synapse's answer; an observed one
is counted, logged, noted, and the next rule runs.

Callbacks that decide nothing (`on_new_event`, profile and 3PID changes,
deactivation, registrations and logins) reach the concerns' reactions,
each run on its own so one failing reaction does not stop the others.

Synapse facts relied on (1.163, synapse/module_api/callbacks/):
- spam-checker callbacks refuse by returning `(Codes, dict)`; the dict
  becomes the 403 body beside errcode (spamchecker_callbacks.py, and
  handlers/message.py for `check_event_for_spam`).
- `check_event_allowed` and `on_create_room` refuse by raising
  `SynapseError`, which reaches the client; any other exception is a 500
  (third_party_event_rules_callbacks.py).
- `check_username_for_spam` answers True to hide a user.
- `check_media_file_for_spam` runs once Synapse has written the file, for
  local uploads, remote media, URL previews and every thumbnail
  (media/media_storage.py, `store_into_file`). Its refusal tuple loses the
  dict: the upload servlet answers "400 Bad content"
  (rest/media/upload_resource.py catches `SpamMediaException` only). A
  `SynapseError` raised there instead propagates to the client whole (the
  file is removed on the way out, `store_into_file`'s except), so the
  module raises its refusal, as for `check_event_allowed`.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

import attrs
from synapse.api.errors import Codes
from synapse.module_api import NOT_SPAM
from synapse.spam_checker_api import RegistrationBehaviour

from synapse_groupreg import hs
from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import Enforcement, Language
from synapse_groupreg.dispatch.facts import (
    AliasFacts,
    CreationFacts,
    EventFacts,
    Facts,
    InviteFacts,
    JoinFacts,
    MediaFacts,
    ProfileFacts,
    Sources,
    StateMap,
)
from synapse_groupreg.dispatch.guard import Guard
from synapse_groupreg.dispatch.rules import BadRequest, Rule, RuleBook, Stage
from synapse_groupreg.events import MEMBER, ROOM_STATE, SEATED
from synapse_groupreg.reasons import (
    Reason,
    Refusal,
    message,
    to_spam_result,
    to_synapse_error,
)

if TYPE_CHECKING:
    from synapse.events import EventBase
    from synapse.media._base import FileInfo
    from synapse.media.media_storage import ReadableFileWrapper
    from synapse.module_api import ModuleApi, ProfileInfo, Requester, UserProfile
    from synapse.types import RoomAlias

logger = logging.getLogger(__name__)

SpamAnswer = Literal["NOT_SPAM"] | tuple[Codes, dict[str, str]]
_ALLOW: tuple[bool, None] = (True, None)

#: Reactions: what concerns do when something happened (nothing refused).
NewEvent = Callable[[EventFacts], Awaitable[None]]
ProfileChange = Callable[[str, "ProfileInfo", bool, bool], Awaitable[None]]
ThreepidChange = Callable[[str, str, str], Awaitable[None]]
Deactivation = Callable[[str, bool, bool], Awaitable[None]]
RegistrationAttempt = Callable[[str | None, Collection[tuple[str, str]]], None]
Login = Callable[[str, str | None, str | None, str | None, str | None], None]
Registered = Callable[[str], None]


@attrs.frozen(slots=True)
class Reactions:
    """What the concerns do once something has happened. `new_event` runs
    only on the instance that runs background tasks (it sees every event
    of every worker there, once)."""

    new_event: Sequence[NewEvent] = ()
    profile_update: Sequence[ProfileChange] = ()
    threepid_change: Sequence[ThreepidChange] = ()
    deactivation: Sequence[Deactivation] = ()
    #: (username, request_info) of a registration about to happen.
    registration_attempt: Sequence[RegistrationAttempt] = ()
    #: (user_id, device_id, user_agent, ip, auth_provider) of a login.
    login: Sequence[Login] = ()
    registered: Sequence[Registered] = ()

    @classmethod
    def merge(cls, *parts: Reactions) -> Reactions:
        """All the parts' reactions, kind by kind, in the order given."""
        fields = attrs.fields(cls)
        return cls(
            **{
                f.name: tuple(r for part in parts for r in getattr(part, f.name))
                for f in fields
            }
        )


@attrs.frozen(slots=True)
class Hooks:
    """Synapse callbacks that ask for a limit rather than a decision (D7):
    each registered once by the dispatcher when set. A fault answers as if
    no module were registered (Synapse's own limits), and is logged.

    - `ratelimit_override(user_id, limiter_name)`:
      `get_ratelimit_override_for_user` (ratelimit callbacks).
    - `upload_size_allowed(user_id, size)`:
      `is_user_allowed_to_upload_media_of_size` (media repository callbacks).
    - `upload_limits(user_id)`: `get_media_upload_limits_for_user`.
    """

    ratelimit_override: Callable[[str, str], Awaitable[Any]] | None = None
    upload_size_allowed: Callable[[str, int], Awaitable[bool]] | None = None
    upload_limits: Callable[[str], Awaitable[Any]] | None = None


#: Removes a member from a room with a reason; False if nobody could.
RemoveMember = Callable[[str, str, str], Awaitable[bool]]


class Observations(Protocol):
    """Where refusals of checks in observe mode are noted (H4)."""

    def note(self, check: str, refusal: Refusal, actor: str, target: str) -> None: ...


class Dispatcher:
    """Answers Synapse's questions with the rule book's rules.

    Args:
        book: which rules run at each stage.
        reactions: what happens after the facts.
        sources: where facts are read from on demand.
        remove_member: how a member who arrived over federation and is
            refused at the member stage is removed.
        observations: where observed refusals are noted, if anywhere.
    """

    def __init__(
        self,
        api: ModuleApi,
        book: RuleBook,
        reactions: Reactions,
        guard: Guard,
        enforcement: Enforcement,
        language: Language,
        is_bot: Callable[[str], bool],
        audit: AuditLog,
        sources: Sources,
        remove_member: RemoveMember,
        observations: Observations | None = None,
        hooks: Hooks = Hooks(),
    ) -> None:
        self._api = api
        self._hooks = hooks
        self._book = book
        self._reactions = reactions
        self._pending: collections.deque[Callable[[], Awaitable[EventFacts]]] = (
            collections.deque()
        )
        self._draining = False
        self._guard = guard
        self._enforcement = enforcement
        self._language = language
        self._is_bot = is_bot
        self._audit = audit
        self._sources = sources
        self._remove_member = remove_member
        self._observations = observations
        # The exact callables registered, so the fast paths (hs.py) can tell
        # whether only ours are registered.
        self.check_event_allowed_callback = self.check_event_allowed
        self.on_new_event_callback = self.on_new_event

    # -- deciding -------------------------------------------------------------

    async def decide(self, stage: Stage, facts: Any) -> Refusal | None:
        """Run the stage's rules on `facts`; the first enforced refusal, or
        None."""
        verdict = await self._verdict(stage, facts)
        if verdict is None:
            return None
        rule, refusal = verdict
        await self._enforced(rule, refusal, facts)
        return refusal

    async def _verdict(
        self, stage: Stage, facts: Any
    ) -> tuple[Rule[Any], Refusal] | None:
        """The first refusal that takes effect, and its rule."""
        rules = self._book.at(stage)
        if not rules:
            return None
        bot = facts.involves(self._is_bot)
        local: bool = facts.local
        for rule in rules:
            if (bot and not rule.bot) or (not local and not rule.remote):
                continue
            refusal = await self._run(rule, facts)
            if refusal is None:
                continue
            if self._enforcement.observes(rule.check):
                self._observed(rule, refusal, facts)
                continue
            return rule, refusal
        return None

    async def _run(self, rule: Rule[Any], facts: Any) -> Refusal | None:
        meter = self._guard.meter(rule.check)
        started = time.perf_counter()
        try:
            refusal = await rule.decide(facts)
        except BadRequest:
            raise
        except Exception as e:
            refusal = self._guard.failed(rule.check, e)
        return meter.done(started, refusal)

    async def _enforced(self, rule: Rule[Any], refusal: Refusal, facts: Facts) -> None:
        if refusal.then is not None:
            try:
                await refusal.then()
            except Exception:
                logger.exception(
                    "groupreg %s: what follows a refusal failed", rule.name
                )
        if rule.audit is not None:
            try:
                await self._audit.record(
                    facts.actor,
                    rule.audit,
                    facts.target,
                    {"reason": refusal.reason.value, **refusal.params},
                )
            except Exception:
                logger.exception(
                    "groupreg could not audit a refusal of %s", facts.actor
                )

    def _observed(self, rule: Rule[Any], refusal: Refusal, facts: Facts) -> None:
        self._guard.meter(rule.check).would_refuse(refusal)
        logger.info(
            "groupreg %s (observe mode) would refuse %s in %s: %s",
            rule.name,
            facts.actor,
            facts.target or "-",
            refusal.reason.value,
        )
        if self._observations is not None:
            try:
                self._observations.note(rule.check, refusal, facts.actor, facts.target)
            except Exception:
                logger.exception("groupreg could not note an observed refusal")

    def _spam(self, refusal: Refusal | None) -> SpamAnswer:
        return NOT_SPAM if refusal is None else to_spam_result(refusal, self._language)

    def _event(self, event: EventBase, state: StateMap | None = None) -> EventFacts:
        return EventFacts(
            event, self._api.is_mine(event.sender), self._sources, state=state
        )

    # -- Synapse's questions ----------------------------------------------------

    async def on_create_room(
        self, requester: Requester, request: dict[str, Any], is_admin: bool
    ) -> None:
        facts = CreationFacts(requester.user.to_string(), request, is_admin)
        try:
            refusal = await self.decide(Stage.CREATE_REQUEST, facts)
        except BadRequest as e:
            raise e.error from None
        if refusal is not None:
            raise to_synapse_error(refusal, self._language)

    async def user_may_create_room(
        self, user_id: str, room_config: dict[str, Any]
    ) -> SpamAnswer:
        facts = CreationFacts(user_id, room_config, is_admin=False)
        return self._spam(await self.decide(Stage.CREATE, facts))

    async def user_may_join_room(
        self, user_id: str, room_id: str, is_invited: bool
    ) -> SpamAnswer:
        facts = JoinFacts(user_id, room_id, is_invited, self._sources)
        return self._spam(await self.decide(Stage.JOIN, facts))

    async def user_may_invite(
        self, inviter: str, invitee: str, room_id: str
    ) -> SpamAnswer:
        facts = InviteFacts(inviter, invitee, room_id, self._sources)
        return self._spam(await self.decide(Stage.INVITE, facts))

    async def federated_user_may_invite(self, event: EventBase) -> SpamAnswer:
        return self._spam(await self.decide(Stage.REMOTE_INVITE, self._event(event)))

    async def check_event_for_spam(self, event: EventBase) -> SpamAnswer:
        return self._spam(await self.decide(Stage.EVENT, self._event(event)))

    async def check_event_allowed(
        self, event: EventBase, state: StateMap
    ) -> tuple[bool, dict[str, Any] | None]:
        event_type = event.type
        if event_type == MEMBER:
            stage = Stage.MEMBER
        elif event_type == ROOM_STATE:
            stage = Stage.REGISTRATION
        else:
            return _ALLOW
        refusal = await self.decide(stage, self._event(event, state))
        if refusal is not None:
            raise to_synapse_error(refusal, self._language)
        return _ALLOW

    async def user_may_create_room_alias(
        self, user_id: str, room_alias: RoomAlias
    ) -> SpamAnswer:
        facts = AliasFacts(user_id, room_alias.to_string())
        return self._spam(await self.decide(Stage.ALIAS, facts))

    async def check_username_for_spam(
        self, user_profile: UserProfile, requester_id: str
    ) -> bool:
        user_id = user_profile["user_id"]
        facts = ProfileFacts(
            user_id, user_profile.get("display_name"), self._api.is_mine(user_id)
        )
        return await self.decide(Stage.DIRECTORY, facts) is not None

    async def check_media_file_for_spam(
        self, file_wrapper: ReadableFileWrapper, file_info: FileInfo
    ) -> SpamAnswer:
        if file_info.thumbnail is not None:
            return NOT_SPAM
        facts = MediaFacts(
            file_wrapper.path,
            file_info.file_id,
            file_info.server_name,
            hs.current_requester(),
            bool(file_info.url_cache),
        )
        refusal = await self.decide(Stage.MEDIA, facts)
        if refusal is not None:
            raise to_synapse_error(refusal, self._language)
        return NOT_SPAM

    # -- reactions --------------------------------------------------------------

    @property
    def decides_events(self) -> bool:
        """Whether `check_event_allowed` is needed (member or registration
        rules)."""
        return bool(self._book.at(Stage.MEMBER) or self._book.at(Stage.REGISTRATION))

    @property
    def reacts_to_events(self) -> bool:
        """Whether `on_new_event` is needed: on the instance that runs
        background tasks, for reactions or for judging federated arrivals."""
        return self._api.should_run_background_tasks() and bool(
            self._reactions.new_event or self._book.at(Stage.MEMBER)
        )

    async def on_new_event(self, event: EventBase, state: StateMap) -> None:
        """Synapse's own path: it hands over the room's current state."""
        facts = self._event(event, state)

        async def ready() -> EventFacts:
            return facts

        self._enqueue(ready)

    def event_persisted_fast(self, load: Callable[[], Awaitable[EventBase]]) -> None:
        """The fast path (hs.py): no state; reactions read it if they must."""

        async def facts() -> EventFacts:
            return self._event(await load())

        self._enqueue(facts)

    def _enqueue(self, facts: Callable[[], Awaitable[EventFacts]]) -> None:
        """Queue a stored event's reactions and return at once.

        Synapse calls `on_new_event` inside `_notify`, which it starts with
        `run_in_background` in the log context of whatever created the
        event (a request, or one of our own background jobs) and does not
        wait for (synapse/handlers/message.py, `handle_new_client_event`;
        synapse/notifier.py, `notify_new_room_events`). Reactions awaited
        there outlive that context, and Synapse logs "Re-starting finished
        log context" and "Called stop on logcontext ... without recording a
        start rusage" for each step. So reactions run in a background
        process of their own, one event after another in the order stored.
        """
        self._pending.append(facts)
        if self._draining:
            return
        self._draining = True
        self._api.run_as_background_process(
            "groupreg_new_events", self._drain, bg_start_span=False
        )

    async def _drain(self) -> None:
        try:
            while self._pending:
                load = self._pending.popleft()
                try:
                    facts = await load()
                except Exception:
                    logger.exception("groupreg: reading a stored event failed")
                    continue
                await self.event_persisted(facts)
        finally:
            self._draining = False

    async def event_persisted(self, facts: EventFacts) -> None:
        """An event was stored (also from the fast path in hs.py, which
        hands over no state: reactions read it if they need it)."""
        for react in self._reactions.new_event:
            try:
                await react(facts)
            except Exception:
                logger.exception(
                    "groupreg: reacting to %s %s failed",
                    facts.type,
                    facts.event.event_id,
                )
        if facts.type == MEMBER and facts.membership in SEATED and not facts.local:
            try:
                await self._arrived(facts)
            except Exception:
                logger.exception("groupreg: judging %s failed", facts.event.event_id)

    async def _arrived(self, facts: EventFacts) -> None:
        """A join or invite that arrived over federation from a server that
        is itself in the room: that server built the event, so no check of
        ours ran (`RoomMemberHandler._should_perform_remote_join` on its
        side). The member stage's rules say whether the member may stay; a
        member they refuse is removed with the refusal's message, and the
        removal is audited. Nobody is removed on a fault of ours."""
        member = facts.state_key
        if member is None:
            return
        facts.seated = True
        verdict = await self._verdict(Stage.MEMBER, facts)
        if verdict is None:
            return
        rule, refusal = verdict
        if refusal.reason is Reason.MODULE_UNAVAILABLE:
            return
        text = message(refusal, self._language)
        removed = await self._remove_member(facts.room_id, member, text)
        await self._audit.record(
            SYSTEM,
            rule.removal,
            facts.room_id,
            {
                "user_id": member,
                "event_id": facts.event.event_id,
                "reason": refusal.reason.value,
                "removed": removed,
                **refusal.params,
            },
        )

    async def on_profile_update(
        self, user_id: str, new_profile: ProfileInfo, by_admin: bool, deactivation: bool
    ) -> None:
        for react in self._reactions.profile_update:
            await _safely(react(user_id, new_profile, by_admin, deactivation))

    async def on_threepid_change(self, user_id: str, medium: str, address: str) -> None:
        for react in self._reactions.threepid_change:
            await _safely(react(user_id, medium, address))

    async def on_user_deactivation_status_changed(
        self, user_id: str, deactivated: bool, by_admin: bool
    ) -> None:
        for react in self._reactions.deactivation:
            await _safely(react(user_id, deactivated, by_admin))

    async def check_registration_for_spam(
        self,
        email_threepid: dict[str, Any] | None,
        username: str | None,
        request_info: Collection[tuple[str, str]],
        auth_provider_id: str | None = None,
    ) -> RegistrationBehaviour:
        for react in self._reactions.registration_attempt:
            _safely_now(react, username, request_info)
        return RegistrationBehaviour.ALLOW

    async def check_login_for_spam(
        self,
        user_id: str,
        device_id: str | None,
        initial_display_name: str | None,
        request_info: Collection[tuple[str | None, str]],
        auth_provider_id: str | None = None,
    ) -> SpamAnswer:
        user_agent, ip = next(iter(request_info), (None, None))
        for react in self._reactions.login:
            _safely_now(react, user_id, device_id, user_agent, ip, auth_provider_id)
        return NOT_SPAM

    async def on_user_registration(self, user_id: str) -> None:
        for react in self._reactions.registered:
            _safely_now(react, user_id)

    # -- registration with Synapse ---------------------------------------------

    def register(self) -> None:
        """Register every Synapse callback a stage or reaction needs, each
        once."""
        api, book, reactions = self._api, self._book, self._reactions

        def needed(stage: Stage, callback: Any) -> Any:
            return callback if book.at(stage) else None

        api.register_spam_checker_callbacks(
            check_event_for_spam=needed(Stage.EVENT, self.check_event_for_spam),
            user_may_join_room=needed(Stage.JOIN, self.user_may_join_room),
            user_may_invite=needed(Stage.INVITE, self.user_may_invite),
            federated_user_may_invite=needed(
                Stage.REMOTE_INVITE, self.federated_user_may_invite
            ),
            user_may_create_room=needed(Stage.CREATE, self.user_may_create_room),
            user_may_create_room_alias=needed(
                Stage.ALIAS, self.user_may_create_room_alias
            ),
            check_username_for_spam=needed(
                Stage.DIRECTORY, self.check_username_for_spam
            ),
            check_media_file_for_spam=needed(
                Stage.MEDIA, self.check_media_file_for_spam
            ),
            check_registration_for_spam=(
                self.check_registration_for_spam
                if reactions.registration_attempt
                else None
            ),
            check_login_for_spam=self.check_login_for_spam if reactions.login else None,
        )
        api.register_third_party_rules_callbacks(
            check_event_allowed=(
                self.check_event_allowed_callback if self.decides_events else None
            ),
            on_create_room=needed(Stage.CREATE_REQUEST, self.on_create_room),
            on_new_event=self.on_new_event_callback if self.reacts_to_events else None,
            on_profile_update=(
                self.on_profile_update if reactions.profile_update else None
            ),
            on_add_user_third_party_identifier=(
                self.on_threepid_change if reactions.threepid_change else None
            ),
            on_remove_user_third_party_identifier=(
                self.on_threepid_change if reactions.threepid_change else None
            ),
            on_user_deactivation_status_changed=(
                self.on_user_deactivation_status_changed
                if reactions.deactivation
                else None
            ),
        )
        if reactions.registered:
            api.register_account_validity_callbacks(
                on_user_registration=self.on_user_registration
            )
        hooks = self._hooks
        if hooks.ratelimit_override is not None:
            api.register_ratelimit_callbacks(
                get_ratelimit_override_for_user=self.get_ratelimit_override_for_user
            )
        if hooks.upload_size_allowed is not None or hooks.upload_limits is not None:
            api.register_media_repository_callbacks(
                is_user_allowed_to_upload_media_of_size=(
                    self.is_user_allowed_to_upload_media_of_size
                    if hooks.upload_size_allowed is not None
                    else None
                ),
                get_media_upload_limits_for_user=(
                    self.get_media_upload_limits_for_user
                    if hooks.upload_limits is not None
                    else None
                ),
            )

    # -- limits Synapse asks for (Hooks) ------------------------------------------

    async def get_ratelimit_override_for_user(
        self, user_id: str, limiter_name: str
    ) -> Any:
        hook = self._hooks.ratelimit_override
        assert hook is not None
        try:
            return await hook(user_id, limiter_name)
        except Exception:
            logger.exception("groupreg: the rate of %s could not be read", user_id)
            return None

    async def is_user_allowed_to_upload_media_of_size(
        self, user_id: str, size: int
    ) -> bool:
        hook = self._hooks.upload_size_allowed
        assert hook is not None
        try:
            return await hook(user_id, size)
        except Exception:
            logger.exception(
                "groupreg: the upload size of %s could not be read", user_id
            )
            return True

    async def get_media_upload_limits_for_user(self, user_id: str) -> Any:
        hook = self._hooks.upload_limits
        assert hook is not None
        try:
            return await hook(user_id)
        except Exception:
            logger.exception(
                "groupreg: the upload limits of %s could not be read", user_id
            )
            return None


async def _safely(step: Awaitable[None]) -> None:
    try:
        await step
    except Exception:
        logger.exception("groupreg: a reaction failed")


def _safely_now(react: Callable[..., None], *args: Any) -> None:
    try:
        react(*args)
    except Exception:
        logger.exception("groupreg: a reaction failed")
