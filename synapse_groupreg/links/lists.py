"""The link lists as every process holds them (C8): listed domains, each
naming its category; a host is covered by itself and every domain above it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from synapse_groupreg.content.catalogue import Family
from synapse_groupreg.links.normalise import BadDomain, covering, domain_entry
from synapse_groupreg.store.keywords import CategoryRow
from synapse_groupreg.store.lists import LINKS, CategoryEntries

DOMAIN_KIND = "domains"
MAX_DOMAINS = 200_000


@attrs.frozen(slots=True)
class LinkMatch:
    category: CategoryRow
    #: The host found in the text, and the listed domain that covers it.
    host: str
    domain: str


@attrs.frozen(slots=True, repr=False)
class LinkSnapshot:
    version: int
    domains: Mapping[str, str]
    categories: Mapping[str, CategoryRow]

    def __repr__(self) -> str:
        return (
            f"LinkSnapshot(version={self.version}, domains={len(self.domains)},"
            f" categories={len(self.categories)})"
        )

    def match(self, hosts: Iterable[str]) -> LinkMatch | None:
        """The first host a listed domain covers."""
        domains = self.domains
        for host in hosts:
            for domain in covering(host):
                category = domains.get(domain)
                if category is not None:
                    return LinkMatch(self.categories[category], host, domain)
        return None

    @classmethod
    def build(cls, version: int, categories: Sequence[CategoryEntries]) -> LinkSnapshot:
        domains: dict[str, str] = {}
        for c in categories:
            for domain in c.of(DOMAIN_KIND):
                domains.setdefault(domain, c.row.name)
        return cls(version, domains, {c.row.name: c.row for c in categories})


def _domain(entry: str) -> str:
    try:
        return domain_entry(entry)
    except BadDomain as e:
        raise ValueError(str(e)) from None


def link_family() -> Family[LinkSnapshot]:
    return Family(LINKS, {DOMAIN_KIND: _domain}, LinkSnapshot.build, MAX_DOMAINS)


def allowed(host: str, allow: frozenset[str]) -> bool:
    """Whether an allow list (of normalised domains) covers `host`."""
    return any(d in allow for d in covering(host))
