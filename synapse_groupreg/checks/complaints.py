"""Feeding the complaint queue from Synapse (E1, E2).

Synapse stores the reports of its own endpoints (Element's "Report" on a
message, a room or a user) and calls no module about them, so the one
instance that runs background tasks reads them on a timer, together with
retrying outcome notices and refreshing the open/overdue gauges. Nothing
here refuses anything.
"""

from __future__ import annotations

import logging

from synapse_groupreg.complaints.model import KINDS
from synapse_groupreg.complaints.service import ComplaintService
from synapse_groupreg.jobs import Job
from synapse_groupreg.metrics import ComplaintGauges

logger = logging.getLogger(__name__)


def complaint_jobs(complaints: ComplaintService, server_name: str) -> list[Job]:
    job = _QueueJob(complaints, ComplaintGauges(KINDS, server_name))
    return [Job("groupreg_complaints", job.run, complaints.config.poll_interval_ms)]


class _QueueJob:
    def __init__(self, complaints: ComplaintService, gauges: ComplaintGauges) -> None:
        self._complaints = complaints
        self._gauges = gauges

    async def run(self) -> None:
        # Each step on its own: a failing notice must not stop intake.
        try:
            taken = await self._complaints.collect()
            if taken:
                logger.info("complaints: took in %d report(s)", taken)
        except Exception:
            logger.exception("complaints: collecting reports failed; will retry")
        try:
            await self._complaints.deliver_notices()
        except Exception:
            logger.exception("complaints: delivering outcome notices failed")
        try:
            counts = await self._complaints.counts()
            self._gauges.set(counts.open, counts.overdue)
        except Exception:
            logger.exception("complaints: refreshing the gauges failed")
