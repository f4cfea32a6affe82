"""Text normalisation for the prohibited-content filter (C3).

``normalise`` is applied identically to keywords and to the text they are
looked for in, so that these spellings of one word all meet:

- full-width and other compatibility forms (ＡＢＣ, ①, 𝐛𝐨𝐥𝐝, ⾦): NFKC;
- case (ABC, Straße -> strasse): Unicode case folding;
- Traditional and Taiwan / Hong Kong variant Chinese (賭博 -> 赌博; 裡, 裏 ->
  里): folded to one Simplified representative per character class
  (``data/t2s_chars.tsv``);
- separators inserted between characters (赌 博, 赌.博, 赌\\u200b博, 赌🎲博,
  s-e-x, z̶a̶l̶g̶o̶): every space, punctuation mark, symbol, control, format
  (zero-width, soft hyphen, BOM) and combining mark is removed.

It runs on every message, so it is one ``str.translate`` with a table built
once at import (about 100 ms). Each entry is what NFKC, case folding, the
Traditional -> Simplified fold and the deletion of separators make of that one
character. The only context-dependent part of Unicode normalisation, canonical
composition (e + U+0301 -> é), is done by ``unicodedata.normalize("NFC")``
only when the C-level quick check (0.4 µs) says the text needs it, which
ordinary Chinese and English text never does. Measured on a 273-character
mixed Chinese / English message (this machine): NFKC alone 9.6 µs, the whole
``normalise`` 7.2 µs; 0.6 µs for ASCII text (CPython's ASCII translate path).
bench/filter.py: about 27 ns a character on mixed text.

Traditional -> Simplified: OpenCC at run time costs 2.9 µs (t2s) to 5.4 µs
(tw2s) a message, zhconv-rs about 3 µs (measured when choosing); the
character table folded into the translate table costs nothing extra and
needs no native library, so the table wins. Character-level conversion
differs from OpenCC's phrase-level output only inside its phrase rules:
憑藉 is 凭借 as a phrase but 凭藉 character by character, and 回覆 is 回复
but 回覆. A filter only needs both spellings to
normalise alike, not to be good Simplified, so the generator joins such pairs
into one class (藉 ~ 借, 覆 ~ 复) and all 477 of OpenCC's t2s phrase rules still
match their Simplified form. The price is that 沈 and 沉 also match each other,
which can only add matches, never lose one.

Not covered: look-alike letters across scripts (Cyrillic а for Latin a),
digits for letters (s3x), pinyin, and half-width katakana with voicing marks
(ｶﾞ normalises to カﾞ, not ガ); none is in C3.
"""

from __future__ import annotations

import html
import re
import unicodedata
from importlib import resources

__all__ = ["normalise", "strip_html"]

# General categories that are separators for matching purposes: spaces, all
# punctuation and symbols (emoji included), controls and format characters
# (zero-width space/joiners, word joiner, BOM, soft hyphen), private use,
# unassigned, and non-spacing / enclosing marks (z̶a̶l̶g̶o̶, variation selectors).
# Spacing marks (Mc) stay: they carry vowels in Indic scripts.
_SEPARATOR_CATEGORIES = frozenset(
    {
        "Zs", "Zl", "Zp",
        "Cc", "Cf", "Cs", "Co", "Cn",
        "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
        "Sm", "Sc", "Sk", "So",
        "Mn", "Me",
    }
)  # fmt: skip

# Outside the BMP, only these ranges hold characters that change: plane 1
# (mathematical alphanumerics, enclosed letters, emoji), CJK compatibility
# ideographs supplement, tags and variation selectors supplement.
_ASTRAL_RANGES = ((0x10000, 0x20000), (0x2F800, 0x2FA20), (0xE0000, 0xE01F0))

# Hangul vowel and final jamo compose with the character before them.
_HANGUL_COMPOSING = frozenset(range(0x1161, 0x1176)) | frozenset(range(0x11A8, 0x11C3))

_Table = dict[int, "int | str | None"]


def _load_t2s() -> dict[str, str]:
    """Read the generated Traditional -> Simplified character classes."""
    text = (
        resources.files("synapse_groupreg.keywords")
        .joinpath("data")  # one name per call: Python 3.10 takes no more
        .joinpath("t2s_chars.tsv")
        .read_text(encoding="utf-8")
    )
    pairs = (line.split("\t") for line in text.splitlines() if line[:1] != "#")
    return {source: target for source, target in pairs}


def _composes_with_previous() -> frozenset[str]:
    """Characters that canonical composition can merge into the one before."""
    seconds = {chr(cp) for cp in _HANGUL_COMPOSING}
    for cp in [
        *range(0x10000),
        *(cp for lo, hi in _ASTRAL_RANGES for cp in range(lo, hi)),
    ]:
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(chr(int(parts[1], 16)))
    return frozenset(seconds)


