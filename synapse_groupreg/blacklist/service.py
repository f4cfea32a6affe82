"""Listing, removing, reviewing and exchanging blacklist entries (D4).

Adding an entry takes effect on the next event (the set in force is one
cached entry, invalidated on every worker), states the reasons to the local
people it affects, and is audited. A person entry holds the keyed hash of
their document: their accounts are blocked, a new account of theirs cannot
verify (the identity service's veto), and identity erasure keeps the hash
while the entry needs it (its hold).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from synapse_groupreg.audit import AuditLog
from synapse_groupreg.blacklist.model import (
    PERSON,
    ROOM,
    USER,
    BlacklistIndex,
    InvalidEntry,
    Listed,
    check_target,
    format_id,
    is_glob,
    refusal_for,
)
from synapse_groupreg.blacklist.policy import export_rules, read_rules
from synapse_groupreg.config import Language
from synapse_groupreg.config.sanctions import BlacklistConfig
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.media.quarantine import MediaQuarantine
from synapse_groupreg.notices import Notices
from synapse_groupreg.reasons import message
from synapse_groupreg.sanctions.statements import Scope, Statements
from synapse_groupreg.store.blacklist import (
    BlacklistRow,
    BlacklistStore,
    EntryFilter,
    NewEntry,
)

logger = logging.getLogger(__name__)


class PersonDirectory(Protocol):
    """What the blacklist needs of real-name identity (A6)."""

    async def person_hash_of(self, user_id: str) -> str | None:
        """The keyed hash of the user's verified document, None if none."""
        ...

    async def accounts_of(self, person_hash: str) -> list[str]:
        """The accounts verified with that document."""
        ...


class NoPersons:
    """Real-name identity is off: nobody has a person hash."""

    async def person_hash_of(self, user_id: str) -> str | None:
        return None

    async def accounts_of(self, person_hash: str) -> list[str]:
        return []


def entry_json(row: BlacklistRow, now_ms: int) -> dict[str, Any]:
    if row.removed_ts is not None:
        status = "removed"
    elif row.expires_ts is not None and now_ms >= row.expires_ts:
        status = "expired"
    else:
        status = "active"
    return {
        "entry_id": format_id(row.id),
        "kind": row.kind,
        "target": row.target,
        "reason": row.reason,
        "actor": row.actor,
        "source": row.source,
        "created_ts": row.created_ts,
        "expires_ts": row.expires_ts,
        "status": status,
        "linked_users": list(row.linked_users),
        "removed_ts": row.removed_ts,
        "removed_by": row.removed_by,
        "remove_reason": row.remove_reason,
    }


class PersonEntries:
    """What identity asks of the blacklist's person entries (D4, A8), built
    before identity so that each can be given the other at construction."""

    def __init__(
        self, store: BlacklistStore, language: Language, now_ms: Callable[[], int]
    ) -> None:
        self._store = store
        self._language = language
        self._now_ms = now_ms

    async def verification_veto(self, person_hash: str) -> str | None:
        """D4: a listed person cannot verify any account (identity calls it
        before recording a verification); the message says why."""
        if not await self._store.person_listed(person_hash, self._now_ms()):
            return None
        listed = Listed(0, PERSON, person_hash, None)
        return message(refusal_for(listed, "person"), self._language)

    async def holds_person(self, person_hash: str) -> bool:
        """A8: keep an erased account's person hash while an entry needs it."""
        return await self._store.person_listed(person_hash, self._now_ms())


