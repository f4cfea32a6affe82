"""Adopting a server that already has rooms and users (H1-H5).

- `classify.py`: which class an existing room goes to (pure).
- `service.py`: the background job that registers rooms and repairs their
  registration state.
- `report.py`: what enforcement would change, before it happens.
- `observations.py`: what checks in observe mode would have refused.
"""

from __future__ import annotations

import attrs

from synapse_groupreg.adoption.observations import ObservationLog
from synapse_groupreg.adoption.report import AdoptionReport
from synapse_groupreg.adoption.service import Adoption

__all__ = ["Adoption", "AdoptionReport", "AdoptionServices", "ObservationLog"]


@attrs.frozen(slots=True)
class AdoptionServices:
    job: Adoption
    report: AdoptionReport
    observations: ObservationLog
