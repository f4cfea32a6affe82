"""Keyword categories and the automaton that finds them (C2, C6).

A ``KeywordSet`` is built once from every category's words and exceptions,
off the reactor thread if the caller likes (``KeywordSet.build`` is a pure
function returning an object nothing mutates), and then scanned from any
thread. Swapping in a new set after a list change is the caller's job.

One scan normalises each text once (``normalise``) and walks one Aho-Corasick
automaton holding words and exceptions together. A word's match does not count
when it lies wholly inside a match of an exception of the same category, so
开奖 (gambling) is not found in 公开奖励 when 公开奖励 is a gambling exception.

Nothing here returns the matched word: a ``Hit`` names the category, and the
index of the word in that category's list for admin-facing records only.

Because separators are removed (C3), a word is also found across a word
boundary: "this exam" holds "sex". Chinese has no boundaries to lose; for
English, list phrases rather than short words, or add exceptions.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

import ahocorasick
import attrs

from synapse_groupreg.keywords.normalise import normalise

__all__ = [
    "Action",
    "Category",
    "Hit",
    "KeywordSet",
    "ScanResult",
    "SkippedWord",
    "parse_word_file",
    "validate_words",
]

# Words whose normalised form is this short and all ASCII would match inside
# ordinary text once spaces are gone ("is bad" reads "isbad", which holds "sb").
MIN_ASCII_WORD_LENGTH: Final = 3


class Action(enum.Enum):
    """What a match of a category does to the event (C2)."""

    BLOCK = "block"  # refused with 403 PROHIBITED_CONTENT
    REVIEW = "review"  # allowed; a complaint is opened automatically

    @classmethod
    def parse(cls, value: object) -> Action:
        """Return the action named ``value``.

        Raises:
            ValueError: naming the allowed values.
        """
        if isinstance(value, Action):
            return value
        for action in cls:
            if value == action.value:
                return action
        allowed = ", ".join(a.value for a in cls)
        raise ValueError(f"{value!r} is not an action; try one of: {allowed}")


def _as_action(value: object) -> Action:
    return Action.parse(value)


def _as_tuple(words: Iterable[str]) -> tuple[str, ...]:
    # A bare string is iterable too, and would become one word per character.
    if isinstance(words, str):
        raise ValueError(f"expected a list of words, not the string {words!r}")
    return tuple(words)


def _check_name(_: object, __: attrs.Attribute[str], name: str) -> None:
    if not name.strip():
        raise ValueError("a category needs a non-empty name")


def _check_penalty(_: object, __: attrs.Attribute[int], penalty: int) -> None:
    if isinstance(penalty, bool) or not isinstance(penalty, int) or penalty < 0:
        raise ValueError(f"credit_penalty must be an integer >= 0, not {penalty!r}")


@attrs.frozen
class Category:
    """One prohibited-content category and its lists (C2, C6).

    ``words`` and ``exceptions`` are kept as written (for admins); they are
    normalised when a ``KeywordSet`` is built.
    """

    name: str = attrs.field(validator=_check_name)
    action: Action = attrs.field(converter=_as_action)
    credit_penalty: int = attrs.field(validator=_check_penalty)
    words: tuple[str, ...] = attrs.field(converter=_as_tuple, factory=tuple)
    exceptions: tuple[str, ...] = attrs.field(converter=_as_tuple, factory=tuple)


@attrs.frozen
class Hit:
    """A category found in scanned text.

    ``word_index`` is the position in ``Category.words`` of the first word
    found: for audit records and admin views only, never for the user.
    """

    category: str
    action: Action
    credit_penalty: int
    word_index: int


@attrs.frozen
class ScanResult:
    """Every category found in the scanned texts, in order of first match."""

    hits: tuple[Hit, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.hits)

    @property
    def first_block(self) -> Hit | None:
        """The first category whose action is ``block``, if any."""
        return next((h for h in self.hits if h.action is Action.BLOCK), None)

    @property
    def reviews(self) -> tuple[Hit, ...]:
        """Categories whose action is ``review``."""
        return tuple(h for h in self.hits if h.action is Action.REVIEW)


@attrs.frozen
class SkippedWord:
    """A list entry left out of a ``KeywordSet`` because it normalises to ""."""

    category: str
    exception: bool  # True for an entry of ``Category.exceptions``
    index: int


# What the automaton stores for one normalised key: (category index,
# is-exception, index in that category's list), once per list entry.
_Tag = tuple[int, bool, int]


class _Engine:
    """Aho-Corasick over the UTF-8 bytes of normalised text.

    pyahocorasick finds a node's child by linear scan: over characters, the
    root of a 10k Chinese list has thousands of children. Over bytes (viewed
    as latin-1 so pyahocorasick takes them as a str) no node has more than
    256 children (64 below a lead byte), and UTF-8 being self-synchronising,
    a key that starts on a lead byte only matches on a character boundary.
    bench/filter.py, 10k keywords, 500-character mixed message: 169 µs over
    characters, 14 µs over bytes. Positions this class returns are byte
    offsets, which is all that containment needs.
    """

    __slots__ = ("_automaton",)

    def __init__(self, keys: Mapping[str, tuple[_Tag, ...]]) -> None:
        self._automaton: ahocorasick.Automaton | None = None
        if not keys:
            return
        automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
        for key, tags in keys.items():
            view = _byte_view(key)
            automaton.add_word(view, (len(view), tags))
        automaton.make_automaton()
        self._automaton = automaton

    def find(self, normalised: str) -> list[tuple[int, int, tuple[_Tag, ...]]]:
        """Return ``(start, end, tags)`` for each key found; ``end`` is inclusive."""
        if self._automaton is None or not normalised:
            return []
        return [
            (end - length + 1, end, tags)
            for end, (length, tags) in self._automaton.iter(_byte_view(normalised))
        ]


def _byte_view(text: str) -> str:
    """Return ``text``'s UTF-8 bytes as a str of code points 0-255."""
    if text.isascii():
        return text
    return text.encode("utf-8").decode("latin-1")


