"""`python -m synapse_groupreg.cli`, the same as `groupreg`."""

import sys

from synapse_groupreg.cli import main

sys.exit(main())
