"""Which Synapse releases the module runs on.

Synapse is not a dependency of the package (installing the module must
never change an operator's Synapse), so the version is checked here, when
Synapse reads the module's config at start-up: older than `MINIMUM` stops
Synapse with a message; newer than the newest release tested is logged as
a warning and runs. CHANGELOG.md names the tested releases per version.
"""

from __future__ import annotations

import logging
import re
from importlib import metadata

from synapse.config._base import ConfigError

logger = logging.getLogger(__name__)

#: The oldest Synapse with the module API calls and callback arguments the
#: module uses (createRoom's body in user_may_create_room, run_db_interaction,
#: register_cached_function, create_room, ...).
MINIMUM = (1, 163)
#: The newest Synapse this release was tested on.
TESTED = "1.163.2"


def _minor(version: str) -> tuple[int, int] | None:
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found.group(1)), int(found.group(2))) if found else None


def installed_synapse() -> str | None:
    """The installed Synapse's version, or None when there is none."""
    try:
        return metadata.version("matrix-synapse")
    except metadata.PackageNotFoundError:
        return None


def check_synapse(version: str | None) -> str | None:
    """Refuse a Synapse older than `MINIMUM`; answer a warning for one newer
    than `TESTED` (None when the version is a tested one or unknown).

    Raises:
        ConfigError: the Synapse is too old, naming both versions.
    """
    minor = _minor(version or "")
    if minor is None:
        return None
    if minor < MINIMUM:
        raise ConfigError(
            f"synapse-groupreg needs Synapse {MINIMUM[0]}.{MINIMUM[1]} or newer;"
            f" this is Synapse {version}. Upgrade Synapse first, or install an"
            " older synapse-groupreg (CHANGELOG.md lists the Synapse versions"
            " of each release)"
        )
    tested = _minor(TESTED)
    assert tested is not None
    if minor > tested:
        return (
            f"synapse-groupreg was tested on Synapse up to {TESTED}; this is"
            f" Synapse {version}: check CHANGELOG.md for a newer release"
        )
    return None


def check_installed_synapse() -> None:
    """`check_synapse` on the Synapse that is running the module."""
    warning = check_synapse(installed_synapse())
    if warning is not None:
        logger.warning("%s", warning)
