"""The keyword matcher: categories and actions (C2), evasions (C3), exceptions (C6).

Sentences are ones people write in chat; the lists are small and made here,
except where the shipped sample lists (config/keywords) are under test.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from synapse_groupreg.keywords import (
    Action,
    Category,
    Hit,
    KeywordSet,
    SkippedWord,
    normalise,
    parse_word_file,
    validate_words,
)

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "keywords"

GAMBLING = Category(
    name="gambling",
    action="block",
    credit_penalty=10,
    words=["开奖", "网上赌场", "online casino"],
    exceptions=["公开奖励"],
)
FRAUD = Category(
    name="rumour_fraud",
    action="review",
    credit_penalty=5,
    words=["刷单返利", "guaranteed returns"],
)
PORN = Category(
    name="pornography",
    action="block",
    credit_penalty=20,
    words=["约炮", "sex"],
    exceptions=["约炮兵", "essex", "middlesex"],
)


@pytest.fixture(scope="module")
def keywords() -> KeywordSet:
    return KeywordSet.build([GAMBLING, FRAUD, PORN])


def _names(keywords: KeywordSet, *texts: str) -> list[str]:
    return [hit.category for hit in keywords.scan(*texts).hits]


# --- C2: categories, actions, penalties ------------------------------------


def test_c2_block_hit_carries_category_action_and_penalty(keywords: KeywordSet) -> None:
    result = keywords.scan("今晚八点开奖，快来下注")
    assert result.hits == (Hit("gambling", Action.BLOCK, 10, word_index=0),)
    assert result.first_block == result.hits[0]
    assert keywords.first_block("今晚八点开奖，快来下注") == result.hits[0]


def test_c2_review_hit_is_found_but_does_not_block(keywords: KeywordSet) -> None:
    text = "兼职刷单返利，日结三百"
    result = keywords.scan(text)
    assert [h.category for h in result.reviews] == ["rumour_fraud"]
    assert result.first_block is None
    assert keywords.first_block(text) is None


def test_c2_hit_never_carries_the_matched_word(keywords: KeywordSet) -> None:
    """What reaches users names the category, never the word (C2)."""
    hit = keywords.scan("欢迎来到网上赌场").hits[0]
    assert "网上赌场" not in repr(hit)
    assert "网上赌场" not in repr(keywords)
    assert GAMBLING.words[hit.word_index] == "网上赌场"  # for admins only


def test_c2_clean_message_finds_nothing(keywords: KeywordSet) -> None:
    result = keywords.scan("明天上午十点在三楼会议室开会，请准时参加。")
    assert not result
    assert result.first_block is None


def test_c2_several_categories_in_one_message_in_order_of_appearance(
    keywords: KeywordSet,
) -> None:
    text = "刷单返利的群里也有人在说网上赌场"
    assert _names(keywords, text) == ["rumour_fraud", "gambling"]
    assert keywords.first_block(text) == keywords.scan(text).first_block


def test_c2_scans_each_field_of_a_message(keywords: KeywordSet) -> None:
    """Body, HTML text and file name are scanned, each on its own."""
    assert _names(keywords, "看附件", "", "网上赌场攻略.pdf") == ["gambling"]
    # A word split across two fields is not a match in either.
    assert _names(keywords, "我们明天去网上", "赌场的事以后再说") == []


def test_c2_same_word_in_two_categories_hits_both() -> None:
    both = KeywordSet.build(
        [
            Category("gambling", Action.BLOCK, 10, ["百家乐"]),
            Category("rumour_fraud", Action.REVIEW, 5, ["百家樂"]),
        ]
    )
    assert _names(both, "线上百家乐") == ["gambling", "rumour_fraud"]


def test_c2_empty_set_finds_nothing() -> None:
    assert not KeywordSet.empty().scan("网上赌场 online casino")


# --- C3: evasions through the matcher ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "歡迎來到網上賭場",  # Traditional
        "欢迎来到网 上 赌 场",  # spaces
        "网.上.赌.场，首充送彩金",  # dots
        "网\u200b上\u200d赌\ufeff场",  # zero-width
        "來網🎲上★賭場玩",  # emoji, Traditional
        "Try the ONLINE CASINO",  # case
        "ｏｎｌｉｎｅ　ｃａｓｉｎｏ",  # full-width
        "o.n.l.i.n.e c-a-s-i-n-o",  # separators in English
    ],
)
def test_c3_evasions_are_caught(keywords: KeywordSet, text: str) -> None:
    assert _names(keywords, text) == ["gambling"]


def test_c3_traditional_keyword_matches_simplified_text() -> None:
    listed = KeywordSet.build([Category("gambling", "block", 1, ["網上賭場"])])
    assert _names(listed, "欢迎来到网上赌场") == ["gambling"]


# --- C6: exceptions ---------------------------------------------------------


def test_c6_word_inside_an_exception_does_not_count(keywords: KeywordSet) -> None:
    """开奖 inside 公开奖励 (public reward) is no gambling."""
    assert not keywords.scan("本季度公开奖励优秀员工三名")


def test_c6_exception_survives_evasion_characters_too(keywords: KeywordSet) -> None:
    assert not keywords.scan("公開 獎勵名單已發佈")


def test_c6_word_outside_the_exception_still_counts(keywords: KeywordSet) -> None:
    assert _names(keywords, "公开奖励之后，今晚开奖") == ["gambling"]


def test_c6_exception_only_covers_its_own_category() -> None:
    listed = KeywordSet.build(
        [
            Category("gambling", "block", 10, ["开奖"]),
            Category("rumour_fraud", "review", 5, ["中奖"], exceptions=["公开奖励"]),
        ]
    )
    assert _names(listed, "公开奖励") == ["gambling"]


def test_c6_partial_overlap_with_an_exception_still_counts() -> None:
    listed = KeywordSet.build([Category("gambling", "block", 1, ["开奖"], ["奖励"])])
    assert _names(listed, "公开奖励") == ["gambling"]


def test_c6_chinese_words_inside_innocent_phrases(keywords: KeywordSet) -> None:
    """约炮 inside 约炮兵 (meeting artillery comrades) is innocent."""
    assert not keywords.scan("周末约炮兵连的老战友一起吃饭")
    assert _names(keywords, "周末约炮吗") == ["pornography"]


def test_c6_english_words_inside_place_names(keywords: KeywordSet) -> None:
    assert not keywords.scan("Our office moved from Essex to Middlesex.")
    assert _names(keywords, "free s.e.x chat") == ["pornography"]


# --- building and list hygiene ----------------------------------------------


def test_c2_entry_that_normalises_to_nothing_is_skipped_not_fatal() -> None:
    listed = KeywordSet.build(
        [Category("gambling", "block", 1, ["开奖", "！！", "..."], ["*"])]
    )
    assert listed.skipped == (
        SkippedWord("gambling", exception=False, index=1),
        SkippedWord("gambling", exception=False, index=2),
        SkippedWord("gambling", exception=True, index=0),
    )
    assert _names(listed, "开奖了") == ["gambling"]
    assert not listed.scan("！！ 大家好")


def test_c2_category_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique: gambling"):
        KeywordSet.build([GAMBLING, GAMBLING])


def test_c2_words_given_as_one_string_are_refused() -> None:
    """A bare string would silently become one keyword per character."""
    with pytest.raises(ValueError, match="list of words"):
        Category("gambling", "block", 1, words="开奖")


def test_c2_unknown_action_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="try one of: block, review"):
        Category("gambling", "ban", 1)


@pytest.mark.parametrize("penalty", [-1, 1.5, True])
def test_c2_penalty_must_be_a_non_negative_integer(penalty: object) -> None:
    with pytest.raises(ValueError, match="credit_penalty"):
        Category("gambling", "block", penalty)  # type: ignore[arg-type]


def test_c2_validate_words_reports_each_bad_entry_by_index() -> None:
    errors = validate_words(["开奖", "  。。", "S B", "網上賭場", "网上赌场", "casino"])
    assert [index for index, _ in errors] == [1, 2, 4]
    assert "match everything" in errors[0][1]
    assert "shorter than 3" in errors[1][1]
    assert "same word as entry 3" in errors[2][1]


def test_c2_parse_word_file_reports_line_numbers() -> None:
    text = "\ufeff# sample\n开奖\n\n  网上赌场  \n！！\n百家乐 # old\n網上賭場\n"
    words, errors = parse_word_file(text)
    assert words == ["开奖", "网上赌场"]
    assert [line for line, _ in errors] == [5, 6, 7]
    assert "same word as line 4" in errors[2][1]


def test_c2_sample_lists_parse_cleanly_and_catch_their_examples() -> None:
    """The shipped sample lists (config/keywords) are valid and work."""
    categories = []
    for path in sorted(SAMPLES.glob("*.txt")):
        if path.name.endswith(".exceptions.txt"):
            continue
        words, errors = parse_word_file(path.read_text(encoding="utf-8"))
        assert errors == [], path.name
        exceptions_path = path.with_name(path.stem + ".exceptions.txt")
        exceptions: list[str] = []
        if exceptions_path.exists():
            exceptions, errors = parse_word_file(
                exceptions_path.read_text(encoding="utf-8")
            )
            assert errors == [], exceptions_path.name
        categories.append(Category(path.stem, "block", 10, words, exceptions))
    samples = KeywordSet.build(categories)
    assert [c.name for c in samples.categories] == [
        "gambling",
        "pornography",
        "pyramid_selling",
        "rumour_fraud",
        "violence_terror",
    ]
    assert _names(samples, "今晚開獎") == ["gambling"]
    assert not samples.scan("本季度公开奖励优秀员工")
    assert not samples.scan("别拉人头发，很疼的")
    assert _names(samples, "每拉人头一个奖励一百") == ["pyramid_selling"]
    assert not samples.scan("Bath bomb making kit for kids")
    assert _names(samples, "B.O.M.B making guide") == ["violence_terror"]


# --- properties: the engine agrees with a plain reference ---------------------

_ALPHABET = [*"开奖公励网上赌场開獎abcAB", " ", "\u200b", "。"]
_WORDS = st.lists(
    st.text(st.sampled_from(_ALPHABET), min_size=1, max_size=4), max_size=6
)


def _reference(words: list[str], exceptions: list[str], text: str) -> bool:
    """Brute force: every occurrence of every word, checked against exceptions."""
    haystack = normalise(text)

    def spans(entries: list[str]) -> list[tuple[int, int]]:
        found = []
        for entry in filter(None, map(normalise, entries)):
            start = haystack.find(entry)
            while start != -1:
                found.append((start, start + len(entry)))
                start = haystack.find(entry, start + 1)
        return found

    covering = spans(exceptions)
    return any(
        not any(s <= start and end <= e for s, e in covering)
        for start, end in spans(words)
    )


@given(
    words=_WORDS,
    exceptions=_WORDS,
    text=st.text(st.sampled_from(_ALPHABET), max_size=40),
)
def test_c6_scan_agrees_with_brute_force(
    words: list[str], exceptions: list[str], text: str
) -> None:
    """The byte-level automaton finds exactly what substring search finds."""
    listed = KeywordSet.build([Category("gambling", "block", 1, words, exceptions)])
    assert bool(listed.scan(text)) == _reference(words, exceptions, text)


@given(
    prefix=st.text(max_size=20),
    word=st.text(st.sampled_from(_ALPHABET), max_size=6),
    suffix=st.text(max_size=20),
)
def test_c3_word_is_found_whatever_surrounds_it(
    prefix: str, word: str, suffix: str
) -> None:
    """Any text around a listed word still yields its category.

    Unless Unicode composes across the boundary (c + U+0327 is ç), which is
    canonical equivalence, not evasion.
    """
    nfc = unicodedata.normalize
    whole = prefix + word + suffix
    assume(nfc("NFC", whole) == nfc("NFC", prefix) + word + nfc("NFC", suffix))
    listed = KeywordSet.build([Category("gambling", "block", 1, [word])])
    expected = ["gambling"] if normalise(word) else []
    assert _names(listed, whole) == expected
