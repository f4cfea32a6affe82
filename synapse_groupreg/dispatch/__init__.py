"""How the module meets Synapse: one dispatcher per Synapse callback.

- `facts.py`: what each question Synapse asks is about, read once.
- `rules.py`: the rules concerns contribute, and the stages they run at.
- `guard.py`: fail modes and metrics (G4, G6).
- `dispatcher.py`: registers the callbacks and runs the rules.
"""

from synapse_groupreg.dispatch.dispatcher import Dispatcher, Hooks, Reactions
from synapse_groupreg.dispatch.facts import (
    AliasFacts,
    CreationFacts,
    EventFacts,
    InviteFacts,
    JoinFacts,
    MediaFacts,
    ProfileFacts,
)
from synapse_groupreg.dispatch.guard import UNAVAILABLE, Guard
from synapse_groupreg.dispatch.rules import (
    BadRequest,
    Contribution,
    Rule,
    RuleBook,
    Stage,
)

__all__ = [
    "UNAVAILABLE",
    "AliasFacts",
    "BadRequest",
    "Contribution",
    "CreationFacts",
    "Dispatcher",
    "EventFacts",
    "Guard",
    "Hooks",
    "InviteFacts",
    "JoinFacts",
    "MediaFacts",
    "ProfileFacts",
    "Reactions",
    "Rule",
    "RuleBook",
    "Stage",
]
