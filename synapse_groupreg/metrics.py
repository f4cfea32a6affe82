"""Prometheus metrics (G4), exported on Synapse's own metrics listener.

- `groupreg_decisions_total{check, outcome}`: every decision a check made,
  `outcome` being `allow` or the refusal's reason code.
- `groupreg_check_seconds{check}`: how long each check took.
- `groupreg_check_failures_total{check, mode}`: checks that could not
  decide and answered by their fail mode (G6).
- `groupreg_would_refuse_total{check, reason}`: refusals of checks in
  observe mode, which let the action through (H4).
- `groupreg_complaints_open{kind}` and `groupreg_complaints_overdue{kind}`:
  complaint cases and appeals waiting for a decision, and those past a
  deadline (E2), refreshed by the background-tasks instance.

Each metric carries Synapse's `server_name` label, as Synapse's own do, so
several homeservers in one process stay apart.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from prometheus_client import Counter, Gauge, Histogram

from synapse_groupreg.reasons import Decision

SERVER_NAME_LABEL = "server_name"

DECISIONS = Counter(
    "groupreg_decisions_total",
    "Decisions of synapse-groupreg's checks, by check and outcome",
    ["check", "outcome", SERVER_NAME_LABEL],
)
CHECK_SECONDS = Histogram(
    "groupreg_check_seconds",
    "Time spent in each synapse-groupreg check",
    ["check", SERVER_NAME_LABEL],
    buckets=(0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
)
CHECK_FAILURES = Counter(
    "groupreg_check_failures_total",
    "Checks that failed and answered by their configured fail mode",
    ["check", "mode", SERVER_NAME_LABEL],
)


WOULD_REFUSE = Counter(
    "groupreg_would_refuse_total",
    "Refusals of synapse-groupreg checks in observe mode (the action went through)",
    ["check", "reason", SERVER_NAME_LABEL],
)


class CheckMeter:
    """The metrics of one check, with their label children bound once so a
    measurement on the per-message path is two cheap calls."""

    def __init__(self, check: str, server_name: str) -> None:
        self.check = check
        self._server_name = server_name
        self._allowed = DECISIONS.labels(check, "allow", server_name)
        self._seconds = CHECK_SECONDS.labels(check, server_name)

    def done(self, started: float, decision: Decision) -> Decision:
        """Record a decision taken since `started` (time.perf_counter())."""
        self._seconds.observe(time.perf_counter() - started)
        if decision is None:
            self._allowed.inc()
        else:
            DECISIONS.labels(self.check, decision.reason.value, self._server_name).inc()
        return decision

    def failed(self, mode: str) -> None:
        CHECK_FAILURES.labels(self.check, mode, self._server_name).inc()

    def would_refuse(self, decision: Decision) -> None:
        """A refusal this check made in observe mode."""
        if decision is not None:
            WOULD_REFUSE.labels(
                self.check, decision.reason.value, self._server_name
            ).inc()


# -- complaints (E2) ----------------------------------------------------------

COMPLAINTS_OPEN = Gauge(
    "groupreg_complaints_open",
    "Complaint cases and appeals waiting for a decision (received or triaged)",
    ["kind", SERVER_NAME_LABEL],
)
COMPLAINTS_OVERDUE = Gauge(
    "groupreg_complaints_overdue",
    "Open complaint cases and appeals past their acknowledge or decide deadline",
    ["kind", SERVER_NAME_LABEL],
)


class ComplaintGauges:
    """Open and overdue cases, set by the background job that collects
    reports (on one instance only, so the numbers are never summed twice);
    a scrape reads two numbers and never touches the database."""

    def __init__(self, kinds: Sequence[str], server_name: str) -> None:
        self._kinds = tuple(kinds)
        self._server_name = server_name

    def set(self, open_: Mapping[str, int], overdue: Mapping[str, int]) -> None:
        # The children are made at the first set, on the instance that runs
        # the job: other processes export no (zero) samples to sum twice.
        for kind in self._kinds:
            COMPLAINTS_OPEN.labels(kind, self._server_name).set(open_.get(kind, 0))
            COMPLAINTS_OVERDUE.labels(kind, self._server_name).set(overdue.get(kind, 0))


# -- adoption (H1) --------------------------------------------------------------

ADOPTION_ROOMS = Gauge(
    "groupreg_adoption_rooms",
    "Rooms that existed before the module, by adoption state"
    " (registered, pending, skipped, failed)",
    ["state", SERVER_NAME_LABEL],
)


class AdoptionGauges:
    """Adoption's progress, set by the background job that adopts (on one
    instance only)."""

    STATES = ("registered", "pending", "skipped", "failed")

    def __init__(self, server_name: str) -> None:
        self._server_name = server_name

    def set(self, counts: Mapping[str, int]) -> None:
        """Made at the first set, on the one instance that adopts."""
        for state in self.STATES:
            ADOPTION_ROOMS.labels(state, self._server_name).set(counts.get(state, 0))
