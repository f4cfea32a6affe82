"""G1 for the `content:` section: seeds per profile, checked key by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from synapse.config._base import ConfigError

from synapse_groupreg.config import parse_config
from synapse_groupreg.keywords import Action

EXAMPLES = Path(__file__).resolve().parents[2] / "config"
SAMPLES = EXAMPLES / "keywords"


def error_of(content: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config({"profile": "generic", "content": content})
    return caught.value


def test_profiles_seed_their_categories() -> None:
    """C2: cn seeds the kinds of content the Provisions name; generic its own."""
    cn = parse_config({"profile": "cn"}).content
    assert set(cn.seeds) == {
        "pornography",
        "violence_terror",
        "rumour_fraud",
        "pyramid_selling",
        "gambling",
    }
    assert cn.seeds["rumour_fraud"].action is Action.REVIEW
    assert cn.seeds["gambling"].labels.zh == "赌博"
    generic = parse_config({"profile": "generic"}).content
    assert "harassment" in generic.seeds and generic.enabled
    assert generic.reload_interval_ms == 2000


@pytest.mark.parametrize("name", ["cn.yaml", "generic.yaml"])
def test_examples_show_the_defaults(name: str) -> None:
    block = yaml.safe_load((EXAMPLES / name).read_text())["modules"][0]["config"]
    shown = parse_config(block).content
    assert shown == parse_config({"profile": block["profile"]}).content


def test_seed_lists_are_read_from_files() -> None:
    """C4: a seed may carry a list file; the shipped samples parse."""
    config = parse_config(
        {
            "profile": "cn",
            "content": {
                "categories": {
                    "gambling": {
                        "action": "block",
                        "credit_penalty": 5,
                        "words_file": str(SAMPLES / "gambling.txt"),
                        "exceptions_file": str(SAMPLES / "gambling.exceptions.txt"),
                    }
                }
            },
        }
    ).content
    seed = config.seeds["gambling"]
    assert "开奖" in seed.words and "公开奖励" in seed.exceptions
    # An operator's categories replace the profile's whole.
    assert set(config.seeds) == {"gambling"}


def test_bad_list_file_names_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("开奖\nab\n", encoding="utf-8")
    e = error_of({"categories": {"x": {"words_file": str(bad)}}})
    assert e.path == ("content", "categories", "x", "words_file")
    assert "line 2" in e.msg
    e = error_of({"categories": {"x": {"words_file": str(tmp_path / "none")}}})
    assert "cannot read" in e.msg


@pytest.mark.parametrize(
    ("content", "path", "text"),
    [
        (
            {"categories": {"x": {"action": "delete"}}},
            ("content", "categories", "x", "action"),
            "try one of: block, review",
        ),
        (
            {"categories": {"Bad Name": {}}},
            ("content", "categories", "Bad Name"),
            "not a category name",
        ),
        (
            {"categories": {"x": {"credit_penalty": -1}}},
            ("content", "categories", "x", "credit_penalty"),
            "minimum is 0",
        ),
        (
            {"categories": {"x": {"labels": {"zh": "y"}}}},
            ("content", "categories", "x", "labels", "zh"),
            "unknown key",
        ),
        ({"reload_interval": "10m"}, ("content", "reload_interval"), "60s"),
        ({"reload_interval": 5}, ("content", "reload_interval"), "duration"),
        ({"hit_retention": "1h"}, ("content", "hit_retention"), "at least 1d"),
        ({"words": []}, ("content", "words"), "unknown key 'words'"),
    ],
)
def test_bad_values_name_the_key(
    content: dict[str, Any], path: tuple[str, ...], text: str
) -> None:
    e = error_of(content)
    assert e.path == path
    assert text in e.msg
