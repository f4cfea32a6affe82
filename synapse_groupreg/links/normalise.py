"""Finding the hosts of links in a text, and writing each one way (C8).

Every spelling of a host a browser would open as the same site becomes one
ASCII form, the form the lists are stored in:

- case: `EVIL.com` is `evil.com`;
- internationalised names become punycode (IDNA, with its case and
  compatibility mapping): `bücher.de` is `xn--bcher-kva.de`, full-width
  `ｅｖｉｌ．ｃｏｍ` and the ideographic full stops `。．｡` are `evil.com`;
- trailing dots (`evil.com.`) and a leading `www.` are dropped;
- percent-encoding is decoded first (`%65vil%2Ecom` is `evil.com`);
- user-info is not the host: in `http://trusted.com@evil.com/` the host
  is `evil.com`. Every host-like run of the text is taken, the part
  before an `@` included, so `trusted.com` is checked too and nothing
  hides behind it;
- a scheme is not needed: `evil.com/x` in plain words is a link.

A host is ASCII labels with a letter top-level label (`evil.com`,
`xn--fiqs8s`), or, when the text is not ASCII, Unicode labels delimited
by spaces or punctuation (`例子.中国`). Not taken: IP addresses, and a
Unicode host written straight against Chinese text with no space or
punctuation (no boundary tells where it ends); ASCII hosts are found in
Chinese text without spaces.

Pure; cheap for texts without a dot (one `in` test per dot-like
character). `hosts` costs a regular-expression pass over texts that have one.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Iterator

#: Characters that can separate labels, once mapped (IDNA maps all to ".").
_DOTS = (".", "\u3002", "\uff0e", "\uff61")
#: Any of these in a text means it may hold a link ("%" for "%2E").
_TRIGGERS = (*_DOTS, "%")
_DOT_MAP = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})

_ASCII_HOST = re.compile(
    r"(?<![a-z0-9-])"
    r"((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59}))"
    r"(?![a-z0-9-])",
    re.IGNORECASE,
)
_UNICODE_HOST = re.compile(r"(?<![\w.-])((?:[\w-]+\.)+[^\W\d_]{2,})(?![\w-])")


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


def may_hold_links(text: str) -> bool:
    """False when the text cannot hold a link: it has no dot at all."""
    return any(t in text for t in _TRIGGERS)


def to_ascii(host: str) -> str | None:
    """One host in the lists' form, or None when IDNA cannot write it."""
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
        text = unicodedata.normalize("NFKC", text).translate(_DOT_MAP)
    return text


def hosts(text: str) -> Iterator[str]:
    """The normalised hosts of the links in `text`, each once, in order."""
    if not may_hold_links(text):
        return
    text = _decoded(text)
    seen: set[str] = set()
    if text.isascii():
        found = [m.group(1) for m in _ASCII_HOST.finditer(text)]
    else:
        found = [
            m.group(1)
            for m in _ASCII_HOST.finditer(text)
            if _bounded(text, m.start(1), m.end(1))
        ]
        found += [m.group(1) for m in _UNICODE_HOST.finditer(text)]
    for raw in found:
        host = to_ascii(raw)
        if host is not None and host not in seen:
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
        raise BadDomain("is an IP address; list domains")
    return host


def covering(host: str) -> Iterator[str]:
    """The host and every domain above it: a listed domain covers its
    subdomains (`a.b.evil.com` -> `a.b.evil.com`, `b.evil.com`,
    `evil.com`, `com`)."""
    yield host
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