@attrs.frozen(repr=False)
class KeywordSet:
    """The compiled lists of every category, ready to scan (C2, C3, C6).

    Build it with ``KeywordSet.build``; it is immutable and safe to share
    between threads.
    """

    categories: tuple[Category, ...]
    skipped: tuple[SkippedWord, ...]
    key_count: int
    _engine: _Engine = attrs.field(alias="engine", repr=False, eq=False)

    def __repr__(self) -> str:
        # Counts only: the lists are long, and logs are no place for them.
        names = ", ".join(c.name for c in self.categories)
        return (
            f"KeywordSet(categories=[{names}], keys={self.key_count}, "
            f"skipped={len(self.skipped)})"
        )

    @classmethod
    def empty(cls) -> KeywordSet:
        """A set that finds nothing (no lists configured yet)."""
        return cls.build(())

    @classmethod
    def build(cls, categories: Iterable[Category]) -> KeywordSet:
        """Compile categories into one automaton.

        Pure and CPU-bound (0.5 s and 48 MB for 100k words): run it in a thread
        and swap the result in. A list entry that normalises to "" would
        match everywhere, so it is left out and listed in ``skipped`` rather
        than failing the whole reload; ``validate_words`` catches it earlier.

        Raises:
            ValueError: if two categories share a name.
        """
        ordered = tuple(categories)
        names = [c.name for c in ordered]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"category names must be unique: {', '.join(duplicates)}")
        keys: dict[str, list[_Tag]] = {}
        skipped: list[SkippedWord] = []
        for cat_index, category in enumerate(ordered):
            for exception, entries in (
                (False, category.words),
                (True, category.exceptions),
            ):
                for index, entry in enumerate(entries):
                    key = normalise(entry)
                    if not key:
                        skipped.append(SkippedWord(category.name, exception, index))
                        continue
                    tags = keys.setdefault(key, [])
                    if not any(t[0] == cat_index and t[1] == exception for t in tags):
                        tags.append((cat_index, exception, index))
        engine = _Engine({key: tuple(tags) for key, tags in keys.items()})
        return cls(ordered, tuple(skipped), len(keys), engine=engine)

    def scan(self, *texts: str) -> ScanResult:
        """Find every category in ``texts`` (body, HTML text, file name, ...).

        Each text is normalised and matched on its own, so no match spans two.
        """
        first: dict[int, int] = {}
        for text in texts:
            for cat_index, word_index in self._confirmed(text):
                first.setdefault(cat_index, word_index)
        if not first:
            return _NOTHING
        return ScanResult(tuple(self._hit(c, w) for c, w in first.items()))

    def first_block(self, *texts: str) -> Hit | None:
        """Return the first ``block`` category found, stopping there.

        The per-message hot path when only the refusal matters; it agrees
        with ``scan(*texts).first_block``.
        """
        for text in texts:
            for cat_index, word_index in self._confirmed(text):
                if self.categories[cat_index].action is Action.BLOCK:
                    return self._hit(cat_index, word_index)
        return None

    def _hit(self, cat_index: int, word_index: int) -> Hit:
        category = self.categories[cat_index]
        return Hit(category.name, category.action, category.credit_penalty, word_index)

    def _confirmed(self, text: str) -> list[tuple[int, int]]:
        """Return ``(category index, word index)`` of word matches that count."""
        found = self._engine.find(normalise(text))
        if not found:
            return []
        # C6: collect exception spans first, since an exception can end after
        # the word it covers (公开奖励 ends after 开奖).
        exceptions: dict[int, list[tuple[int, int]]] = {}
        for start, end, tags in found:
            for cat_index, exception, _ in tags:
                if exception:
                    exceptions.setdefault(cat_index, []).append((start, end))
        confirmed: list[tuple[int, int]] = []
        for start, end, tags in found:
            for cat_index, exception, word_index in tags:
                if exception:
                    continue
                spans = exceptions.get(cat_index, ())
                if not any(s <= start and end <= e for s, e in spans):
                    confirmed.append((cat_index, word_index))
        return confirmed


