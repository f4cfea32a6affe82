"""The normaliser (C3): every evasion a sender tries reads the same as the word.

Sentences are ones people write in chat, not entries of a keyword list.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from synapse_groupreg.keywords import normalise, strip_html


def _found(word: str, text: str) -> bool:
    return normalise(word) in normalise(text)


# --- C3 evasions, one per test --------------------------------------------


def test_c3_full_width_letters_and_digits_read_as_ascii() -> None:
    """Full-width forms are what an IME gives in Chinese mode: NFKC folds them."""
    assert _found("vip会员888", "欢迎加入ＶＩＰ会员８８８群，名额有限")
    assert normalise("ＯＮＬＩＮＥ　ＣＡＳＩＮＯ") == "onlinecasino"


def test_c3_case_does_not_matter() -> None:
    """Case folding, also beyond ASCII (ß folds to ss)."""
    assert _found("online casino", "Try our ONLINE Casino tonight!")
    assert normalise("Straße") == normalise("STRASSE")


def test_c3_traditional_chinese_reads_as_simplified() -> None:
    """A Traditional sentence matches the Simplified word, and the other way."""
    assert _found("网上赌场", "歡迎來到網上賭場，首充送彩金")
    assert _found("網上賭場", "欢迎来到网上赌场")
    assert normalise("頭髮") == normalise("头发")


def test_c3_taiwan_and_hong_kong_variants_read_as_simplified() -> None:
    """tw2s / hk2s variant characters (裡, 著) fold too."""
    assert _found("里面有什么", "箱子裡面有什麼")
    assert _found("等着", "我在門口等著你")


def test_c3_phrase_level_traditional_still_matches() -> None:
    """Where OpenCC converts a phrase unlike its characters, both still meet."""
    assert _found("凭借", "憑藉這個機會")
    assert _found("回复", "請儘快回覆我")


def test_c3_spaces_and_punctuation_between_characters_are_removed() -> None:
    """赌 博, 赌.博, 赌-博, 赌，博 and s.e.x style spacing."""
    assert _found("网上赌场", "来 网 上 赌 场 玩")
    assert _found("网上赌场", "网.上.赌.场")
    assert _found("网上赌场", "网，上；赌、场")
    assert _found("bomb making", "b.o.m.b-m.a.k.i.n.g for beginners")


def test_c3_zero_width_and_format_characters_are_removed() -> None:
    """ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, bidi marks."""
    for invisible in [
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u00ad",
        "\u200e",
    ]:
        assert _found("刷单返利", invisible.join("刷单返利")), repr(invisible)
    assert _found("escort service", "e\u200bscort ser\u00advice")


def test_c3_symbols_emoji_and_combining_marks_are_removed() -> None:
    """Emoji or stars between characters, and strike-through (z̶a̶l̶g̶o̶) marks."""
    assert _found("网上赌场", "网🎲上★赌♥场")
    assert _found("bomb making", "b̶o̶m̶b̶ m̶a̶k̶i̶n̶g̶")


def test_c3_mixed_evasions_in_one_sentence() -> None:
    """Traditional + full-width + separators + zero-width, all at once."""
    assert _found("网上赌场", "週末來 網\u200b上．賭★場 玩")
    assert _found("vip会员", "加　Ｖ．Ｉ．Ｐ　會\u200d員")


def test_c3_compatibility_letters_fold() -> None:
    """Mathematical bold, circled and Kangxi-radical look-alikes (NFKC)."""
    assert normalise("𝐨𝐧𝐥𝐢𝐧𝐞 𝐜𝐚𝐬𝐢𝐧𝐨") == "onlinecasino"
    assert normalise("①②③") == "123"
    assert normalise("⾦") == "金"


def test_c3_composed_and_decomposed_accents_read_alike() -> None:
    """café typed as é or as e + U+0301 (macOS file names) is one word."""
    assert normalise("cafe\u0301") == normalise("café") == "café"


def test_c3_accents_are_kept_not_folded() -> None:
    """año is not ano: folding accents would add false positives."""
    assert normalise("año") != normalise("ano")


def test_c3_ascii_text_takes_the_same_path_result() -> None:
    """The ASCII fast path gives what the general path gives."""
    ascii_text = "Meet me at 8 P.M., okay?"
    assert normalise(ascii_text) == "meetmeat8pmokay"
    assert normalise(ascii_text + "。")[: -0 or None] == normalise(ascii_text)


def test_c3_text_without_letters_normalises_to_nothing() -> None:
    assert normalise("  ...！？ 🎉🎉 \u200b ") == ""


def test_c3_every_bmp_character_is_a_fixed_point() -> None:
    """Normalising twice changes nothing, for each BMP character on its own."""
    for cp in range(0x10000):
        once = normalise(chr(cp))
        assert normalise(once) == once, hex(cp)


# --- properties ------------------------------------------------------------

# Characters a sender mixes: common and Traditional CJK, ASCII, full-width
# forms, spaces, punctuation, zero-width and emoji.
_CHAT = st.sampled_from(
    [
        *"网上赌场開獎公奖励頭髮发裡里著着abcXYZ019ＡＢＣ１",
        *[" ", ".", "，", "。", "-", "🎲", "★"],
        *["\u200b", "\u00ad", "\ufeff"],
    ]
)
_CHAT_TEXT = st.text(_CHAT, max_size=30)


@given(
    prefix=st.text(max_size=20),
    keyword=st.text(min_size=1, max_size=12),
    suffix=st.text(max_size=20),
)
@example(prefix="公", keyword="開獎", suffix="勵")
@example(prefix="e", keyword="x", suffix="\u0301")
def test_c3_keyword_survives_any_surrounding_text(
    prefix: str, keyword: str, suffix: str
) -> None:
    """normalise(prefix + kw + suffix) contains normalise(kw).

    The one exception is Unicode's own: canonical composition across the
    boundary (x + U+0301 is one character, x́), which NFC does on purpose.
    """
    nfc = unicodedata.normalize
    whole = prefix + keyword + suffix
    assume(
        nfc("NFC", whole)
        == nfc("NFC", prefix) + nfc("NFC", keyword) + nfc("NFC", suffix)
    )
    assert normalise(keyword) in normalise(whole)


@given(prefix=_CHAT_TEXT, keyword=_CHAT_TEXT, suffix=_CHAT_TEXT)
def test_c3_keyword_survives_chat_text(prefix: str, keyword: str, suffix: str) -> None:
    """The same property, drawn from characters chat text is made of."""
    assert normalise(keyword) in normalise(prefix + keyword + suffix)


@given(_CHAT_TEXT)
def test_c3_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(st.text(max_size=40))
def test_c3_result_has_no_separators(text: str) -> None:
    """No assigned space, punctuation, symbol or control is left in the result.

    Unassigned and private-use code points outside the BMP are left alone, so
    that the table needs no entry for each of them.
    """
    left = [unicodedata.category(c) for c in normalise(text)]
    assert not [c for c in left if c[0] in "ZPSC" and c not in ("Cn", "Co")]


_COMMON_HANZI = [
    bytes((high, low)).decode("gb2312")
    for high in range(0xB0, 0xD8)
    for low in range(0xA1, 0xFF)
    if not (high == 0xD7 and low > 0xF9)
]


@given(st.text(st.sampled_from(_COMMON_HANZI), min_size=1, max_size=8))
@pytest.mark.parametrize("config", ["s2t", "s2hk", "s2tw"])
def test_c3_opencc_traditional_normalises_like_the_simplified(
    config: str, simplified: str
) -> None:
    """Whatever OpenCC writes in Traditional for common text folds back (C3).

    OpenCC is the oracle here, not a dependency: skipped where it is absent.
    """
    traditional = _converter(config)(simplified)
    assert normalise(traditional) == normalise(simplified)


@functools.cache
def _converter(config: str) -> Callable[[str], str]:
    opencc = pytest.importorskip("opencc")
    convert: Callable[[str], str] = opencc.OpenCC(config).convert
    return convert


# --- strip_html (C1 input to C3) -------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>欢迎<b>光临</b></p>", "欢迎光临"),
        ("网<b></b>上<i></i>赌场", "网上赌场"),
        ("a &amp; b &lt;c&gt; &#36171;&#x5f69;", "a & b <c> 赋彩"),
        ("x<!-- <b>hidden > here</b> -->y", "xy"),
        ('<a href="https://example.org">link</a>', "link"),
        ("no markup at all", "no markup at all"),
    ],
)
def test_c1_strip_html_keeps_the_text_a_reader_sees(html: str, text: str) -> None:
    assert strip_html(html) == text
