"""Writing, keeping and checking the audit chain's signed checkpoints (F1).

The background-tasks instance signs the chain's head every
`audit.checkpoints.interval` when it has moved (and an auditor may ask for
one at any time); each checkpoint goes to the database, to the append-only
file and to the room when they are configured. `verify` walks the chain and
checks it against every copy: see `governance/verdict.py`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from synapse_groupreg.audit import ChainCheck
from synapse_groupreg.config.governance import CheckpointConfig
from synapse_groupreg.governance.checkpoints import (
    BadCheckpoint,
    Checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from synapse_groupreg.governance.verdict import (
    ChainFacts,
    Copy,
    Problem,
    chain_problem,
    check_checkpoints,
    checkpoints_needed,
    first_bad,
)
from synapse_groupreg.store.audit import AuditRow, AuditStore
from synapse_groupreg.store.checkpoints import CheckpointStore

logger = logging.getLogger(__name__)

DATABASE = "database"
FILE = "file"

#: Posts a checkpoint into the configured room: (room id, checkpoint).
RoomPoster = Callable[[str, Checkpoint], Awaitable[None]]


@attrs.frozen(slots=True)
class Verdict:
    """The answer of `/audit/verify`."""

    ok: bool
    entries: int
    problems: tuple[Problem, ...]
    checkpoints: Mapping[str, Any]
    #: Entries newer than the last sound checkpoint: not yet vouched for.
    unanchored: int

    def to_json(self) -> dict[str, Any]:
        first = first_bad(self.problems)
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad": first.first_seq if first is not None else None,
            "problem": first.message if first is not None else None,
            "problems": [p.to_json() for p in self.problems],
            "checkpoints": dict(self.checkpoints),
            "unanchored": self.unanchored,
        }


class _Walk:
    """The chain check, keeping the hashes checkpoints need."""

    def __init__(self, wanted: set[int]) -> None:
        self.check = ChainCheck()
        self.wanted = wanted
        self.hashes: dict[int, str] = {}
        self.last_seq = 0

    def visit(self, row: AuditRow) -> None:
        self.check.visit(row)
        self.last_seq = row.seq
        if row.seq in self.wanted:
            self.hashes[row.seq] = row.hash

    def facts(self) -> ChainFacts:
        return ChainFacts(
            entries=self.check.count,
            last_seq=self.last_seq,
            break_seq=self.check.first_bad,
            break_problem=self.check.problem,
            hashes=self.hashes,
        )


class AuditCheckpoints:
    """Args:
    config: `audit.checkpoints`.
    store, audit_store: the checkpoints' and the chain's tables.
    server_name: the name checkpoints are signed under.
    signing_key: the key (homeserver's or the module's own).
    verify_keys: every key id a checkpoint may be signed with, and its
        public key (the homeserver's old keys too).
    now_ms: the clock.
    post: puts a checkpoint into the room, when one is configured.
    """

    def __init__(
        self,
        config: CheckpointConfig,
        store: CheckpointStore,
        audit_store: AuditStore,
        server_name: str,
        signing_key: Any,
        verify_keys: Mapping[str, Any],
        now_ms: Callable[[], int],
        post: RoomPoster | None = None,
    ) -> None:
        self.config = config
        self._store = store
        self._audit_store = audit_store
        self._server_name = server_name
        self._signing_key = signing_key
        self.verify_keys = dict(verify_keys)
        self._now_ms = now_ms
        self._post = post

    @property
    def key_id(self) -> str:
        return f"{self._signing_key.alg}:{self._signing_key.version}"

    # -- writing ----------------------------------------------------------------

    async def write(self, force: bool = False) -> Checkpoint | None:
        """Sign the chain's head as the next checkpoint, unless it has not
        moved since the last one (or the chain is empty); `force` signs it
        again anyway. Then copy it to the file and the room."""
        now = self._now_ms()

        def make(
            last_body: str | None, head: tuple[int, str] | None
        ) -> tuple[int, int, int, str] | None:
            if head is None:
                return None
            last = parse_checkpoint(last_body) if last_body is not None else None
            if last is not None and last.seq == head[0] and not force:
                return None
            n = last.n + 1 if last is not None else 1
            made = sign_checkpoint(
                n, head[0], head[1], now, last, self._server_name, self._signing_key
            )
            return made.n, made.seq, made.ts, made.body

        body = await self._store.append(make)
        if body is None:
            return None
        checkpoint = parse_checkpoint(body)
        await self._copy_to_file()
        if self.config.room is not None and self._post is not None:
            try:
                await self._post(self.config.room, checkpoint)
            except Exception:
                logger.exception(
                    "audit checkpoint %d: could not post it to %s",
                    checkpoint.n,
                    self.config.room,
                )
        return checkpoint

    async def run(self) -> None:
        """The background job: a checkpoint when the chain has moved."""
        try:
            await self.write()
        except Exception:
            logger.exception("audit checkpoint: writing failed")

    async def _copy_to_file(self) -> None:
        """Append to the file every checkpoint it lacks at its end: the new
        one, and any an earlier write could not add (a full disk, another
        process). Nothing in the file is ever rewritten."""
        path = self.config.file
        if path is None:
            return
        try:
            try:
                present = _read_lines(path)
            except FileNotFoundError:
                present = []
            have = 0
            for line in present:
                try:
                    have = max(have, parse_checkpoint(line).n)
                except BadCheckpoint:
                    continue
            missing = await self._store.bodies(after_n=have)
            if not missing:
                return
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, "".join(body + "\n" for body in missing).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            logger.exception("audit checkpoints: could not append to %s", path)

    # -- reading ----------------------------------------------------------------

    async def newest(self, limit: int, before_n: int | None = None) -> list[Checkpoint]:
        return [parse_checkpoint(b) for b in await self._store.newest(limit, before_n)]

    async def records(
        self, since: int | None, until: int | None
    ) -> Any:  # AsyncIterator[dict[str, Any]]
        """Every checkpoint in a time range, oldest first (exports, F3)."""
        after = 0
        while True:
            bodies = await self._store.bodies(after_n=after, limit=500)
            for body in bodies:
                checkpoint = parse_checkpoint(body)
                if (since is None or checkpoint.ts >= since) and (
                    until is None or checkpoint.ts < until
                ):
                    yield checkpoint.to_json()
                after = checkpoint.n
            if len(bodies) < 500:
                return

    def _file_copy(self) -> Copy | None:
        path = self.config.file
        if path is None:
            return None
        try:
            return Copy(FILE, _read_lines(path), f"checked: {path}")
        except FileNotFoundError:
            # Not written yet, or removed: an empty copy, so every checkpoint
            # the database holds shows as missing from it.
            return Copy(FILE, [], f"checked: {path} (absent)")
        except OSError as e:
            return Copy(FILE, None, f"unreadable here: {path}: {e.strerror}")

    async def verify(self) -> Verdict:
        """Walk the whole chain; check it and every checkpoint in every copy."""
        copies = [Copy(DATABASE, await self._store.bodies(), "checked")]
        file_copy = self._file_copy()
        if file_copy is not None:
            copies.append(file_copy)
        walk = _Walk(checkpoints_needed(copies))
        await self._audit_store.walk(walk.visit)
        facts = walk.facts()
        problems: list[Problem] = []
        broken = chain_problem(facts)
        if broken is not None:
            problems.append(broken)
        checkpoint_problems, last = check_checkpoints(
            facts,
            [c for c in copies if c.bodies is not None],
            self._server_name,
            self.verify_keys,
        )
        problems.extend(checkpoint_problems)
        summary: dict[str, Any] = {
            "count": max(
                (
                    parse_checkpoint(b).n
                    for c in copies
                    for b in c.bodies or ()
                    if _ok(b)
                ),
                default=0,
            ),
            "last": (
                {"n": last.n, "seq": last.seq, "ts": last.ts}
                if last is not None
                else None
            ),
            "key_id": self.key_id,
            "interval_ms": self.config.interval_ms,
            "copies": {c.name: c.status for c in copies},
        }
        if file_copy is None:
            summary["copies"][FILE] = "not configured (audit.checkpoints.file)"
        return Verdict(
            ok=not problems,
            entries=facts.entries,
            problems=tuple(problems),
            checkpoints=summary,
            unanchored=max(0, facts.last_seq - (last.seq if last is not None else 0)),
        )


def _ok(body: str) -> bool:
    try:
        parse_checkpoint(body)
    except BadCheckpoint:
        return False
    return True


def _read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]
