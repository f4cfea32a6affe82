"""Identity documents and phone numbers: checking, normalising, masking.

Requirements A2 (phone level), A4 (documents), A6 (masked forms) and A7 (age).
Everything here is a pure function of its arguments: no Synapse, no database,
no clock (callers pass ``today``), so the rules can be tested exhaustively.

Region codes: only the two-digit province code of a resident ID is checked,
against the 31 mainland provinces of GB/T 2260. A full six-digit table is not
shipped on purpose: county codes are retired and renumbered over the years
while every number keeps the code it was issued under, so a current table
would reject valid older numbers. GB/T 2260 also lists 71 (Taiwan), 81 (Hong
Kong) and 82 (Macau), but no resident ID is issued under them; their people
hold residence permits (810000 / 820000 / 830000), a separate document type.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import date, timedelta
from typing import Literal

import attrs

Problem = Literal[
    "unknown_type", "format", "length", "region", "birth_date", "check_digit"
]


class DocumentType(str, enum.Enum):
    """The identity documents a user may verify with (A4).

    A 15-digit legacy resident ID is not a type of its own: it is accepted as
    ``resident_id`` and converted to 18 digits, so the same person always
    gets the same normalised number, and so the same person hash (A6).
    """

    RESIDENT_ID = "resident_id"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGN_PERMANENT_RESIDENCE_ID = "foreign_permanent_residence_id"
    HOME_RETURN_PERMIT = "home_return_permit"
    PASSPORT = "passport"

    @property
    def label(self) -> str:
        """The document's name in plain English, for messages."""
        return _LABELS[self]


_LABELS = {
    DocumentType.RESIDENT_ID: "resident ID",
    DocumentType.HMT_RESIDENCE_PERMIT: "Hong Kong/Macau/Taiwan residence permit",
    DocumentType.FOREIGN_PERMANENT_RESIDENCE_ID: "foreign permanent residence ID",
    DocumentType.HOME_RETURN_PERMIT: "Home Return Permit",
    DocumentType.PASSPORT: "passport",
}

# Types whose number is 18 characters checked with ISO 7064 MOD 11-2.
_CHECKED_TYPES = frozenset(DocumentType) - {
    DocumentType.HOME_RETURN_PERMIT,
    DocumentType.PASSPORT,
}

MAINLAND_PROVINCE_CODES = frozenset(
    f"{code:02d}"
    for first, last in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
    for code in range(first, last + 1)
)
HMT_PREFIXES = ("810000", "820000", "830000")

# GB 11643-1999's own worked example, one of the A4 vectors, was born in 1880,
# so the floor sits below it; it only exists to catch mistyped centuries.
EARLIEST_BIRTH_DATE = date(1850, 1, 1)

# Weight of position i (0-based) is 2^(17-i) mod 11, per ISO 7064 MOD 11-2.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)

# Explicit [0-9], not \d: \d also matches Arabic-Indic and other digits,
# which int() would then happily accept.
_EIGHTEEN = re.compile(r"[0-9]{17}[0-9X]")
_FIFTEEN = re.compile(r"[0-9]{15}")
_ID_CHARS = re.compile(r"[0-9X]+")
_HOME_RETURN_PERMIT = re.compile(r"[HM][0-9]{8}([0-9]{2})?")
_PASSPORT_CHARS = re.compile(r"[A-Z0-9]+")
_SEPARATORS = re.compile(r"[\s\-]+")


class IdentityInputError(ValueError):
    """A document or phone number a user typed is not acceptable.

    Attributes:
        problem: a machine code for the problem, stable for translations and
            for API clients.
        message: what is wrong, in plain English. It never contains the number
            itself (A5: no identity data in error messages or logs).
    """

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


class InvalidDocument(IdentityInputError):
    """An identity document number failed the A4 checks."""

    problem: Problem

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(problem, message)


class InvalidPhoneNumber(IdentityInputError):
    """A phone number is not a mainland China mobile number (A2)."""


@attrs.frozen(repr=False)
class Document:
    """A checked identity document.

    Attributes:
        type: the kind of document.
        number: the normalised number: separators removed, upper case, 15-digit
            resident IDs converted to 18. This is the form to encrypt and hash.
        birth_date: the date of birth the number encodes, or None for
            documents whose number carries none.
        needs_manual_review: True when nothing in the number can be checked
            (passports), so a person must look at the document.
    """

    type: DocumentType
    number: str
    birth_date: date | None
    needs_manual_review: bool

    def __repr__(self) -> str:
        # The number is identity plaintext (A5): only the masked form may leak
        # into logs and tracebacks, and the birth date not at all.
        return (
            f"Document(type={self.type.value}, number={mask(self.type, self.number)},"
            f" needs_manual_review={self.needs_manual_review})"
        )


