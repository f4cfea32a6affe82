"""The `content:` section: the prohibited-content filter (C1-C4, C6).

Where the truth lives: the keyword lists, and each category's action and
credit penalty, live in the database (C4), managed through the admin API and
the CLI. The categories here are *seeds*: at start-up, a category named here
that the database has never seen is created with this action, penalty and
(optionally) the words of `words_file` / `exceptions_file`. After that the
database wins: editing a seed later changes nothing (the module logs that the
two differ), and a category deleted through the API stays deleted. So a
restart never undoes an admin's change, and every worker reads one truth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from synapse_groupreg.config._reader import Section
from synapse_groupreg.keywords import Action, parse_word_file

#: A category name: lower-case letters, digits and underscores; it is a path
#: segment of the admin API and a label in records, so nothing fancier.
CATEGORY_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")

#: The most entries one category's list may hold. Far above any real list
#: (bench/filter.py: 100k keywords build in 0.5 s and 48 MB), low enough that
#: a mistaken upload cannot exhaust memory on every worker.
MAX_ENTRIES = 200_000

# Profile defaults, in the shape an operator writes them, so they pass the
# same checks. `cn`: the kinds of content Art. 10 and the 2017 Provisions'
# companion rules name; `generic`: what a workplace or community server
# usually forbids. Review categories let a human decide (C2).
_CN_CATEGORIES: Mapping[str, Any] = {
    "pornography": {"action": "block", "credit_penalty": 20},
    "violence_terror": {"action": "block", "credit_penalty": 30},
    "rumour_fraud": {"action": "review", "credit_penalty": 10},
    "pyramid_selling": {"action": "block", "credit_penalty": 15},
    "gambling": {"action": "block", "credit_penalty": 15},
}
_GENERIC_CATEGORIES: Mapping[str, Any] = {
    "spam": {"action": "block", "credit_penalty": 5},
    "fraud": {"action": "block", "credit_penalty": 10},
    "sexual": {"action": "block", "credit_penalty": 10},
    "violence": {"action": "block", "credit_penalty": 20},
    "harassment": {"action": "review", "credit_penalty": 5},
}


@attrs.frozen(slots=True)
class Labels:
    """How a category is named to users, in each language (G3)."""

    zh: str
    en: str


#: Names users read for the categories the profiles ship; an operator's own
#: categories give `labels`, or are shown by their name.
KNOWN_LABELS: Mapping[str, Labels] = {
    "pornography": Labels("色情", "pornography"),
    "violence_terror": Labels("暴力恐怖", "violence or terrorism"),
    "rumour_fraud": Labels("谣言诈骗", "rumours or fraud"),
    "pyramid_selling": Labels("传销", "pyramid selling"),
    "gambling": Labels("赌博", "gambling"),
    "spam": Labels("垃圾信息", "spam"),
    "fraud": Labels("诈骗", "fraud"),
    "sexual": Labels("色情", "sexual content"),
    "violence": Labels("暴力", "violence"),
    "harassment": Labels("骚扰", "harassment"),
}


def default_labels(name: str) -> Labels:
    return KNOWN_LABELS.get(name, Labels(name, name.replace("_", " ")))


@attrs.frozen(slots=True)
class CategorySeed:
    """A category to create at start-up if the database has never had it."""

    name: str
    action: Action
    credit_penalty: int
    labels: Labels
    #: Entries read from `words_file` / `exceptions_file` (already checked).
    words: tuple[str, ...]
    exceptions: tuple[str, ...]

    @classmethod
    def read(cls, name: str, section: Section) -> CategorySeed:
        if not CATEGORY_NAME.match(name):
            raise section.error(
                None,
                f"{name!r} is not a category name; use lower-case letters, "
                "digits and '_' (at most 64), starting with a letter or digit",
            )
        action = Action(section.string("action", "block", [a.value for a in Action]))
        penalty = section.integer("credit_penalty", 0, minimum=0, maximum=120)
        labels_section = section.section("labels")
        fallback = default_labels(name)
        labels = Labels(
            labels_section.string("zh-Hans", fallback.zh),
            labels_section.string("en", fallback.en),
        )
        labels_section.finish()
        words = _read_list(section, "words_file")
        exceptions = _read_list(section, "exceptions_file")
        return cls(name, action, penalty, labels, words, exceptions)


def _read_list(section: Section, key: str) -> tuple[str, ...]:
    """The entries of a list file named at `key`; any bad line stops start-up
    (unlike the lenient API import: a seed should be exactly what was meant)."""
    path = section.optional_string(key)
    if path is None:
        return ()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise section.error(key, f"cannot read {path!r} as UTF-8 text: {e}") from None
    words, errors = parse_word_file(text)
    if errors:
        line, message = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise section.error(key, f"{path}, line {line}: {message}{more}")
    if len(words) > MAX_ENTRIES:
        raise section.error(
            key, f"{path} has {len(words)} entries; at most {MAX_ENTRIES} are allowed"
        )
    return tuple(words)


@attrs.frozen(slots=True)
class MediaListsConfig:
    """Media lists (C7); the lists themselves live in the database."""

    #: Off: files are not hashed and `check_media_file_for_spam` is not
    #: registered.
    enabled: bool
    #: How many of a perceptual hash's 64 bits may differ for a file to
    #: count as a copy of a listed picture (resized, recompressed, lightly
    #: cropped copies land within 8; unrelated pictures about 32 apart).
    max_distance: int
    #: Closing a room (D2) quarantines its media, and blacklisting a local
    #: user (D4) what they uploaded, through Synapse's own quarantine.
    quarantine: bool = False

    @classmethod
    def read(cls, section: Section, cn: bool = False) -> MediaListsConfig:
        enabled = section.boolean("enabled", True)
        distance = section.integer("max_distance", 8, minimum=0, maximum=16)
        quarantine = section.boolean("quarantine", cn)
        section.finish()
        return cls(enabled, distance, quarantine)


@attrs.frozen(slots=True)
class LinkListsConfig:
    """Link lists (C8); the deny lists live in the database."""

    #: Off: no link is looked for.
    enabled: bool
    #: Per room class, the only domains (and their subdomains) links in its
    #: rooms may point to, normalised; a class not named here has none.
    allow: Mapping[str, frozenset[str]]

    @classmethod
    def read(cls, section: Section) -> LinkListsConfig:
        from synapse_groupreg.links.normalise import BadDomain, domain_entry

        enabled = section.boolean("enabled", True)
        allow_section = section.section("allow")
        allow: dict[str, frozenset[str]] = {}
        for name in allow_section.names():
            domains = allow_section.string_list(name, ())
            clean = set()
            for index, entry in enumerate(domains):
                try:
                    clean.add(domain_entry(entry))
                except BadDomain as e:
                    raise allow_section.error(
                        name, f"entry {index} ({entry!r}) {e}"
                    ) from None
            allow[name] = frozenset(clean)
        allow_section.finish()
        section.finish()
        return cls(enabled, allow)


@attrs.frozen(slots=True)
class ContentConfig:
    """The prohibited-content filter (C1-C4, C6)."""

    #: Off: no callback is registered and nothing is scanned.
    enabled: bool
    #: How often each process asks the database whether the lists changed;
    #: a change reaches every worker within this plus the rebuild (C4).
    reload_interval_ms: int
    #: How long hit records (refusals and review records) are kept.
    hit_retention_ms: int
    #: Categories to create at the first start (see the module docstring).
    seeds: Mapping[str, CategorySeed]
    #: Media lists (C7) and link lists (C8).
    media: MediaListsConfig = MediaListsConfig(True, 8)
    links: LinkListsConfig = LinkListsConfig(True, {})

    @classmethod
    def read(cls, section: Section, cn: bool) -> ContentConfig:
        enabled = section.boolean("enabled", True)
        reload_ms = section.duration_ms("reload_interval", "2s")
        if not 100 <= reload_ms <= 60_000:
            raise section.error(
                "reload_interval",
                "must be between 100ms and 60s; lists must reach every worker "
                "within seconds (C4)",
            )
        retention_ms = section.duration_ms("hit_retention", "190d")
        if retention_ms < 86_400_000:
            raise section.error("hit_retention", "must be at least 1d")
        seeds = section.items(
            "categories",
            CategorySeed.read,
            _CN_CATEGORIES if cn else _GENERIC_CATEGORIES,
        )
        media = MediaListsConfig.read(section.section("media"), cn)
        links = LinkListsConfig.read(section.section("links"))
        section.finish()
        return cls(enabled, reload_ms, retention_ms, seeds, media, links)
