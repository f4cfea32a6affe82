"""The prohibited-content filter as a service (C1-C4, C6): lists kept current
in every process, the decision, and the records of what it found.

`load_content` is what the composition root calls once the seed categories
are planted and the lists loaded (before any callback can run, so no
message passes unscanned while a process starts); `content_jobs` are its
background jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import attrs

from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.content.filter import ContentFilter
from synapse_groupreg.content.hits import CreditPenalties, HitLog
from synapse_groupreg.content.lists import KeywordLists, Snapshot
from synapse_groupreg.jobs import Job
from synapse_groupreg.store import Store
from synapse_groupreg.store.keywords import CategoryLists, CategoryRow

logger = logging.getLogger(__name__)

__all__ = ["ContentServices", "content_jobs", "load_content", "seed_lists"]

#: How often each process writes its buffered hits.
FLUSH_INTERVAL_MS = 1000
#: How often the background-task process purges hits past retention.
PURGE_INTERVAL_MS = 6 * 3600 * 1000


@attrs.frozen(slots=True)
class ContentServices:
    """What the checks, the admin API and other concerns use.

    - `filter.check(...)`: the decision (checks only).
    - `lists`: the current lists and the admin's changes.
    - `hits`: refusals and review records; `hits.blocks_since(user, ts)`
      for sanctions' thresholds, `hits.page(..., action="review")` for the
      complaint queue; `hits.penalties` is the credit hook.
    """

    filter: ContentFilter
    lists: KeywordLists
    hits: HitLog

    async def category_words(self, name: str) -> tuple[list[str], list[str]] | None:
        """A category's words and exceptions (emergencies select rooms by
        them, D6); None if there is no such category."""
        _, found = await self.lists.get(name)
        if found is None:
            return None
        return list(found.words), list(found.exceptions)


@attrs.frozen(slots=True)
class SeedState:
    """What start-up found: the lists loaded, and what planting did."""

    version: int
    categories: Sequence[CategoryLists]
    planted: Sequence[str]
    #: The database's version of seeds planted before.
    existing: Sequence[CategoryLists]


def seed_lists(config: GroupRegConfig, now: int) -> list[CategoryLists]:
    """The configured seed categories, as the database would hold them."""
    return [
        CategoryLists(
            CategoryRow(
                seed.name,
                seed.action.value,
                seed.credit_penalty,
                seed.labels.zh,
                seed.labels.en,
                now,
                SYSTEM,
            ),
            seed.words,
            seed.exceptions,
        )
        for seed in config.content.seeds.values()
    ]


def load_content(
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    start: SeedState,
    in_thread: Callable[..., object],
    now_ms: Callable[[], int],
    is_local: Callable[[str], bool],
    penalties: CreditPenalties,
) -> ContentServices:
    """The filter over the lists start-up loaded.

    Synchronous, before the server takes requests: a 10k list builds in
    about 20 ms, 100k in 0.5 s. Later rebuilds run in the thread pool.
    """
    for current in start.existing:
        seed = config.content.seeds[current.row.name]
        if (current.row.action, current.row.credit_penalty) != (
            seed.action.value,
            seed.credit_penalty,
        ):
            logger.warning(
                "content.categories.%s in the config says %s/%d, the database "
                "%s/%d; the database is in force (change it with the admin API)",
                seed.name,
                seed.action.value,
                seed.credit_penalty,
                current.row.action,
                current.row.credit_penalty,
            )
    lists = KeywordLists(
        store.keywords,
        audit,
        in_thread,  # type: ignore[arg-type]
        now_ms,
        Snapshot.build(start.version, list(start.categories)),
    )
    hits = HitLog(store.content_hits, is_local, penalties)
    return ContentServices(ContentFilter(lists, hits, now_ms), lists, hits)


def content_jobs(
    config: GroupRegConfig,
    content: ContentServices,
    audit: AuditLog,
    start: SeedState,
    now_ms: Callable[[], int],
) -> list[Job]:
    """Keeping the lists current and the hits written (every process),
    purging hits past retention and recording the seeds planted (the
    background-tasks instance)."""
    if not config.content.enabled:
        return []
    lists, hits = content.lists, content.hits

    async def purge() -> None:
        await hits.purge(now_ms(), config.content.hit_retention_ms)

    jobs = [
        Job(
            "groupreg_keywords_poll",
            lists.poll,
            config.content.reload_interval_ms,
            everywhere=True,
        ),
        Job(
            "groupreg_content_hits_flush",
            hits.flush,
            FLUSH_INTERVAL_MS,
            everywhere=True,
        ),
        Job("groupreg_hits_purge", purge, PURGE_INTERVAL_MS),
    ]
    planted = list(start.planted)
    if planted:
        categories = start.categories

        async def record_seeds() -> None:
            await audit.record(
                SYSTEM,
                "keywords.seed",
                ",".join(planted),
                {
                    "version": start.version,
                    "categories": {
                        c.row.name: {
                            "action": c.row.action,
                            "credit_penalty": c.row.credit_penalty,
                            "words": len(c.words),
                            "exceptions": len(c.exceptions),
                        }
                        for c in categories
                        if c.row.name in planted
                    },
                },
            )

        jobs.append(Job("groupreg_keywords_seed_audit", record_seeds, None))
    return jobs