class Blacklist:
    """Args:
    persons: real-name identity, or `NoPersons` when it is off.
    on_person_released: called with a person hash when its last entry goes
        (A8: identity may then forget the hash of erased accounts).
    """

    def __init__(
        self,
        config: BlacklistConfig,
        language: Language,
        store: BlacklistStore,
        audit: AuditLog,
        notices: Notices,
        statements: Statements,
        rooms: MatrixRooms,
        now_ms: Callable[[], int],
        is_local: Callable[[str], bool],
        persons: PersonDirectory,
        on_person_released: Sequence[Callable[[str, str], Awaitable[None]]] = (),
        quarantine: MediaQuarantine | None = None,
    ) -> None:
        self.config = config
        #: When set (`content.media.quarantine`), listing a local user (or a
        #: person's local accounts) quarantines what they uploaded (C7).
        self._quarantine = quarantine
        self._language = language
        self._store = store
        self._audit = audit
        self._notices = notices
        self._statements = statements
        self._rooms = rooms
        self._now_ms = now_ms
        self._is_local = is_local
        self.persons = persons
        self.on_person_released = tuple(on_person_released)
        self._index_rows: tuple[BlacklistRow, ...] | None = None
        self._index = BlacklistIndex(())

    def now_ms(self) -> int:
        return self._now_ms()

    async def index(self) -> BlacklistIndex:
        """The entries in force, rebuilt only when the cached set changed."""
        rows = await self._store.get_in_force()
        if rows is not self._index_rows:
            self._index = BlacklistIndex(rows)
            self._index_rows = rows
        return self._index

    # -- entries -------------------------------------------------------------

    async def add(
        self,
        kind: str,
        target: str,
        reason: str,
        actor: str,
        expires_in_ms: int | None = None,
        source: str = "admin",
    ) -> tuple[dict[str, Any], bool]:
        """List a target (or renew its entry: new reason and expiry).

        Raises:
            InvalidEntry: naming the request field at fault.
        """
        if not reason.strip():
            raise InvalidEntry("reason", "'reason' must state the facts")
        if expires_in_ms is not None and expires_in_ms <= 0:
            raise InvalidEntry("expires_in", "'expires_in' must be longer than 0")
        linked: list[str] = []
        if kind == PERSON and target.startswith("@"):
            user_id = target
            person_hash = await self.persons.person_hash_of(user_id)
            if person_hash is None:
                raise InvalidEntry(
                    "target",
                    f"{user_id} has no verified identity to blacklist the person by",
                )
            target = person_hash
        target = check_target(kind, target)
        if kind == PERSON:
            linked = sorted(set(await self.persons.accounts_of(target)))
        now = self._now_ms()
        row, created = await self._store.add(
            NewEntry(
                kind=kind,
                target=target,
                reason=reason,
                actor=actor,
                source=source,
                created_ts=now,
                expires_ts=now + (expires_in_ms or self.config.default_expiry_ms),
                linked_users=tuple(linked),
            )
        )
        notified = await self._state(row)
        quarantined = await self._quarantine_uploads(row, actor)
        await self._audit.record(
            actor,
            "blacklist.add" if created else "blacklist.renew",
            # Persons are audited by entry id: the hash stays in the table.
            format_id(row.id) if kind == PERSON else row.target,
            {
                "entry_id": format_id(row.id),
                "kind": kind,
                "reason": reason,
                "source": source,
                "expires_ts": row.expires_ts,
                "notified": notified,
                **quarantined,
            },
        )
        return entry_json(row, now), created

    async def _quarantine_uploads(
        self, row: BlacklistRow, actor: str
    ) -> dict[str, Any]:
        """C7: the media of a listed local user, or of a listed person's
        local accounts, quarantined; what to add to the audit entry."""
        if self._quarantine is None:
            return {}
        if row.kind == USER and not is_glob(row.target) and self._is_local(row.target):
            users = [row.target]
        elif row.kind == PERSON:
            users = [u for u in row.linked_users if self._is_local(u)]
        else:
            return {}
        total: dict[str, Any] = {}
        for user_id in users:
            for key, value in (await self._quarantine.user(user_id, actor)).items():
                if isinstance(value, int):
                    total[key] = total.get(key, 0) + value
                else:
                    total[key] = value
        return total

    async def _affected(self, row: BlacklistRow) -> tuple[list[str], Scope | None]:
        if row.kind == USER and not is_glob(row.target) and self._is_local(row.target):
            return [row.target], Scope.user(row.target)
        if row.kind == PERSON:
            return [u for u in row.linked_users if self._is_local(u)], Scope.person()
        room_id = row.target
        if (
            row.kind == ROOM
            and room_id.startswith("!")
            and not is_glob(room_id)
            and await self._rooms.exists(room_id)
        ):
            facts = await self._rooms.facts(room_id)
            return self._rooms.local(facts.responsible), Scope.room(
                room_id, facts.name, None
            )
        return [], None

    async def _state(self, row: BlacklistRow) -> list[str]:
        affected, scope = await self._affected(row)
        if scope is None:
            return []
        text = self._statements.blacklisted(
            format_id(row.id),
            scope,
            row.reason,
            row.source,
            row.expires_ts or 0,
            row.created_ts,
        )
        return await self._send(affected, text)

    async def _send(self, user_ids: Sequence[str], text: str) -> list[str]:
        sent = []
        for user_id in user_ids:
            try:
                await self._notices.send_dm(user_id, text)
                sent.append(user_id)
            except Exception as e:
                logger.warning("blacklist statement to %s failed: %s", user_id, e)
        return sent

    async def remove(self, entry_id: int, actor: str, reason: str) -> dict[str, Any]:
        """Remove an entry in force early.

        Raises:
            LookupError: no entry in force by that id.
        """
        now = self._now_ms()
        row = await self._store.remove(entry_id, now, actor, reason)
        if row is None:
            raise LookupError(format_id(entry_id))
        affected, scope = await self._affected(row)
        notified = (
            await self._send(
                affected, self._statements.unlisted(format_id(row.id), reason)
            )
            if scope is not None
            else []
        )
        await self._audit.record(
            actor,
            "blacklist.remove",
            format_id(row.id) if row.kind == PERSON else row.target,
            {"entry_id": format_id(row.id), "reason": reason, "notified": notified},
        )
        if row.kind == PERSON and not await self._store.person_listed(row.target, now):
            for release in self.on_person_released:
                await release(row.target, actor)
        return entry_json(row, now)

    async def get(self, entry_id: int) -> dict[str, Any] | None:
        row = await self._store.get(entry_id)
        return entry_json(row, self._now_ms()) if row is not None else None

    async def page(
        self, where: EntryFilter, from_id: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        now = self._now_ms()
        rows = await self._store.page(where, from_id, limit + 1, now)
        more = len(rows) > limit
        rows = rows[:limit]
        return [entry_json(r, now) for r in rows], (rows[-1].id + 1 if more else None)

    async def records(
        self, since: int | None, until: int | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every entry created in a time range, oldest first (F3 export)."""
        start: int | None = 0
        where = EntryFilter(since=since, until=until)
        while start is not None:
            found, start = await self.page(where, start, 500)
            for entry in found:
                yield entry

    # -- policy lists -------------------------------------------------------------

    async def import_policy(
        self,
        events: Sequence[Any],
        actor: str,
        source: str,
        expires_in_ms: int | None,
    ) -> dict[str, Any]:
        """Import the ban rules of a policy list; every rule answers how it
        went (added, renewed, skipped and why)."""
        rules, skipped = read_rules(events)
        results = [s.to_json() for s in skipped]
        counts = {"added": 0, "renewed": 0, "skipped": len(skipped)}
        for rule in rules:
            entry, created = await self.add(
                rule.kind,
                rule.target,
                rule.reason,
                actor,
                expires_in_ms,
                source=f"policy:{source}",
            )
            outcome = "added" if created else "renewed"
            counts[outcome] += 1
            results.append(
                {
                    "index": rule.index,
                    "entity": rule.target,
                    "outcome": outcome,
                    "entry_id": entry["entry_id"],
                }
            )
        results.sort(key=lambda r: int(r["index"]))
        return {**counts, "results": results}

    async def export_policy(self) -> dict[str, Any]:
        """The entries in force as policy-list rule events."""
        rows = await self._store.get_in_force()
        events, persons = export_rules(rows)
        return {"events": events, "persons_not_exported": persons}
