"""Finding the hosts of links in a text, and writing each one way (C8).

Every spelling of a host a browser would open as the same site becomes one
ASCII form, the form the lists are stored in:

- case: `EVIL.com` is `evil.com`;
- internationalised names become punycode (IDNA, with its case and
  compatibility mapping): `bücher.de` is `xn--bcher-kva.de`; full-width
  `ｅｖｉｌ．ｃｏｍ` is `evil.com`, and so is `evil。com` (an ideographic
  full stop between ASCII letters; between Chinese words it ends a
  sentence);
- trailing dots (`evil.com.`) and a leading `www.` are dropped;
- percent-encoding is decoded first (`%65vil%2Ecom` is `evil.com`);
- user-info is not the host: in `http://trusted.com@evil.com/` the host
  is `evil.com`. Every host-like run of the text is taken, the part
  before an `@` included, so `trusted.com` is checked too and nothing
  hides behind it;
- a scheme is not needed: `evil.com/x` in plain words is a link.

A host is ASCII labels with a letter top-level label (`evil.com`,
`xn--fiqs8s`), or, when the text is not ASCII, a word with "." between
Unicode labels, delimited by spaces or punctuation (`例子.中国`), or an IP
address written as a link's host (after a scheme or user-info, or before
a path or port): four decimal numbers up to 255 (`http://203.0.113.9`,
`203.0.113.9/login`), or an IPv6
address in brackets as URLs write it (`http://[2001:db8::1]/`), each in
its canonical form (`2001:db8::1`). Not taken: a Unicode host written
straight against Chinese text with no space or punctuation (no boundary
tells where it ends), IPv4 addresses in other notations (octal, hex, one
number) and address ranges; ASCII hosts are found in Chinese text without
spaces.

Pure; cheap for texts without a dot (`may_hold_links`: a few `in` tests).
`hosts` costs one linear regular-expression pass over texts that have one.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import unicodedata
import urllib.parse
from collections.abc import Iterator

#: An ideographic full stop between ASCII label characters is a dot
#: (`evil。com`); elsewhere it ends a Chinese sentence.
_IDEOGRAPHIC_DOTS = ("\u3002", "\uff61")
#: In a host already found (or a list entry) every full stop is a dot.
_DOT_MAP = str.maketrans(dict.fromkeys(("\u3002", "\uff0e", "\uff61"), "."))
_ASCII_LABEL = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
)
#: A run of ASCII labels joined by dots (checked further in `_hosts_in`).
#: Labels of at most 63 characters: unbounded ones would make a long run
#: without a host cost quadratic time (a crafted 16k "aaa...a." took 2 s).
_ASCII_RUN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
#: The longest host (RFC 1035): words are never walked further from a dot.
_MAX_HOST = 253
_TOP_LABEL = re.compile(r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})")
#: Four decimal numbers of at most three digits: maybe an IPv4 address.
_DOTTED_QUAD = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
#: An IPv6 address in a URL's brackets (RFC 3986): `http://[2001:db8::1]/`.
_BRACKETED_IPV6 = re.compile(r"://\[([0-9A-Fa-f:.]{2,45})\]")
#: Full-width letters, digits and full stop, which NFKC maps to ASCII.
_FULL_WIDTH = re.compile("[\uff0e\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


class BadDomain(ValueError):
    """A list entry that is not a domain."""


def _written_apart(char: str) -> bool:
    """Whether a letter next to an ASCII host ends it: Chinese, Japanese and
    Korean are written without spaces, so `访问evil.com获取` holds
    `evil.com`; a Latin, Greek or Cyrillic letter is part of the word
    (`bücher.de` holds no `cher.de`)."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or code >= 0x20000
    )


def _bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return all(not c.isalpha() or _written_apart(c) for c in (before, after))


def _ideographic_dot_positions(text: str) -> list[int]:
    """Where an ideographic full stop stands between ASCII label characters."""
    found = []
    last = len(text) - 1
    for dot in _IDEOGRAPHIC_DOTS:
        i = text.find(dot)
        while i != -1:
            if (
                0 < i < last
                and text[i - 1] in _ASCII_LABEL
                and text[i + 1] in _ASCII_LABEL
            ):
                found.append(i)
            i = text.find(dot, i + 1)
    return found


def may_hold_links(text: str) -> bool:
    """False when the text cannot hold a link: no dot of any kind, no
    percent sign and no bracketed address (four `in` tests for most texts)."""
    if "." in text or "%" in text or "\uff0e" in text or "://[" in text:
        return True
    return bool(_ideographic_dot_positions(text))


def ip_address(text: str) -> str | None:
    """`text` as a canonical IP address (`2001:DB8:0::1` -> `2001:db8::1`),
    or None if it is not one in the notations taken."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def to_ascii(host: str) -> str | None:
    """One host in the lists' form, or None when IDNA cannot write it."""
    if ":" in host:  # only IPv6 addresses have one
        return ip_address(host)
    host = host.translate(_DOT_MAP).strip(".").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    return host or None


