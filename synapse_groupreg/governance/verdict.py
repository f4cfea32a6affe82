"""What `/audit/verify` finds (F1): the hash chain checked entry by entry,
and against every signed checkpoint in every copy. Pure rules.

Each problem is named: its kind, the entries it concerns (first and last
seq), the checkpoint it concerns, and a sentence saying what was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from synapse_groupreg.governance.checkpoints import (
    BadCheckpoint,
    Checkpoint,
    parse_checkpoint,
    signature_problem,
)


@attrs.frozen(slots=True)
class Problem:
    #: altered, missing_entry, misplaced (the chain itself); rewritten,
    #: truncated (the chain against a checkpoint); checkpoint_missing,
    #: checkpoint_differs, checkpoint_signature, checkpoint_chain,
    #: checkpoint_unreadable (the checkpoints).
    kind: str
    message: str
    first_seq: int | None = None
    last_seq: int | None = None
    checkpoint: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "checkpoint": self.checkpoint,
        }


@attrs.frozen(slots=True)
class ChainFacts:
    """What walking the chain found."""

    entries: int
    last_seq: int
    #: The chain's own first break (from `audit.ChainCheck`), if any.
    break_seq: int | None
    break_problem: str | None
    #: The hash each entry a checkpoint anchors has now, by seq.
    hashes: Mapping[int, str]


@attrs.frozen(slots=True)
class Copy:
    """One place checkpoints are kept: its name and its lines (None when
    it is not configured or could not be read, with `status` saying why)."""

    name: str
    bodies: Sequence[str] | None
    status: str


_CHAIN_KINDS = {
    "missing entry": "missing_entry",
    "does not follow the entry before it": "misplaced",
}


def chain_problem(facts: ChainFacts) -> Problem | None:
    if facts.break_seq is None:
        return None
    problem = facts.break_problem or "broken"
    return Problem(
        _CHAIN_KINDS.get(problem, "altered"),
        problem,
        first_seq=facts.break_seq,
        last_seq=facts.break_seq,
    )


def _index(copy: Copy, problems: list[Problem]) -> dict[int, Checkpoint] | None:
    if copy.bodies is None:
        return None
    found: dict[int, Checkpoint] = {}
    for line, body in enumerate(copy.bodies, start=1):
        try:
            checkpoint = parse_checkpoint(body)
        except BadCheckpoint as e:
            problems.append(
                Problem(
                    "checkpoint_unreadable",
                    f"{copy.name}, line {line}: {e}",
                )
            )
            continue
        if checkpoint.n in found and found[checkpoint.n].body != body:
            problems.append(
                Problem(
                    "checkpoint_differs",
                    f"checkpoint {checkpoint.n} appears twice in the {copy.name},"
                    " differently",
                    checkpoint=checkpoint.n,
                )
            )
            continue
        found[checkpoint.n] = checkpoint
    return found


def checkpoints_needed(copies: Iterable[Copy]) -> set[int]:
    """The seqs whose hash the chain walk must keep."""
    seqs: set[int] = set()
    for copy in copies:
        for body in copy.bodies or ():
            try:
                seqs.add(parse_checkpoint(body).seq)
            except BadCheckpoint:
                continue
    return seqs


def check_checkpoints(
    facts: ChainFacts,
    copies: Sequence[Copy],
    server_name: str,
    verify_keys: Mapping[str, Any],
) -> tuple[list[Problem], Checkpoint | None]:
    """Every problem the checkpoints reveal, in checkpoint order, and the
    newest checkpoint that is sound."""
    problems: list[Problem] = []
    indexed = [(copy, _index(copy, problems)) for copy in copies]
    readable = [(copy, idx) for copy, idx in indexed if idx is not None]
    numbers = sorted({n for _, idx in readable for n in idx})
    previous: Checkpoint | None = None
    last_sound: Checkpoint | None = None
    matched_seq = 0  # the last entry a checkpoint still vouches for
    rewritten: Problem | None = None
    for n in range(1, (numbers[-1] if numbers else 0) + 1):
        present = [(copy, idx[n]) for copy, idx in readable if n in idx]
        absent = [copy.name for copy, idx in readable if n not in idx]
        if absent:
            where = " and the ".join(absent)
            held = [copy.name for copy, _ in present]
            problems.append(
                Problem(
                    "checkpoint_missing",
                    f"checkpoint {n} is missing from the {where}"
                    + (f" (the {' and the '.join(held)} has it)" if held else ""),
                    checkpoint=n,
                )
            )
        if len({c.body for _, c in present}) > 1:
            problems.append(
                Problem(
                    "checkpoint_differs",
                    f"checkpoint {n} differs between the "
                    + " and the ".join(copy.name for copy, _ in present),
                    checkpoint=n,
                )
            )
        sound: Checkpoint | None = None
        for copy, checkpoint in present:
            why = signature_problem(checkpoint, server_name, verify_keys)
            if why is not None:
                problems.append(
                    Problem(
                        "checkpoint_signature",
                        f"checkpoint {n} in the {copy.name}: {why}",
                        checkpoint=n,
                    )
                )
            elif sound is None:
                sound = checkpoint
        if sound is None:
            previous = None
            continue
        if previous is not None and sound.prev != previous.digest:
            problems.append(
                Problem(
                    "checkpoint_chain",
                    f"checkpoint {n} does not follow checkpoint {n - 1}: the one"
                    f" it was signed after is not the one kept",
                    checkpoint=n,
                )
            )
        previous = last_sound = sound
        now = facts.hashes.get(sound.seq)
        if now is None and sound.seq > facts.last_seq:
            problems.append(
                Problem(
                    "truncated",
                    f"entries {facts.last_seq + 1}-{sound.seq} are missing:"
                    f" checkpoint {n} (signed at {sound.ts}) vouches for entry"
                    f" {sound.seq}, the chain ends at {facts.last_seq}",
                    first_seq=facts.last_seq + 1,
                    last_seq=sound.seq,
                    checkpoint=n,
                )
            )
        elif now is not None and now != sound.hash:
            if rewritten is None:
                rewritten = Problem(
                    "rewritten",
                    f"entries {matched_seq + 1}-{sound.seq} were rewritten and"
                    f" their hashes recomputed: checkpoint {n} (signed at"
                    f" {sound.ts}) vouches for hash {sound.hash[:16]}… of entry"
                    f" {sound.seq}, the chain now has {now[:16]}…",
                    first_seq=matched_seq + 1,
                    last_seq=sound.seq,
                    checkpoint=n,
                )
                problems.append(rewritten)
        elif now is not None and rewritten is None:
            matched_seq = sound.seq
    return problems, last_sound


def first_bad(problems: Sequence[Problem]) -> Problem | None:
    """The problem that concerns the earliest entry; else the first one."""
    with_seq = [p for p in problems if p.first_seq is not None]
    if with_seq:
        return min(with_seq, key=lambda p: p.first_seq or 0)
    return problems[0] if problems else None
