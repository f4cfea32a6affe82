"""G8: the module checks Synapse's version at start-up, since the package
does not depend on Synapse (pip must never change an operator's Synapse)."""

from __future__ import annotations

import pytest
from synapse.config._base import ConfigError

from synapse_groupreg import compat


def test_an_older_synapse_stops_start_up_naming_both_versions() -> None:
    with pytest.raises(ConfigError) as e:
        compat.check_synapse("1.162.0")
    assert "1.163 or newer" in str(e.value)
    assert "Synapse 1.162.0" in str(e.value)


def test_the_tested_synapse_passes_silently() -> None:
    assert compat.check_synapse(compat.TESTED) is None
    assert compat.check_synapse("1.163.0") is None


def test_a_newer_synapse_runs_with_a_warning() -> None:
    warning = compat.check_synapse("1.170.1")
    assert warning is not None
    assert compat.TESTED in warning and "1.170.1" in warning


def test_an_unreadable_version_is_not_guessed_at() -> None:
    assert compat.check_synapse(None) is None
    assert compat.check_synapse("unknown") is None


def test_the_installed_synapse_is_a_supported_one() -> None:
    """The Synapse these tests run on is the one the release names."""
    installed = compat.installed_synapse()
    assert installed is not None
    assert compat.check_synapse(installed) is None
