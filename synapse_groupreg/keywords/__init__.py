"""Prohibited-content filter: normalisation and keyword matching (C2, C3, C6).

Pure code, no Synapse: the checks build a ``KeywordSet`` from the stored
lists and call ``scan`` / ``first_block`` on what a user publishes.
"""

from synapse_groupreg.keywords.matcher import (
    Action,
    Category,
    Hit,
    KeywordSet,
    ScanResult,
    SkippedWord,
    parse_word_file,
    validate_words,
)
from synapse_groupreg.keywords.normalise import normalise, strip_html

__all__ = [
    "Action",
    "Category",
    "Hit",
    "KeywordSet",
    "ScanResult",
    "SkippedWord",
    "normalise",
    "parse_word_file",
    "strip_html",
    "validate_words",
]