def parse_document_type(document_type: DocumentType | str) -> DocumentType:
    """Turn a type name into a DocumentType.

    Raises:
        InvalidDocument: with problem ``unknown_type``, listing the known types.
    """
    try:
        return DocumentType(document_type)
    except ValueError:
        allowed = ", ".join(t.value for t in DocumentType)
        raise InvalidDocument(
            "unknown_type",
            f"'{document_type}' is not a document type recognised here;"
            f" try one of: {allowed}.",
        ) from None


def validate_document(
    document_type: DocumentType | str, number: str, today: date
) -> Document:
    """Check and normalise a document number as a user typed it (A4).

    Spaces, hyphens and full-width characters are tolerated; letters may be
    in either case.

    Args:
        document_type: a DocumentType or its value, e.g. ``"resident_id"``.
        number: the number as typed.
        today: the date against which a birth date must not be in the future.

    Returns:
        The normalised document.

    Raises:
        InvalidDocument: naming the problem; see ``Problem`` for the codes.
    """
    kind = parse_document_type(document_type)
    cleaned = _SEPARATORS.sub("", unicodedata.normalize("NFKC", number)).upper()
    if not cleaned:
        raise InvalidDocument("format", f"The {kind.label} number is empty.")
    if kind is DocumentType.HOME_RETURN_PERMIT:
        if not _HOME_RETURN_PERMIT.fullmatch(cleaned):
            raise InvalidDocument(
                "format",
                "A Home Return Permit number is H or M followed by 8 or 10 digits.",
            )
        return Document(kind, cleaned, None, needs_manual_review=False)
    if kind is DocumentType.PASSPORT:
        if not _PASSPORT_CHARS.fullmatch(cleaned):
            raise InvalidDocument(
                "format", "A passport number may contain only letters and digits."
            )
        if not 5 <= len(cleaned) <= 20:
            raise InvalidDocument(
                "length", "A passport number has between 5 and 20 characters."
            )
        # Nothing in a passport number can be checked: a person must look.
        return Document(kind, cleaned, None, needs_manual_review=True)
    return _validate_checked(kind, cleaned, today)


def _validate_checked(kind: DocumentType, number: str, today: date) -> Document:
    """Check one of the three 18-character MOD 11-2 documents."""
    label = kind.label
    if not _ID_CHARS.fullmatch(number):
        raise InvalidDocument(
            "format",
            f"A {label} number contains only digits, and perhaps X as its last"
            " character.",
        )
    legacy = kind is DocumentType.RESIDENT_ID and len(number) == 15
    if len(number) != 18 and not legacy:
        allowed = "15 or 18" if kind is DocumentType.RESIDENT_ID else "18"
        raise InvalidDocument(
            "length", f"A {label} number has {allowed} characters, not {len(number)}."
        )
    if not (_FIFTEEN if legacy else _EIGHTEEN).fullmatch(number):
        raise InvalidDocument(
            "format", f"Only the last character of an 18-character {label} may be X."
        )
    if legacy:
        number = convert_legacy_resident_id(number)
    # The check character first: a mistyped digit is the likeliest mistake,
    # and it is reported as such rather than as a strange date or region.
    if check_character(number[:17]) != number[17]:
        raise InvalidDocument(
            "check_digit",
            f"The check character of this {label} number does not match;"
            " one of its characters is probably mistyped.",
        )
    _check_region(kind, number)
    return Document(
        kind, number, _birth_date(number[6:14], today, label), needs_manual_review=False
    )


def _check_region(kind: DocumentType, number: str) -> None:
    if kind is DocumentType.HMT_RESIDENCE_PERMIT:
        if not number.startswith(HMT_PREFIXES):
            raise InvalidDocument(
                "region",
                "A Hong Kong/Macau/Taiwan residence permit number starts with"
                " 810000, 820000 or 830000.",
            )
    elif kind is DocumentType.FOREIGN_PERMANENT_RESIDENCE_ID:
        # 2023 format: 9, the issuing province, a 3-digit nationality code.
        if number[0] != "9" or number[1:3] not in MAINLAND_PROVINCE_CODES:
            raise InvalidDocument(
                "region",
                "A foreign permanent residence ID number starts with 9 followed by"
                " the code of a mainland province.",
            )
    elif number[:2] not in MAINLAND_PROVINCE_CODES:
        hint = ""
        if number.startswith(HMT_PREFIXES):
            hint = " It looks like a Hong Kong/Macau/Taiwan residence permit."
        elif number[0] == "9":
            hint = " It looks like a foreign permanent residence ID."
        raise InvalidDocument(
            "region",
            "A resident ID number starts with the code of a mainland province." + hint,
        )


