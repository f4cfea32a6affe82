"""Registration codes (唯一群组识别编码, B4): platform-unique, human-readable,
with a check character.

A code is the configured prefix, a serial number of at least eight digits
and one check digit, e.g. `G000000017` + check = `G0000000175`. The serial
number is the database's own never-reused sequence (see store/rooms.py), so
uniqueness and "never reused" follow from the database, not from chance.
Digits only, so a code reads aloud and types on a phone keypad without
ambiguity between O/0 or I/1.

The check digit is ISO 7064 MOD 11,10 over the serial digits: it catches
every single wrong digit and every swap of two adjacent digits, the two
mistakes people make most when copying a code.
"""

from __future__ import annotations

import re

#: The serial is zero-padded to this many digits; it grows beyond if needed.
SERIAL_DIGITS = 8

_CODE = re.compile(rf"^([A-Z]{{1,4}})([0-9]{{{SERIAL_DIGITS + 1},}})$")
# What people put between characters when they copy a code by hand.
_SEPARATORS = re.compile(r"[\s\-_.]+")


def check_digit(digits: str) -> str:
    """The ISO 7064 MOD 11,10 check digit for a string of ASCII digits."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError("a check digit is computed over ASCII digits only")
    product = 10
    for d in digits:
        total = (product + int(d)) % 10 or 10
        product = (total * 2) % 11
    return str((11 - product) % 10)


def format_code(prefix: str, serial: int) -> str:
    """The code for `serial` (a positive integer) under `prefix`."""
    if serial < 1:
        raise ValueError("serial numbers start at 1")
    digits = f"{serial:0{SERIAL_DIGITS}d}"
    return f"{prefix}{digits}{check_digit(digits)}"


def normalise_code(text: str) -> str | None:
    """The canonical form of a code someone typed (case and separators do not
    matter), or None when it is not a well-formed code with a correct check
    digit."""
    compact = _SEPARATORS.sub("", text).upper()
    match = _CODE.match(compact)
    if match is None:
        return None
    digits = match.group(2)
    if check_digit(digits[:-1]) != digits[-1]:
        return None
    return compact
