"""Credit (信用等级管理体系, D1): a score per user, a ledger of its changes,
recovery, and the bands that gate posting, admin rights and group creation.

The score lives in a ledger: every change is a row with its reason, actor
and evidence. Recovery (+1 per 7 days without a violation, by default) is
never written down: it is computed from the last violation's time whenever
the score is read, so nothing has to run for it and nothing can drift. A
penalty reversed on appeal is replayed out of the history, as if it had
never happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from synapse_groupreg.config.credit import MINIMUM_SCORE, CreditBand, CreditConfig
from synapse_groupreg.store.credit import (
    AWARD,
    PENALTY,
    RESTORE,
    CreditStore,
    LedgerHead,
    LedgerRow,
    NewEntry,
)

# -- pure rules ---------------------------------------------------------------


def clamp(score: int, config: CreditConfig) -> int:
    return max(MINIMUM_SCORE, min(config.maximum, score))


def recovered(head: LedgerHead | None, config: CreditConfig, now_ms: int) -> int:
    """The score at `now_ms`: the last entry's score plus the recovery
    steps completed since, counted from the last violation, never above
    the recovery ceiling (a score above it stays where it is)."""
    if head is None:
        return config.start
    score = head.score
    if score >= config.recovery_ceiling or config.recovery_points == 0:
        return score
    steps = _steps(head, config, now_ms) - _steps(head, config, head.as_of)
    if steps <= 0:
        return score
    return min(config.recovery_ceiling, score + steps * config.recovery_points)


def _anchor(head: LedgerHead) -> int:
    # Without a violation on record (all reversed), recovery runs from the
    # last change.
    return head.last_violation if head.last_violation is not None else head.as_of


def _steps(head: LedgerHead, config: CreditConfig, at_ms: int) -> int:
    return max(0, at_ms - _anchor(head)) // config.recovery_every_ms


def next_recovery_ms(
    head: LedgerHead | None, config: CreditConfig, now_ms: int
) -> int | None:
    """When the next recovery step lands, None if none is due."""
    if head is None or config.recovery_points == 0:
        return None
    if recovered(head, config, now_ms) >= config.recovery_ceiling:
        return None
    anchor = _anchor(head)
    return anchor + (_steps(head, config, now_ms) + 1) * config.recovery_every_ms


def replay(history: Sequence[LedgerRow], config: CreditConfig) -> LedgerHead | None:
    """The head the ledger would have without reversed penalties: every
    penalty and award is applied again in order, recovery in between.
    Restore entries are the corrections of earlier reversals and are left
    out, as their penalties are."""
    head: LedgerHead | None = None
    for row in history:
        if row.kind == RESTORE or (row.kind == PENALTY and row.reversed_ts):
            continue
        current = recovered(head, config, row.ts)
        score = clamp(current + row.delta, config)
        last_violation = head.last_violation if head is not None else None
        if row.kind == PENALTY:
            last_violation = row.ts
        head = LedgerHead(score, row.ts, last_violation)
    return head


# -- the service --------------------------------------------------------------


@attrs.frozen(slots=True)
class CreditChange:
    """A change as it happened: the score before and after."""

    user_id: str
    before: int
    after: int
    entry: LedgerRow | None

    @property
    def applied(self) -> int:
        return self.after - self.before


@attrs.frozen(slots=True)
class CreditView:
    """A user's score as they and admins see it (GET /credit)."""

    user_id: str
    score: int
    band: CreditBand
    next_recovery_ts: int | None
    history: list[LedgerRow]
    next_token: int | None

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "user_id": self.user_id,
            "score": self.score,
            "band": self.band.name,
            "denies": sorted(self.band.denies),
            "next_recovery_ts": self.next_recovery_ts,
            "history": [entry_json(e) for e in self.history],
        }
        if self.next_token is not None:
            answer["next_token"] = str(self.next_token)
        return answer


