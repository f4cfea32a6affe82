"""The filter's decision and records (C2, C6), and the list helpers (C4),
without Synapse."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, cast

from synapse_groupreg.config import Language
from synapse_groupreg.content.entries import (
    AUDIT_WORDS,
    ListError,
    check_entries,
    decode_lines,
    list_change,
)
from synapse_groupreg.content.filter import ContentFilter
from synapse_groupreg.content.hits import HitLog
from synapse_groupreg.content.lists import KeywordLists, Snapshot
from synapse_groupreg.reasons import Reason, Refusal, message
from synapse_groupreg.store.content_hits import HitRow
from synapse_groupreg.store.keywords import CategoryLists, CategoryRow
from tests.support.memory import resolve


def _category(
    name: str, action: str, words: list[str], exceptions: tuple[str, ...] = ()
) -> CategoryLists:
    return CategoryLists(
        CategoryRow(name, action, 7, f"{name}-zh", f"{name}-en", 0, "system"),
        tuple(words),
        tuple(exceptions),
    )


class _Hits:
    def __init__(self) -> None:
        self.rows: list[HitRow] = []

    def add(self, row: HitRow) -> None:
        self.rows.append(row)


class _Lists:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot


def _filter() -> tuple[ContentFilter, _Hits]:
    snapshot = Snapshot.build(
        3,
        [
            _category("gambling", "block", ["开奖", "online casino"], ("公开奖励",)),
            _category("fraud", "review", ["刷单返利"]),
        ],
    )
    hits = _Hits()
    content_filter = ContentFilter(
        cast(KeywordLists, _Lists(snapshot)), cast(HitLog, hits), lambda: 1000
    )
    return content_filter, hits


def _enforce(refusal: Refusal | None) -> None:
    """What the dispatcher does with an enforced refusal: run its `then`."""
    assert refusal is not None and refusal.then is not None
    resolve(cast(Coroutine[Any, Any, None], refusal.then()))


def test_block_refuses_naming_category_and_place_never_the_word() -> None:
    """C2: 403 PROHIBITED_CONTENT with the category's label and the field."""
    content_filter, hits = _filter()
    refusal = content_filter.check(
        [("body", "今晚开奖")], "@a:hs", "!r:hs", "$e", "m.room.message"
    )
    assert refusal is not None and refusal.reason is Reason.PROHIBITED_CONTENT
    for language in Language:
        text = message(refusal, language)
        assert "开奖" not in text
    assert "gambling-en, in the message" in message(refusal, Language.EN)
    assert "gambling-zh，位置：消息" in message(refusal, Language.ZH_HANS)
    # Recorded only once the refusal takes effect (not in observe mode).
    assert hits.rows == []
    _enforce(refusal)
    (row,) = hits.rows
    # A refused event never exists: the record has no event id.
    assert (row.action, row.event_id, row.keyword, row.list_version) == (
        "block",
        None,
        "开奖",
        3,
    )


def test_review_allows_and_records_the_event() -> None:
    """C2: review categories pass and leave a record with the event id."""
    content_filter, hits = _filter()
    assert (
        content_filter.check([("body", "刷单返利")], "@a:hs", "!r:hs", "$e", "t")
        is None
    )
    (row,) = hits.rows
    assert (row.action, row.event_id, row.category) == ("review", "$e", "fraud")


def test_block_wins_over_review_and_drops_it() -> None:
    content_filter, hits = _filter()
    refusal = content_filter.check(
        [("body", "刷单返利"), ("filename", "开奖.txt")], "@a:hs", event_id="$e"
    )
    assert refusal is not None
    _enforce(refusal)
    assert [r.action for r in hits.rows] == ["block"]
    assert hits.rows[0].field == "filename"


def test_exception_phrase_passes() -> None:
    """C6: 开奖 inside 公开奖励 does not count."""
    content_filter, hits = _filter()
    assert content_filter.check([("body", "公开奖励名单")], "@a:hs") is None
    assert hits.rows == []


def test_reviews_can_be_left_to_a_later_check() -> None:
    content_filter, hits = _filter()
    assert (
        content_filter.check([("topic", "刷单返利")], "@a:hs", record_reviews=False)
        is None
    )
    assert hits.rows == []


def test_blocks_records_nothing() -> None:
    content_filter, hits = _filter()
    assert content_filter.blocks([("displayname", "开奖王")])
    assert not content_filter.blocks([("displayname", "刷单返利")])
    assert hits.rows == []


def test_bad_entries_are_named_by_index() -> None:
    """C4: a list with a bad entry is refused naming the field and index."""
    try:
        check_entries("words", ["开奖", "ab", "...", "开 奖"])
    except ListError as e:
        assert e.field == "words"
        assert [i for i, _ in e.entries] == [1, 2, 3]
        assert "entry 1 ('ab')" in e.message
    else:
        raise AssertionError("bad entries were accepted")


def test_decode_lines_keeps_numbers_and_reports_bad_utf8() -> None:
    """C4: one line that is not UTF-8 costs only that line."""
    text, errors = decode_lines("开奖\n".encode() + b"\xff\xfe\n" + b"casino\n")
    assert text.split("\n")[:3] == ["开奖", "", "casino"]
    assert errors == [(2, "is not valid UTF-8 (byte 1)")]


def test_audit_change_lists_words_until_the_cap() -> None:
    """F1: the audit says which words were added and removed; a bulk change
    is recorded by counts and a digest."""
    change: dict[str, Any] = list_change(["a1x", "b2y"], ["b2y", "c3z"])
    assert change["added"] == ["c3z"] and change["removed"] == ["a1x"]
    assert change["count"] == 2
    big = [f"word{i}" for i in range(AUDIT_WORDS + 1)]
    change = list_change([], big)
    assert "added" not in change and change["added_count"] == AUDIT_WORDS + 1
    # The digest does not depend on order or spelling variants.
    assert (
        list_change([], ["ABC1", "開獎"])["digest"]
        == (list_change([], ["开奖", "abc1"])["digest"])
    )


def test_a_display_name_change_is_one_record_not_one_per_room() -> None:
    """One global name change is refused in every room the user is in;
    it is recorded (and would be charged) once."""
    content_filter, hits = _filter()
    for room in ("!a:hs", "!b:hs", "!c:hs"):
        refusal = content_filter.check([("displayname", "开奖王")], "@u:hs", room)
        _enforce(refusal)
    assert len(hits.rows) == 1
    _enforce(content_filter.check([("body", "开奖")], "@u:hs", "!a:hs"))
    _enforce(content_filter.check([("body", "开奖")], "@u:hs", "!a:hs"))
    assert len(hits.rows) == 3  # messages are each their own act
