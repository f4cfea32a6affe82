"""Background jobs: what the module runs on a timer, and where.

Each concern lists its jobs; the composition root schedules them all in one
place through the module API (`looping_background_call`,
`delayed_background_call`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi


@attrs.frozen(slots=True)
class Job:
    """`run` every `interval_ms` (None: once, at start-up), on the instance
    that runs background tasks, or on every instance (`everywhere`)."""

    desc: str
    run: Callable[[], Awaitable[object]]
    interval_ms: int | None
    everywhere: bool = False


def schedule(api: ModuleApi, jobs: Sequence[Job]) -> None:
    background = api.should_run_background_tasks()
    for job in jobs:
        if job.interval_ms is None:
            if job.everywhere or background:
                api.delayed_background_call(0, job.run, desc=job.desc)
        else:
            api.looping_background_call(
                job.run,
                job.interval_ms,
                desc=job.desc,
                run_on_all_instances=job.everywhere,
            )
