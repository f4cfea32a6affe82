"""Fail modes and metrics for every check (G4, G6).

A check that raises is never allowed to become a 500: `Guard.failed`
decides by the check's configured fail mode and logs why. Every decision is
counted and timed through the check's `CheckMeter`. Only the dispatcher
uses it: rules neither time themselves nor catch their own faults.
"""

from __future__ import annotations

import logging

from synapse_groupreg.config import CHECKS, FailMode, FailModes
from synapse_groupreg.metrics import CheckMeter
from synapse_groupreg.reasons import Decision, Reason, Refusal

logger = logging.getLogger(__name__)

#: The refusal a fail-closed check gives when it cannot decide.
UNAVAILABLE = Refusal(Reason.MODULE_UNAVAILABLE)


class Guard:
    """Fail modes and metrics for every check."""

    def __init__(self, fail: FailModes, server_name: str) -> None:
        self._fail = fail
        self._meters = {check: CheckMeter(check, server_name) for check in CHECKS}

    def meter(self, check: str) -> CheckMeter:
        return self._meters[check]

    def failed(self, check: str, error: BaseException) -> Decision:
        """The configured answer of `check`, which raised `error`."""
        mode = self._fail.for_check(check)
        logger.error(
            "groupreg check %r failed (%s: %s); failing %s",
            check,
            type(error).__name__,
            error,
            mode.value,
            exc_info=error,
        )
        self._meters[check].failed(mode.value)
        return UNAVAILABLE if mode is FailMode.CLOSED else None
