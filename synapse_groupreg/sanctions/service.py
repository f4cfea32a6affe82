"""Applying and lifting sanctions (D2, D3, D5): the one path every sanction
takes, whether an admin, a threshold or a complaint decision asks for it.

`apply` records the sanction (from that moment the per-event checks enforce
it), runs its effects (credit, the room notice, removing a closed room's
members), sends each affected person a statement of reasons, and writes
the audit entry. `lift` ends one early (any but close), `reverse` does so
on appeal; a reversed lower_credit gives the points back.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config.sanctions import (
    ROOM_ACTIONS,
    USER_ACTIONS,
    SanctionsConfig,
)
from synapse_groupreg.credit import CreditChange, CreditLedger
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.media.quarantine import MediaQuarantine
from synapse_groupreg.notices import Notices
from synapse_groupreg.reasons import Refusal
from synapse_groupreg.sanctions.enforcement import SanctionsInForce, suspended_admin
from synapse_groupreg.sanctions.model import (
    NEEDS_DURATION,
    NOT_LIFTABLE,
    ROOM,
    USER,
    InvalidSanction,
    Sanction,
    SanctionOrder,
)
from synapse_groupreg.sanctions.registry import RoomDirectory
from synapse_groupreg.sanctions.statements import Effects, Scope, Statements
from synapse_groupreg.store.sanctions import (
    NewSanction,
    SanctionFilter,
    SanctionRow,
    SanctionStore,
)

logger = logging.getLogger(__name__)

#: Called after every credit change a sanction makes (automatic rules).
CreditListener = Callable[[CreditChange], Awaitable[None]]


class SanctionService:
    def __init__(
        self,
        config: SanctionsConfig,
        store: SanctionStore,
        credit: CreditLedger,
        audit: AuditLog,
        notices: Notices,
        rooms: MatrixRooms,
        registry: RoomDirectory,
        statements: Statements,
        now_ms: Callable[[], int],
        user_exists: Callable[[str], Awaitable[bool]],
        quarantine: MediaQuarantine | None = None,
    ) -> None:
        self.config = config
        #: When set (`content.media.quarantine`), closing a room quarantines
        #: its media (C7).
        self._quarantine = quarantine
        self._store = store
        self._credit = credit
        self._audit = audit
        self._notices = notices
        self._rooms = rooms
        self.registry = registry
        self.statements = statements
        self._now_ms = now_ms
        self._user_exists = user_exists
        self._credit_listeners: list[CreditListener] = []
        self._index_rows: tuple[SanctionRow, ...] | None = None
        self._index = SanctionsInForce(())

    def now_ms(self) -> int:
        return self._now_ms()

    def on_credit_change(self, listener: CreditListener) -> None:
        self._credit_listeners.append(listener)

    # -- the per-event path ---------------------------------------------------

    async def in_force(self) -> SanctionsInForce:
        """The index of sanctions in force; rebuilt only when the cached set
        changed (the cache hands back the same tuple until then)."""
        rows = await self._store.get_in_force()
        if rows is not self._index_rows:
            self._index = SanctionsInForce(rows)
            self._index_rows = rows
        return self._index

    async def admin_act_refusal(self, user_id: str) -> Refusal | None:
        """D3: `ADMIN_SUSPENDED` if `user_id` may not act as an admin now
        (for the client API's admin acts; events are judged by the rules)."""
        return suspended_admin(
            await self.in_force(), user_id, self._now_ms(), self.statements.time
        )

    # -- apply ------------------------------------------------------------------

    async def apply(self, order: SanctionOrder) -> Sanction:
        """Apply a sanction and answer it as recorded.

        Raises:
            InvalidSanction: naming the request field at fault.
        """
        await self._validate(order)
        now = self._now_ms()
        row = await self._store.insert(
            NewSanction(
                scope=order.scope,
                target=order.target,
                action=order.action,
                reason=order.reason,
                rule=order.rule or self.config.rule_for(order.action),
                automated=order.automated,
                actor=order.actor,
                created_ts=now,
                expires_ts=now + order.duration_ms if order.duration_ms else None,
                deadline_ts=now + (order.deadline_ms or self.config.warn_deadline_ms)
                if order.action == "warn"
                else None,
                amount=order.amount,
                evidence=dict(order.evidence),
            )
        )
        details: dict[str, Any] = {}
        effects = Effects()
        change: CreditChange | None = None
        if row.scope == ROOM:
            facts = await self._rooms.facts(row.target)
            registered = await self.registry.describe(row.target)
            scope = Scope.room(
                row.target, facts.name, registered.code if registered else None
            )
            affected = self._rooms.local(facts.responsible)
            if self.config.room_notices or row.action == "warn":
                details["room_notice"] = await self._post_in_room(
                    row.target, self.statements.room_notice(row)
                )
        else:
            scope = Scope.user(row.target)
            affected = [row.target]
            if row.action == "lower_credit":
                assert row.amount is not None
                change = await self._credit.penalise(
                    row.target,
                    row.amount,
                    row.reason,
                    row.actor,
                    {**row.evidence, "sanction_id": f"S{row.id}"},
                    row.id,
                )
                band = self._credit.config.band_of(change.after)
                effects = Effects(
                    change.before, change.after, band.name, tuple(sorted(band.denies))
                )
                details["credit_before"] = change.before
                details["credit_after"] = change.after
        await self._store.add_affected(row.id, affected)
        details["notified"], details["notify_failed"] = await self._state_to(
            affected, self.statements.statement(row, scope, effects)
        )
        if row.action == "close":
            details.update(await self._close(row))
        await self._store.add_details(row.id, details)
        await self._audit.record(
            row.actor,
            f"sanction.{row.action}",
            row.target,
            {
                "sanction_id": f"S{row.id}",
                "scope": row.scope,
                "reason": row.reason,
                "rule": row.rule,
                "automated": row.automated,
                "expires_ts": row.expires_ts,
                "deadline_ts": row.deadline_ts,
                "amount": row.amount,
                "evidence": row.evidence,
                **details,
            },
        )
        logger.info(
            "sanction S%d applied: %s on %s by %s",
            row.id,
            row.action,
            row.target,
            row.actor,
        )
        if change is not None:
            for listener in self._credit_listeners:
                await listener(change)
        return await self._view(row.id)

    async def _validate(self, order: SanctionOrder) -> None:
        allowed = ROOM_ACTIONS if order.scope == ROOM else USER_ACTIONS
        if order.action not in allowed:
            raise InvalidSanction(
                "action",
                f"'{order.action}' is not a {order.scope} sanction; "
                f"use one of: {', '.join(allowed)}",
            )
        if not order.reason.strip():
            raise InvalidSanction("reason", "'reason' must state the facts")
        if order.action in NEEDS_DURATION and not order.duration_ms:
            raise InvalidSanction(
                "duration", f"'{order.action}' needs a duration such as '7d'"
            )
        if order.duration_ms is not None and order.duration_ms <= 0:
            raise InvalidSanction("duration", "'duration' must be longer than 0")
        if order.action == "lower_credit":
            maximum = self._credit.config.maximum
            if order.amount is None or not 1 <= order.amount <= maximum:
                raise InvalidSanction(
                    "amount", f"'lower_credit' needs 'amount' between 1 and {maximum}"
                )
        if order.scope == USER:
            if not await self._user_exists(order.target):
                raise InvalidSanction(
                    "user_id", f"{order.target} is not a user of this server"
                )
            return
        if (await self.in_force()).room_closed(order.target):
            # Its members are gone; nothing more can be done to it.
            raise InvalidSanction("action", "the group is closed already")
        if not await self._rooms.exists(order.target):
            raise InvalidSanction(
                "room_id", f"{order.target} is not a room on this server"
            )

    async def _close(self, row: SanctionRow) -> dict[str, Any]:
        """D2 close: the registry lists it closed (its code retired), then
        every local member leaves; the history stays, its media quarantined
        when `content.media.quarantine` says so (C7)."""
        details: dict[str, Any] = {}
        try:
            await self.registry.mark_closed(row.target, row.actor, row.reason)
        except Exception as e:
            logger.exception("could not mark %s closed in the registry", row.target)
            details["registry_error"] = str(e)
        removed, failed = await self._rooms.remove_members(row.target)
        details["members_removed"] = removed
        if failed:
            details["members_not_removed"] = failed
        if self._quarantine is not None:
            details.update(await self._quarantine.room(row.target, row.actor))
        return details

    async def _post_in_room(self, room_id: str, text: str) -> str:
        try:
            if not await self._rooms.ensure_bot_in_room(room_id):
                return "failed: the notice bot could not enter the room"
            return await self._notices.send_to_room(room_id, text)
        except Exception as e:
            logger.warning("room notice in %s failed: %s", room_id, e)
            return f"failed: {e}"

    async def _state_to(
        self, user_ids: Sequence[str], text: str
    ) -> tuple[list[str], list[str]]:
        """Send a statement to each user in a direct chat with the bot."""
        sent: list[str] = []
        failed: list[str] = []
        for user_id in user_ids:
            try:
                await self._notices.send_dm(user_id, text)
                sent.append(user_id)
            except Exception as e:
                logger.warning("statement to %s failed: %s", user_id, e)
                failed.append(user_id)
        return sent, failed

    # -- lift ---------------------------------------------------------------

    async def lift(
        self, sanction_id: int, actor: str, reason: str, reversal: bool = False
    ) -> Sanction:
        """End a sanction early (any but close); `reversal` when an appeal
        upheld it wrong, which also gives back the points a lower_credit
        took.

        Raises:
            LookupError: no such sanction.
            InvalidSanction: it cannot be lifted (close, ended already).
        """
        row = await self._store.get(sanction_id)
        if row is None:
            raise LookupError(f"sanction S{sanction_id}")
        if row.action in NOT_LIFTABLE:
            raise InvalidSanction(
                "sanction_id",
                "a closure cannot be lifted: the group's members were removed and "
                "its registration code retired; its history is kept",
            )
        if not reason.strip():
            raise InvalidSanction("reason", "'reason' must say why it is lifted")
        now = self._now_ms()
        lifted = await self._store.lift(sanction_id, now, actor, reason, reversal)
        if lifted is None:
            raise InvalidSanction(
                "sanction_id", f"S{sanction_id} has already ended (lifted or expired)"
            )
        details: dict[str, Any] = {}
        if lifted.action == "lower_credit":
            change = await self._credit.reverse_penalty(sanction_id, reason, actor)
            if change is not None:
                details["credit_before"] = change.before
                details["credit_after"] = change.after
        how = "reversed" if reversal else "lifted"
        affected = await self._store.affected(sanction_id)
        details["notified"], details["notify_failed"] = await self._state_to(
            affected, self.statements.ended(lifted, how)
        )
        if lifted.scope == ROOM and self.config.room_notices:
            details["room_notice"] = await self._post_in_room(
                lifted.target, self.statements.ended(lifted, how)
            )
        await self._store.add_details(sanction_id, {how: details})
        await self._audit.record(
            actor,
            "sanction.reverse" if reversal else "sanction.lift",
            lifted.target,
            {
                "sanction_id": f"S{sanction_id}",
                "action": lifted.action,
                "reason": reason,
            }
            | details,
        )
        return await self._view(sanction_id)

    async def reverse(self, sanction_id: int, actor: str, reason: str) -> Sanction:
        """Lift on appeal (E4): the decision was wrong; credit comes back."""
        return await self.lift(sanction_id, actor, reason, reversal=True)

    # -- expiry announcements -----------------------------------------------------

    async def announce_expiries(self) -> int:
        """Tell the affected that sanctions ended by themselves (the end
        itself needs nothing: checks compare the expiry with the clock)."""
        rows = await self._store.claim_expired(self._now_ms(), 100)
        for row in rows:
            affected = await self._store.affected(row.id)
            text = self.statements.ended(row, "expired")
            notified, failed = await self._state_to(affected, text)
            room_notice = None
            if row.scope == ROOM and self.config.room_notices:
                room_notice = await self._post_in_room(row.target, text)
            await self._audit.record(
                SYSTEM,
                "sanction.expire",
                row.target,
                {
                    "sanction_id": f"S{row.id}",
                    "action": row.action,
                    "expires_ts": row.expires_ts,
                    "notified": notified,
                    "notify_failed": failed,
                    "room_notice": room_notice,
                },
            )
        return len(rows)

    # -- reads ----------------------------------------------------------------

    async def get(self, sanction_id: int) -> Sanction | None:
        row = await self._store.get(sanction_id)
        if row is None:
            return None
        return Sanction.at(
            row, self._now_ms(), tuple(await self._store.affected(sanction_id))
        )

    async def _view(self, sanction_id: int) -> Sanction:
        found = await self.get(sanction_id)
        assert found is not None
        return found

    async def affected_users(self, sanction_id: int) -> list[str]:
        """Who received the statement of a sanction: who may appeal it."""
        return await self._store.affected(sanction_id)

    async def records(
        self, since: int | None, until: int | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every sanction created in a time range, oldest first (F3 export)."""
        start: int | None = 0
        where = SanctionFilter(since=since, until=until)
        while start is not None:
            found, start = await self.page(where, start, 500)
            for sanction in found:
                yield sanction.to_json()

    async def page(
        self, where: SanctionFilter, from_id: int, limit: int
    ) -> tuple[list[Sanction], int | None]:
        now = self._now_ms()
        rows = await self._store.page(where, from_id, limit + 1, now)
        more = len(rows) > limit
        rows = rows[:limit]
        found = [Sanction.at(r, now) for r in rows]
        return found, (rows[-1].id + 1 if more else None)
