"""Real names as users type them (A3, A6): checked and normalised before
they are encrypted, so one person's name has one spelling."""

from __future__ import annotations

import unicodedata

from synapse_groupreg.identity.documents import IdentityInputError


class InvalidName(IdentityInputError):
    """A real name is empty, too long or not a name at all."""


NAME_MAX_LENGTH = 100
# Control and format characters (Cc, Cf) have no place in a name; Cf also
# covers zero-width characters that would make two spellings of one name.
_NAME_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def normalise_name(name: str) -> str:
    """A real name as typed, NFKC-normalised with runs of spaces collapsed.

    Raises:
        InvalidName: the name is empty, longer than NAME_MAX_LENGTH, holds
            control characters, or has no letter at all.
    """
    cleaned = " ".join(unicodedata.normalize("NFKC", name).split())
    if not cleaned:
        raise InvalidName("empty", "The name is empty.")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidName("length", f"A name has at most {NAME_MAX_LENGTH} characters.")
    if any(unicodedata.category(c) in _NAME_FORBIDDEN_CATEGORIES for c in cleaned):
        raise InvalidName("format", "The name contains control characters.")
    if not any(c.isalpha() for c in cleaned):
        raise InvalidName("format", "A name contains at least one letter.")
    return cleaned
