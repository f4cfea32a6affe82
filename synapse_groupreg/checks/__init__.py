"""The Synapse callbacks: thin adapters from Synapse's questions to the rules.

Each file answers for one concern. A callback asks the domain services for a
`Decision` and turns a refusal into the error Synapse expects. A check that
raises is never allowed to become a 500 (G6): `Guard.failed` decides by the
check's configured fail mode and logs why.
"""

from __future__ import annotations

import logging

from synapse_groupreg.config import FailMode, FailModes
from synapse_groupreg.reasons import Decision, Reason, Refusal

logger = logging.getLogger(__name__)

#: The refusal a fail-closed check gives when it cannot decide.
UNAVAILABLE = Refusal(Reason.MODULE_UNAVAILABLE)


class Guard:
    """Turns a check's failure into its configured answer."""

    def __init__(self, fail: FailModes) -> None:
        self._fail = fail

    def failed(self, check: str, error: BaseException) -> Decision:
        mode = self._fail.for_check(check)
        logger.error(
            "groupreg check %r failed (%s: %s); failing %s",
            check,
            type(error).__name__,
            error,
            mode.value,
            exc_info=error,
        )
        return UNAVAILABLE if mode is FailMode.CLOSED else None