def _fold_char(char: str, t2s: dict[str, str], composing: frozenset[str]) -> str:
    """Return what ``normalise`` makes of one character, in a single step."""
    compat = unicodedata.normalize("NFKC", char)
    # A compatibility form whose NFKC starts with a composing character (ﾞ ->
    # U+3099, ㅏ -> U+1161) would merge with its neighbour only in full-string
    # NFKC; keep the character so that one lookup decides it.
    if compat != char and (compat[0] in composing or unicodedata.combining(compat[0])):
        compat = char
    category = unicodedata.category
    return "".join(
        t2s.get(c, c)
        for c in compat.casefold()
        if category(c) not in _SEPARATOR_CATEGORIES
    )


def _build_table() -> _Table:
    """Build the translate table: BMP in full, other planes where they change.

    Every BMP code point gets an entry, identity included, because a missing
    key costs ``str.translate`` a raised and cleared ``LookupError`` per
    character (10.8 µs instead of 6.5 µs on the 273-character message).
    Outside the BMP only assigned characters that change are stored: the rare
    others (CJK Extension B, new emoji) take the slow path and stay as they are.
    """
    t2s = _load_t2s()
    composing = _composes_with_previous()
    astral = [cp for lo, hi in _ASTRAL_RANGES for cp in range(lo, hi)]
    astral += [ord(c) for c in t2s if ord(c) > 0xFFFF]
    # NFKC and case folding of ~130k single characters in two C calls: a
    # newline between them is a starter nothing composes with, so each piece
    # is that character's own result. This is what keeps import near 100 ms.
    code_points = [cp for cp in [*range(0x10000), *astral] if _is_batchable(cp)]
    chars = [chr(cp) for cp in code_points]
    quick = unicodedata.normalize("NFKC", "\n".join(chars)).casefold().split("\n")
    category = unicodedata.category
    table: _Table = {cp: None for cp in range(0xD800, 0xE000)}
    table[ord("\n")] = None
    for cp, char, candidate in zip(code_points, chars, quick, strict=True):
        cat = category(char)
        if cat in _SEPARATOR_CATEGORIES and (cp <= 0xFFFF or cat != "Cn"):
            # Unassigned astral code points are left alone so the table does
            # not carry tens of thousands of entries for them.
            folded = _fold_char(char, t2s, composing)
        elif candidate == char and char not in t2s:
            if cp <= 0xFFFF:
                table[cp] = cp
            continue
        else:
            folded = _fold_char(char, t2s, composing)
        # Folding again until nothing changes makes every value a fixed
        # point, e.g. a case-folded letter that NFKC would still change.
        while folded:
            again = "".join(_fold_char(c, t2s, composing) for c in folded)
            if again == folded:
                break
            folded = again
        if folded == char:
            if cp <= 0xFFFF:
                table[cp] = cp
        elif not folded:
            table[cp] = None
        elif len(folded) == 1:
            table[cp] = ord(folded)
        else:
            table[cp] = folded
    return table


def _is_batchable(cp: int) -> bool:
    """Surrogates and the newline used as a divider are handled apart."""
    return not (0xD800 <= cp < 0xE000 or cp == 0x0A)


_TABLE = _build_table()


def normalise(text: str) -> str:
    """Return ``text`` in the form keywords are matched in (C3).

    The result is only for matching: never show it to anyone.

    Args:
        text: a keyword, or text a user publishes.

    Returns:
        NFC-composed, then per character NFKC, case folded, Traditional
        folded to Simplified, with separators, punctuation, symbols,
        whitespace, zero-width and combining characters removed.
    """
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.translate(_TABLE)


# Comments first so a ">" inside one does not end it early; then any tag.
_MARKUP = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)


def strip_html(formatted_body: str) -> str:
    """Reduce an HTML ``formatted_body`` to the text a reader sees.

    Tags are dropped without inserting anything, so 赌<b></b>博 reads 赌博, and
    entities are decoded (&#36171; -> 赋). A regex and ``html.unescape`` take
    5 µs for a 1 kB body against 71 µs for ``html.parser`` (bench/filter.py);
    Matrix HTML is a small tag subset, so nothing the parser would add matters.

    Args:
        formatted_body: the ``formatted_body`` of an ``m.room.message``.

    Returns:
        The text without markup, entities decoded.
    """
    if "<" not in formatted_body and "&" not in formatted_body:
        return formatted_body
    return html.unescape(_MARKUP.sub("", formatted_body))