def _decoded(text: str) -> str:
    if "%" in text:
        # Twice: a doubly encoded "%252E" is still a dot to some clients.
        for _ in range(2):
            decoded = urllib.parse.unquote(text)
            if decoded == text:
                break
            text = decoded
    if not text.isascii():
        # Only for full-width letters: Chinese punctuation (，：) is full
        # width too, and NFKC over every Chinese message would cost more
        # than everything else here.
        if _FULL_WIDTH.search(text):
            text = unicodedata.normalize("NFKC", text)
        positions = _ideographic_dot_positions(text)
        if positions:
            chars = list(text)
            for i in positions:
                chars[i] = "."
            text = "".join(chars)
    return text


def _in_word(char: str) -> bool:
    return char.isalnum() or char in "-_."


def _words_with_dots(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each word (letters, digits, `-_.`) holding a dot,
    at most a host's length either side of it: found from the dots, so the
    rest of the text is never walked, and a long word costs no more than a
    short one."""
    size = len(text)
    i = text.find(".")
    while i != -1:
        start, end = i, i + 1
        low, high = max(0, i - _MAX_HOST), min(size, i + 1 + _MAX_HOST)
        while start > low and _in_word(text[start - 1]):
            start -= 1
        while end < high and _in_word(text[end]):
            end += 1
        yield start, end
        i = text.find(".", end)


def _linked(text: str, start: int, end: int, m: re.Match[str]) -> bool:
    """Whether a dotted quad is written as a link's host (after a scheme or
    user-info, or before a path or port): a bare `1.2.3.4` in words is as
    likely a version number, which a class's allow list must not refuse."""
    if m.start() != 0 or m.end() != end - start or ip_address(m.group()) is None:
        return False
    return (
        text.endswith("://", 0, start)
        or text.endswith("@", 0, start)
        or text.startswith(("/", ":"), end)
    )


def _hosts_in(text: str) -> Iterator[str]:
    ascii_only = text.isascii()
    words: set[str] = set()
    for start, end in _words_with_dots(text):
        word = text[start:end]
        if word in words:
            continue  # a link pasted twice is looked at once
        words.add(word)
        for m in _ASCII_RUN.finditer(word):
            run = m.group()
            if not _TOP_LABEL.fullmatch(run.rsplit(".", 1)[1]):
                if _DOTTED_QUAD.fullmatch(run) and _linked(text, start, end, m):
                    yield run
                continue
            if ascii_only or _bounded(text, start + m.start(), start + m.end()):
                yield run
        if not ascii_only and not word.isascii():
            unicode_host = word.strip(".-_")
            if "." in unicode_host:
                yield unicode_host


def hosts(text: str) -> Iterator[str]:
    """The normalised hosts of the links in `text`, each once, in order.

    Linear in the text, and only the words around dots are looked at: for
    each, the ASCII hosts in it (`访问evil.com获取` holds `evil.com`), and
    a word that is not ASCII is taken whole as a Unicode host
    (`例子.中国`).
    """
    if not may_hold_links(text):
        return
    seen: set[str] = set()
    raws: set[str] = set()
    decoded = _decoded(text)
    found = _hosts_in(decoded)
    if "://[" in decoded:
        found = itertools.chain(found, _BRACKETED_IPV6.findall(decoded))
    for raw in found:
        if raw in raws:
            continue
        raws.add(raw)
        host = to_ascii(raw)
        if host is not None and host not in seen and ("." in host or ":" in host):
            seen.add(host)
            yield host


def domain_entry(entry: str) -> str:
    """A deny- or allow-list entry in the lists' form.

    Accepts a bare domain in any spelling (`Bücher.DE.`, `www.evil.com`) or
    a URL (`https://evil.com/path`), whose host is taken.

    Raises:
        BadDomain: saying why it is not a domain.
    """
    text = _decoded(entry.strip())
    if "://" in text:
        text = text.split("://", 1)[1]
    text = re.split(r"[/?#]", text, maxsplit=1)[0].rsplit("@", 1)[-1]
    address = ip_address(text.strip("[]")) or ip_address(text.split(":", 1)[0])
    if address is not None:
        return address
    if text.startswith("["):
        raise BadDomain("is not an IP address in brackets")
    if ":" in text:
        text = text.split(":", 1)[0]
    if not text:
        raise BadDomain("is empty")
    host = to_ascii(text)
    if host is None:
        raise BadDomain("is not a domain IDNA can write")
    labels = host.split(".")
    for label in labels:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", label):
            raise BadDomain(f"has a label {label!r} that is not a domain label")
    if labels[-1].isdigit():
        raise BadDomain(
            "is neither a domain nor an IP address of four numbers up to 255"
        )
    return host


def covering(host: str) -> Iterator[str]:
    """The host and every domain above it: a listed domain covers its
    subdomains (`a.b.evil.com` -> `a.b.evil.com`, `b.evil.com`,
    `evil.com`, `com`). An IP address covers only itself."""
    yield host
    if ":" in host or host[-1:].isdigit():
        return
    start = host.find(".")
    while start != -1:
        yield host[start + 1 :]
        start = host.find(".", start + 1)


def unicode_form(host: str) -> str:
    """A stored host as people read it (punycode back to Unicode)."""
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host