_NOTHING: Final = ScanResult()


def validate_words(words: Sequence[str]) -> list[tuple[int, str]]:
    """Check list entries before they are stored (C4 import, admin API).

    Args:
        words: entries as the admin wrote them.

    Returns:
        ``(index, message)`` for each entry that should not be stored, in
        index order; empty when all are fine. Messages are for admins.
    """
    return _check_words(words, lambda index: f"entry {index}")


def parse_word_file(text: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Parse a keyword list file: UTF-8, one entry a line, ``#`` comment lines.

    Args:
        text: the file's content.

    Returns:
        The entries, and ``(line number, message)`` for each line left out
        (line numbers start at 1).
    """
    entries: list[str] = []
    line_nos: list[int] = []
    errors: list[tuple[int, str]] = []
    for line_no, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if " #" in line or "\t#" in line:
            errors.append((line_no, "a comment must be on a line of its own"))
            continue
        entries.append(line)
        line_nos.append(line_no)
    bad = dict(_check_words(entries, lambda index: f"line {line_nos[index]}"))
    words = [word for index, word in enumerate(entries) if index not in bad]
    errors += [(line_nos[index], message) for index, message in bad.items()]
    return words, sorted(errors)


def _check_words(
    words: Sequence[str], name: Callable[[int], str]
) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for index, word in enumerate(words):
        key = normalise(word)
        if not key:
            errors.append(
                (index, "has no letters or digits once spaces, punctuation and "
                 "symbols are removed, so it would match everything")
            )  # fmt: skip
        elif key.isascii() and len(key) < MIN_ASCII_WORD_LENGTH:
            errors.append(
                (index, f"reads {key!r} once normalised: shorter than "
                 f"{MIN_ASCII_WORD_LENGTH} letters, it would match inside "
                 "ordinary words")
            )  # fmt: skip
        elif key in seen:
            errors.append(
                (index, f"is the same word as {name(seen[key])} once normalised")
            )
        else:
            seen[key] = index
    return errors