def entry_json(row: LedgerRow) -> dict[str, Any]:
    return {
        "entry_id": row.id,
        "ts": row.ts,
        "kind": row.kind,
        "delta": row.delta,
        "score_after": row.score_after,
        "reason": row.reason,
        "actor": row.actor,
        "evidence": row.evidence,
        "sanction_id": sanction_ref(row.sanction_id),
        "reversed_ts": row.reversed_ts,
    }


def sanction_ref(sanction_id: int | None) -> str | None:
    """How a sanction id reads outside: S17."""
    return f"S{sanction_id}" if sanction_id is not None else None


class CreditLedger:
    """Scores, bands and the ledger; implements `standing.CreditScores`.

    Penalties come only through `lower_credit` sanctions (so each has its
    statement of reasons); awards and reversals are admin or appeal actions.
    """

    def __init__(
        self, config: CreditConfig, store: CreditStore, now_ms: Callable[[], int]
    ) -> None:
        self.config = config
        self._store = store
        self._now_ms = now_ms

    async def score_of(self, user_id: str) -> int:
        """The current score; no database when the user's head is cached."""
        head = await self._store.get_head(user_id)
        return recovered(head, self.config, self._now_ms())

    async def band_of(self, user_id: str) -> tuple[int, CreditBand]:
        score = await self.score_of(user_id)
        return score, self.config.band_of(score)

    async def view(
        self, user_id: str, before_id: int | None = None, limit: int = 100
    ) -> CreditView:
        head = await self._store.get_head(user_id)
        now = self._now_ms()
        score = recovered(head, self.config, now)
        rows = await self._store.history(user_id, before_id, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return CreditView(
            user_id=user_id,
            score=score,
            band=self.config.band_of(score),
            next_recovery_ts=next_recovery_ms(head, self.config, now),
            history=rows,
            next_token=rows[-1].id if more else None,
        )

    async def penalise(
        self,
        user_id: str,
        amount: int,
        reason: str,
        actor: str,
        evidence: dict[str, Any],
        sanction_id: int,
    ) -> CreditChange:
        """Take `amount` points (a lower_credit sanction's effect); the
        violation restarts the recovery clock."""
        return await self._change(
            user_id, PENALTY, -amount, reason, actor, evidence, sanction_id
        )

    async def award(
        self,
        user_id: str,
        amount: int,
        reason: str,
        actor: str,
        evidence: dict[str, Any],
    ) -> CreditChange:
        """Give `amount` points (up to the maximum); recovery is unaffected."""
        return await self._change(user_id, AWARD, amount, reason, actor, evidence, None)

    async def _change(
        self,
        user_id: str,
        kind: str,
        delta: int,
        reason: str,
        actor: str,
        evidence: dict[str, Any],
        sanction_id: int | None,
    ) -> CreditChange:
        now = self._now_ms()
        config = self.config

        def make(head: LedgerHead | None, history: Sequence[LedgerRow]) -> NewEntry:
            after = clamp(recovered(head, config, now) + delta, config)
            return NewEntry(kind, delta, after, reason, actor, evidence, sanction_id)

        head, row = await self._store.append(user_id, now, make)
        assert row is not None
        return CreditChange(user_id, recovered(head, config, now), row.score_after, row)

    async def reverse_penalty(
        self, sanction_id: int, reason: str, actor: str
    ) -> CreditChange | None:
        """Undo the penalty of a lower_credit sanction (lift, appeal): the
        ledger is replayed without it, and a restore entry records the
        difference. None if the sanction took no points or was undone."""
        now = self._now_ms()
        config = self.config
        before: list[int] = []

        def make(head: LedgerHead | None, history: Sequence[LedgerRow]) -> NewEntry:
            current = recovered(head, config, now)
            corrected = recovered(replay(history, config), config, now)
            before.append(current)
            return NewEntry(
                RESTORE,
                corrected - current,
                corrected,
                reason,
                actor,
                {"reversed_sanction": sanction_ref(sanction_id)},
                sanction_id,
            )

        row = await self._store.reverse(sanction_id, now, make)
        if row is None or not before:
            return None
        return CreditChange(row.user_id, before[0], row.score_after, row)
