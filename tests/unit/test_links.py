"""C8: links found in text and written one way, whatever the spelling; a
listed domain covers its subdomains and nothing else; a class's allow list;
the refusal in both languages."""

from __future__ import annotations

import pytest

from synapse_groupreg.config import Language
from synapse_groupreg.content.extract import link_texts
from synapse_groupreg.links.check import Found, LinkFilter
from synapse_groupreg.links.lists import LinkSnapshot, allowed, link_family
from synapse_groupreg.links.normalise import (
    BadDomain,
    covering,
    domain_entry,
    hosts,
    may_hold_links,
    unicode_form,
)
from synapse_groupreg.reasons import Reason, message
from synapse_groupreg.store.keywords import CategoryRow
from synapse_groupreg.store.lists import CategoryEntries


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("plain evil.com here", "evil.com"),
        ("case EVIL.Com", "evil.com"),
        ("trailing dot evil.com. then", "evil.com"),
        ("two dots evil.com..", "evil.com"),
        ("www www.evil.com", "evil.com"),
        ("user-info http://trusted.com@evil.com/login", "evil.com"),
        ("user-info with password https://a:b@evil.com", "evil.com"),
        ("percent http://%65vil%2Ecom/x", "evil.com"),
        ("double percent http://evil%252Ecom/", "evil.com"),
        ("schemeless evil.com/x?y=1", "evil.com"),
        ("full width ｅｖｉｌ．ｃｏｍ", "evil.com"),
        ("ideographic dot evil。com", "evil.com"),
        ("in Chinese 访问evil.com获取", "evil.com"),
        ("IDN http://bücher.de/", "xn--bcher-kva.de"),
        ("IDN upper BÜCHER.de", "xn--bcher-kva.de"),
        ("punycode xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("Chinese IDN 看 例子.中国 吧", "xn--fsqu00a.xn--fiqs8s"),
        ("port http://evil.com:8080/", "evil.com"),
        ("backslash http://evil.com\\@trusted.com", "evil.com"),
        ("mail bob@evil.com", "evil.com"),
    ],
)
def test_every_spelling_of_a_host_is_one(text: str, host: str) -> None:
    assert host in list(hosts(text)), text


@pytest.mark.parametrize(
    "text",
    ["hello world", "ok.", "version 1.2.3", "ratio 3.5", "e.g. this", "无链接的消息"],
)
def test_texts_without_links_have_no_hosts(text: str) -> None:
    assert list(hosts(text)) == []


def test_a_latin_letter_is_part_of_the_host() -> None:
    """`bücher.de` holds no `cher.de`."""
    assert list(hosts("http://bücher.de/")) == ["xn--bcher-kva.de"]


def test_the_cheap_answer_for_texts_without_a_dot() -> None:
    assert not may_hold_links("你好，今天开会吗")
    assert may_hold_links("evil。com") and may_hold_links("evil%2Ecom")


def test_entries_are_written_one_way() -> None:
    assert domain_entry("Bücher.DE.") == "xn--bcher-kva.de"
    assert domain_entry("https://www.Evil.com/path?q") == "evil.com"
    assert domain_entry("https://user@evil.com:443") == "evil.com"
    assert domain_entry("例子.中国") == "xn--fsqu00a.xn--fiqs8s"
    assert unicode_form("xn--fsqu00a.xn--fiqs8s") == "例子.中国"
    for bad in ("", "exa mple.com", "1.2.3", "-bad-.com", "a" * 64 + ".com"):
        with pytest.raises(BadDomain):
            domain_entry(bad)


def test_a_domain_covers_its_subdomains_only() -> None:
    assert list(covering("a.b.evil.com")) == [
        "a.b.evil.com", "b.evil.com", "evil.com", "com",
    ]  # fmt: skip
    row = CategoryRow("gambling", "block", 15, "赌博", "gambling", 0, "a")
    snapshot = LinkSnapshot.build(1, [CategoryEntries(row, {"domains": ("evil.com",)})])
    assert snapshot.match(["cdn.evil.com"]) is not None
    assert snapshot.match(["evil.com"]) is not None
    for other in ("notevil.com", "evil.com.cn", "evil.co"):
        assert snapshot.match([other]) is None, other


def test_links_hidden_in_html_are_found() -> None:
    content = {
        "body": "here",
        "format": "org.matrix.custom.html",
        "formatted_body": '<a href="http://evil&#46;com/x">here</a>',
    }
    found = [h for _, t in link_texts("m.room.message", content) for h in hosts(t)]
    assert "evil.com" in found


