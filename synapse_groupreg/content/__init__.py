"""The prohibited-content filter as a service (C1-C4, C6): lists kept current
in every process, the decision, and the records of what it found.

`build_content` is the wiring `module.py` calls: it plants the configured
seed categories, loads the lists before any callback can run (so no message
passes unscanned while a process starts), and schedules the background jobs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import attrs

from synapse_groupreg import hs
from synapse_groupreg.audit import SYSTEM, AuditLog
from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.content.filter import ContentFilter
from synapse_groupreg.content.hits import CreditPenalties, HitLog
from synapse_groupreg.content.lists import KeywordLists, Snapshot
from synapse_groupreg.store import Store
from synapse_groupreg.store.keywords import (
    CategoryLists,
    CategoryRow,
    load_at_start,
    plant_seeds,
)

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

__all__ = ["ContentServices", "build_content"]

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


def build_content(
    api: ModuleApi,
    config: GroupRegConfig,
    store: Store,
    audit: AuditLog,
    penalties: CreditPenalties | None = None,
) -> ContentServices:
    """Seed, load, and schedule the filter's background jobs.

    Args:
        penalties: the credit system's hook (D1); None until it exists.
    """
    now = api.get_current_time_msec()
    seeds = [
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
    conn = hs.startup_connection(api)
    try:
        planted, existing = plant_seeds(conn, hs.database_engine(api), seeds, now)
        version, categories = load_at_start(conn)
    finally:
        conn.close()
    for current in existing:
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

    # Synchronous, before the server takes requests: a 10k list builds in
    # about 20 ms, 100k in 0.5 s. Later rebuilds run in the thread pool.
    lists = KeywordLists(
        store.keywords,
        audit,
        api.defer_to_thread,
        api.get_current_time_msec,
        Snapshot.build(version, categories),
    )
    hits = HitLog(store.content_hits, api.is_mine, penalties)
    services = ContentServices(
        ContentFilter(lists, hits, api.get_current_time_msec), lists, hits
    )
    if not config.content.enabled:
        return services

    api.looping_background_call(
        lists.poll,
        config.content.reload_interval_ms,
        desc="groupreg_keywords_poll",
        run_on_all_instances=True,
    )
    api.looping_background_call(
        hits.flush,
        FLUSH_INTERVAL_MS,
        desc="groupreg_content_hits_flush",
        run_on_all_instances=True,
    )
    if api.should_run_background_tasks():

        async def purge() -> None:
            await hits.purge(
                api.get_current_time_msec(), config.content.hit_retention_ms
            )

        api.looping_background_call(
            purge, PURGE_INTERVAL_MS, desc="groupreg_hits_purge"
        )
    if planted:

        async def record_seeds() -> None:
            await audit.record(
                SYSTEM,
                "keywords.seed",
                ",".join(planted),
                {
                    "version": version,
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

        api.delayed_background_call(0, record_seeds)
    return services