def _birth_date(digits: str, today: date, label: str) -> date:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidDocument(
            "birth_date", f"This {label} number does not contain a real date of birth."
        ) from None
    if born > today:
        raise InvalidDocument(
            "birth_date", f"The date of birth in this {label} number is in the future."
        )
    if born < EARLIEST_BIRTH_DATE:
        raise InvalidDocument(
            "birth_date",
            f"The date of birth in this {label} number is before"
            f" {EARLIEST_BIRTH_DATE.year}.",
        )
    return born


def check_character(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits (GB 11643-1999).

    Raises:
        ValueError: if ``body`` is not 17 ASCII digits.
    """
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("the body of an 18-character number is 17 digits")
    total = sum(
        int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True)
    )
    return _CHECK_CHARS[total % 11]


def convert_legacy_resident_id(number: str) -> str:
    """Convert a 15-digit resident ID to its 18-character form.

    15-digit numbers were issued with a two-digit year, all in the 1900s, and
    no check character: the century goes in after the region code and the
    check character is computed.

    Raises:
        ValueError: if ``number`` is not 15 ASCII digits.
    """
    if not _FIFTEEN.fullmatch(number):
        raise ValueError("a legacy resident ID number is 15 digits")
    body = number[:6] + "19" + number[6:]
    return body + check_character(body)


def age_on(birth_date: date, today: date) -> int:
    """Completed years of age on ``today`` (A7).

    Someone born on 29 February turns a year older on 1 March in common
    years, never on 28 February: a day late rather than a day early.

    Raises:
        ValueError: if ``today`` is before ``birth_date``.
    """
    if today < birth_date:
        raise ValueError("today is before the date of birth")
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def is_minor_under(birth_date: date, today: date, years: int = 14) -> bool:
    """Whether someone is not yet ``years`` full years (周岁) old (A7).

    Full years count from the day after the birthday, the reading the Supreme
    People's Court gives 周岁 (2006 interpretation on minors, Art. 2). On the
    14th birthday itself a child is therefore still under 14: the guardian
    gate (PIPL Art. 31) errs by one day toward protection.

    Raises:
        ValueError: if ``today`` is before ``birth_date``.
    """
    if today < birth_date:
        raise ValueError("today is before the date of birth")
    day_before = today - timedelta(days=1)
    return day_before < birth_date or age_on(birth_date, day_before) < years


def mask(document_type: DocumentType | str, number: str) -> str:
    """The form of a document number admins see (A6).

    An 18-character number keeps its first 6 and last 4 characters
    (``110105********002X``); others show at most a third: their first
    character and their last two (9 or more) or last one (6 to 8), else none.

    Raises:
        InvalidDocument: if ``document_type`` is unknown.
    """
    kind = parse_document_type(document_type)
    if kind in _CHECKED_TYPES and len(number) == 18:
        return number[:6] + "*" * 8 + number[14:]
    if len(number) >= 9:
        return number[0] + "*" * (len(number) - 3) + number[-2:]
    if len(number) >= 6:
        return number[0] + "*" * (len(number) - 2) + number[-1]
    return "*" * len(number)


_NAME_SEPARATORS = re.compile(r"([\s·・•.\-]+)")


def mask_name(name: str) -> str:
    """The form of a real name admins see (A6): 张** or J*** D**.

    Each part of the name keeps its first character. A name of a single
    character is all stars, since its first character is the whole name.
    """
    parts = _NAME_SEPARATORS.split(name.strip())
    words = [part for part in parts[::2] if part]
    masked = []
    for index, part in enumerate(parts):
        if index % 2 or not part:
            masked.append(part)  # a separator, kept as it is
        elif len(part) == 1 and len(words) == 1:
            masked.append("*")
        else:
            masked.append(part[0] + "*" * (len(part) - 1))
    return "".join(masked)


_PHONE_SEPARATORS = re.compile(r"[\s\-()]+")
_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def normalise_phone(number: str) -> str:
    """A mainland China mobile number in E.164 form, ``+8613800138000`` (A2).

    Accepts the 11-digit national form and the +86 / 0086 / 86 international
    forms, with spaces, hyphens, brackets or full-width digits.

    Raises:
        InvalidPhoneNumber: if the number is not a mainland mobile number.
    """
    cleaned = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", number))
    for prefix in ("+86", "0086", "86"):
        if cleaned.startswith(prefix) and len(cleaned) == len(prefix) + 11:
            cleaned = cleaned[len(prefix) :]
            break
    if not _MAINLAND_MOBILE.fullmatch(cleaned):
        raise InvalidPhoneNumber(
            "format",
            "This is not a mainland China mobile number: it should be 11 digits"
            " starting with 13 to 19, optionally after +86.",
        )
    return "+86" + cleaned