class _Hits:
    def __init__(self) -> None:
        self.rows: list[object] = []

    def add(self, row: object) -> None:
        self.rows.append(row)


class _Lists:
    def __init__(self, snapshot: LinkSnapshot) -> None:
        self.snapshot = snapshot


def _filter(allow: dict[str, frozenset[str]]) -> tuple[LinkFilter, _Hits]:
    rows = [
        CategoryEntries(
            CategoryRow("gambling", "block", 15, "赌博", "gambling", 0, "a"),
            {"domains": ("evil.com",)},
        ),
        CategoryEntries(
            CategoryRow("shorteners", "review", 0, "短链接", "link shorteners", 0, "a"),
            {"domains": ("t.example",)},
        ),
    ]
    hits = _Hits()
    lists = _Lists(LinkSnapshot.build(2, rows))
    return LinkFilter(lists, hits, allow, lambda: 1000), hits  # type: ignore[arg-type]


def test_the_decision_refuses_reviews_and_applies_the_allow_list() -> None:
    """C8: a block list refuses naming its category in both languages; a
    review list records; a class's allow list refuses every other site."""
    links, hits = _filter({"official": frozenset({"gov.cn"})})
    refusal = links.check(
        [Found("body", "www.evil.com")], "@u:hs", "!r", "$e", "m.room.message", None
    )
    assert refusal is not None and refusal.reason is Reason.PROHIBITED_LINK
    assert message(refusal, Language.ZH_HANS) == (
        "内容中的链接指向被禁止的网站（赌博），未能发送。请删除该链接后重试。"
    )
    assert "a prohibited site (gambling)" in message(refusal, Language.EN)
    assert hits.rows == []  # recorded only when the refusal takes effect

    assert (
        links.check([Found("body", "t.example")], "@u:hs", "!r", "$e", None, None)
        is None
    )
    assert len(hits.rows) == 1

    inside = links.check(
        [Found("body", "www.gov.cn")], "@u:hs", "!r", "$e", None, "official"
    )
    assert inside is None
    outside = links.check(
        [Found("body", "example.org")], "@u:hs", "!r", "$e", None, "official"
    )
    assert outside is not None and "'official'" in message(outside, Language.EN)
    assert (
        links.check([Found("body", "example.org")], "@u:hs", "!r", "$e", None, "public")
        is None
    )
    assert allowed("a.gov.cn", frozenset({"gov.cn"}))


def test_the_family_refuses_bad_entries() -> None:
    family = link_family()
    assert family.kinds["domains"]("WWW.Evil.COM.") == "evil.com"
    with pytest.raises(ValueError):
        family.kinds["domains"]("not a domain")


def test_long_words_are_looked_at_only_near_their_dots() -> None:
    """A host inside a long run of Chinese is found; a long run of letters
    with a dot is no host (and costs linear time, not quadratic: bench)."""
    assert "evil.com" in list(hosts("访问" * 3000 + "evil.com" + "获取" * 3000))
    assert list(hosts("a" * 5000 + ".")) == []
    assert list(hosts("-" * 5000 + ".")) == []


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("http://203.0.113.9/x", "203.0.113.9"),
        ("访问 203.0.113.9/login 领取", "203.0.113.9"),
        ("203.0.113.9:8080", "203.0.113.9"),
        ("http://user@198.51.100.7", "198.51.100.7"),
        ("http://[2001:DB8:0::1]:8080/x", "2001:db8::1"),
    ],
)
def test_ip_addresses_written_as_links_are_hosts(text: str, host: str) -> None:
    assert list(hosts(text)) == [host]


@pytest.mark.parametrize(
    "text", ["version 1.2.3.4 released", "1.2.3.4.", "http://999.1.1.1/", "[::1]"]
)
def test_numbers_that_are_not_linked_addresses_are_not_hosts(text: str) -> None:
    """A bare dotted quad in words is as likely a version number: a class
    allow list must not refuse it."""
    assert list(hosts(text)) == []


def test_an_address_is_listed_in_its_canonical_form_and_covers_only_itself() -> None:
    assert domain_entry("https://198.51.100.7:8443/p") == "198.51.100.7"
    assert domain_entry("http://[2001:DB8:0::1]/") == "2001:db8::1"
    assert list(covering("198.51.100.7")) == ["198.51.100.7"]
    assert list(covering("2001:db8::1")) == ["2001:db8::1"]
    with pytest.raises(BadDomain):
        domain_entry("1.2.3.999")
