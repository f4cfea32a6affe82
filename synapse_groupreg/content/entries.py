"""Checking and describing keyword list entries (C4): what an admin may
store, how an uploaded file is read, and what the audit log says changed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import attrs

from synapse_groupreg.config.content import (
    CATEGORY_NAME,
    MAX_ENTRIES,
    Labels,
    default_labels,
)
from synapse_groupreg.keywords import Action, normalise, validate_words
from synapse_groupreg.store.keywords import CategoryRow

#: How many added or removed entries an audit entry lists word by word;
#: beyond that it records counts and a digest (see `list_change`).
AUDIT_WORDS = 100


class ListError(Exception):
    """Bad input from an admin: which field, why, and per-entry problems."""

    def __init__(
        self, field: str, message: str, entries: Sequence[tuple[int, str]] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.entries = list(entries)


@attrs.frozen(slots=True)
class ImportResult:
    """What an import did: entries added, lines left out and why."""

    category: str
    kind: str
    added: int
    total: int
    #: (line number, message) for every line not stored.
    errors: list[tuple[int, str]]
    version: int


def _digest(entries: Sequence[str]) -> str:
    """sha256 over the normalised, sorted list: two lists that match the same
    texts have the same digest, whatever their order or spelling."""
    keys = sorted({normalise(e) for e in entries})
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def list_change(before: Sequence[str], after: Sequence[str]) -> dict[str, Any]:
    """What changed in one list, for the audit log.

    The audit log is read by admins and inspectors only, and a list is policy,
    not personal data, so the words themselves are recorded: an inspector
    must be able to see that a term was banned or unbanned. A bulk upload of
    thousands would bloat every later verify and export, so past
    `AUDIT_WORDS` the entry keeps counts and the digest of the new list.
    """
    old, new = set(before), set(after)
    added = [e for e in after if e not in old]
    removed = [e for e in before if e not in new]
    change: dict[str, Any] = {
        "count": len(after),
        "added_count": len(added),
        "removed_count": len(removed),
        "digest": _digest(after),
    }
    if len(added) <= AUDIT_WORDS:
        change["added"] = added
    if len(removed) <= AUDIT_WORDS:
        change["removed"] = removed
    return change


def check_entries(field: str, entries: Sequence[str]) -> None:
    """Refuse a list with any entry that would not work as intended.

    Raises:
        ListError: naming the field and each bad entry by index.
    """
    if len(entries) > MAX_ENTRIES:
        raise ListError(
            field, f"'{field}' has {len(entries)} entries; at most {MAX_ENTRIES}"
        )
    problems = validate_words(entries)
    if problems:
        index, message = problems[0]
        raise ListError(
            field,
            f"'{field}' entry {index} ({entries[index]!r}) {message}"
            + (f"; {len(problems) - 1} more problems" if len(problems) > 1 else ""),
            problems,
        )


def check_name(name: str) -> None:
    if not CATEGORY_NAME.match(name):
        raise ListError(
            "category",
            f"{name!r} is not a category name; use lower-case letters, digits "
            "and '_' (at most 64), starting with a letter or digit",
        )


def decode_lines(raw: bytes) -> tuple[str, list[tuple[int, str]]]:
    """Decode an uploaded list line by line, so one line that is not UTF-8
    is reported on its own and costs no other line. Bad lines become empty
    (keeping line numbers) and are returned as errors."""
    lines: list[str] = []
    errors: list[tuple[int, str]] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError as e:
            lines.append("")
            errors.append((number, f"is not valid UTF-8 (byte {e.start + 1})"))
    return "\n".join(lines), errors


def line_numbers(text: str) -> dict[str, int]:
    """The first line each stripped entry appears on."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        lines.setdefault(line.strip(), number)
    return lines


# -- a category's settings: one rule for the keyword, media and link lists ---


def category_row(
    name: str,
    action: str | None,
    credit_penalty: int | None,
    labels: Labels | None,
    base: CategoryRow | None,
    admin: str,
    now_ms: int,
) -> CategoryRow:
    """A category's row after a change: a field given as None keeps its
    value (`base`); a new category (no `base`) needs action and penalty.

    Raises:
        ListError: a new category without action or credit_penalty.
    """
    if base is None:
        for field, value in (("action", action), ("credit_penalty", credit_penalty)):
            if value is None:
                raise ListError(field, f"'{field}' is required for a new category")
    fallback = default_labels(name)
    row = CategoryRow(
        name=name,
        action=action if action is not None else base.action if base else "",
        credit_penalty=(
            credit_penalty
            if credit_penalty is not None
            else base.credit_penalty
            if base
            else 0
        ),
        label_zh=labels.zh if labels else base.label_zh if base else fallback.zh,
        label_en=labels.en if labels else base.label_en if base else fallback.en,
        updated_ts=now_ms,
        updated_by=admin,
    )
    Action.parse(row.action)  # the HTTP layer checked; a store must not drift
    return row


def settings_change(
    version: int, before: CategoryRow | None, row: CategoryRow, labels_given: bool
) -> dict[str, Any]:
    """The audit details of a category's settings after a change (its
    lists' changes are added by the caller, with `list_change`)."""
    details: dict[str, Any] = {
        "version": version,
        "created": before is None,
        "action": row.action,
        "credit_penalty": row.credit_penalty,
    }
    if before is not None:
        if before.action != row.action:
            details["action_before"] = before.action
        if before.credit_penalty != row.credit_penalty:
            details["credit_penalty_before"] = before.credit_penalty
    if labels_given:
        details["labels"] = {"zh-Hans": row.label_zh, "en": row.label_en}
    return details
