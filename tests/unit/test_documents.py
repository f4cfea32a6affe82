"""Identity documents, phone numbers, masks and age (A2, A4, A5, A6, A7)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synapse_groupreg.identity.documents import (
    EARLIEST_BIRTH_DATE,
    MAINLAND_PROVINCE_CODES,
    DocumentType,
    InvalidDocument,
    InvalidPhoneNumber,
    age_on,
    is_minor_under,
    mask,
    mask_name,
    normalise_phone,
    validate_document,
)

TODAY = date(2025, 6, 15)
RESIDENT = DocumentType.RESIDENT_ID


def with_check(body: str) -> str:
    """Append the check character, computed straight from ISO 7064 MOD 11-2.

    Deliberately not the module's formula: the standard says the weighted sum
    of all 18 characters, the check weighing 1 and X standing for 10, is 1
    modulo 11. Searching for that value checks the module's shortcut.
    """
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    value = next(c for c in range(11) if (total + c) % 11 == 1)
    return body + ("X" if value == 10 else str(value))


def problem_of(document_type: DocumentType, number: str) -> str:
    with pytest.raises(InvalidDocument) as caught:
        validate_document(document_type, number, TODAY)
    return caught.value.problem


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
birth_dates = st.dates(min_value=EARLIEST_BIRTH_DATE, max_value=TODAY)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(sorted(MAINLAND_PROVINCE_CODES)))
    region += draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    sequence = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return with_check(f"{region}{draw(birth_dates):%Y%m%d}{sequence}")


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_a4_vectors_are_valid(number: str) -> None:
    """A4: the two valid vectors of the requirements pass unchanged."""
    document = validate_document("resident_id", number, TODAY)
    assert document.number == number
    assert document.type is RESIDENT
    assert not document.needs_manual_review


def test_a4_vector_with_wrong_check_digit_is_rejected() -> None:
    """A4: 110105194912310021 fails on its check character, and says so."""
    assert problem_of(RESIDENT, "110105194912310021") == "check_digit"


def test_a4_legacy_vector_converts_to_18_digits() -> None:
    """A4: 110105491231002 becomes 11010519491231002X."""
    document = validate_document(RESIDENT, "110105491231002", TODAY)
    assert document.number == "11010519491231002X"
    assert document.birth_date == date(1949, 12, 31)


def test_a4_lower_case_x_and_separators_are_normalised() -> None:
    """A4: x is upper-cased; spaces, hyphens and full-width digits are dropped
    or folded, so one person has one number whatever was typed."""
    for typed in [
        "11010519491231002x",
        "110105 19491231 002X",
        "１１０１０５-19491231-002ｘ",
    ]:
        assert validate_document(RESIDENT, typed, TODAY).number == "11010519491231002X"


@given(resident_ids())
def test_a4_every_generated_valid_number_passes(number: str) -> None:
    """A4: any province, any real past date, any sequence, right check: valid."""
    document = validate_document(RESIDENT, number, TODAY)
    assert document.number == number
    assert document.birth_date == date(
        int(number[6:10]), int(number[10:12]), int(number[12:14])
    )


@given(resident_ids(), st.integers(0, 17), st.sampled_from("0123456789Xx"))
def test_a4_every_single_character_change_fails(
    number: str, position: int, replacement: str
) -> None:
    """A4: changing any one character of a valid number makes it invalid."""
    if replacement.upper() == number[position]:
        return
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidDocument):
        validate_document(RESIDENT, changed, TODAY)


@given(resident_ids(), st.integers(0, 16), st.integers(1, 9))
def test_a4_a_changed_body_digit_always_changes_the_check(
    number: str, position: int, delta: int
) -> None:
    """A4: the check alone catches a changed body digit, whatever the date or
    region: a weight 2^k mod 11 is never 0 and 11 is prime, so weight times a
    change of 1..9 is never 0 modulo 11."""
    digit = (int(number[position]) + delta) % 10
    body = number[:position] + str(digit) + number[position + 1 : 17]
    assert with_check(body)[17] != number[17]


def test_a4_mod_11_2_weights_prove_single_digit_detection() -> None:
    """A4: the argument above, checked exhaustively over positions and
    changes; and adjacent weights differ, so swapping two different
    neighbouring digits is caught too."""
    weights = [pow(2, 17 - i, 11) for i in range(18)]
    assert all(w * d % 11 for w in weights for d in range(1, 11))
    assert all((weights[i] - weights[i + 1]) % 11 for i in range(17))


@given(resident_ids(), st.integers(0, 16))
def test_a4_swapping_neighbours_fails(number: str, position: int) -> None:
    """A4: a transposition of two different adjacent characters is rejected."""
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(InvalidDocument):
        validate_document(RESIDENT, swapped, TODAY)


@given(
    st.sampled_from(sorted(MAINLAND_PROVINCE_CODES)),
    st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)
def test_a4_legacy_numbers_convert_with_century_19(
    province: str, born: date, sequence: str
) -> None:
    """A4: a 15-digit number gains '19' after the region and a check char."""
    legacy = f"{province}0102{born:%y%m%d}{sequence}"
    document = validate_document(RESIDENT, legacy, TODAY)
    assert document.number == with_check(f"{province}0102{born:%Y%m%d}{sequence}")
    assert document.birth_date == born


@pytest.mark.parametrize(
    "birth",
    [
        "20250616",
        "20991231",
        "20230230",
        "19490231",
        "19001301",
        "19000229",
        "18491231",
    ],
)
def test_a4_future_impossible_and_too_early_birth_dates_fail(birth: str) -> None:
    """A4: tomorrow, 30 February, month 13, 29 February 1900 (not a leap year)
    and dates before 1850 are not real birth dates, even with a right check."""
    assert problem_of(RESIDENT, with_check(f"110105{birth}002")) == "birth_date"


def test_a4_born_today_and_leap_day_are_accepted() -> None:
    """A4: a birth date of today is not in the future; 29 Feb 2000 exists."""
    for birth in ["20250615", "20000229"]:
        validate_document(RESIDENT, with_check(f"110105{birth}002"), TODAY)


@pytest.mark.parametrize("region", ["100000", "160000", "990000", "710000", "810000"])
def test_a4_unknown_province_fails_on_region(region: str) -> None:
    """A4: only the 31 mainland provinces issue resident IDs; 71, 81, 82
    appear in GB/T 2260 but their people hold residence permits."""
    assert problem_of(RESIDENT, with_check(f"{region}19800101001")) == "region"


def test_a4_region_error_points_to_the_right_document_type() -> None:
    """A4: a permit number typed as a resident ID gets a hint, not a shrug."""
    with pytest.raises(InvalidDocument, match="residence permit"):
        validate_document(RESIDENT, with_check("81000019800101001"), TODAY)
    with pytest.raises(InvalidDocument, match="foreign permanent"):
        validate_document(RESIDENT, with_check("91184019800101001"), TODAY)


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("", "format"),
        ("11010519491231002", "length"),
        ("1101051949123100200", "length"),
        ("11010519491X31002X", "format"),
        ("11010549123100X", "format"),
        ("11010519491231002Y", "format"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "format"),  # Arabic-Indic digits are not digits here
    ],
)
def test_a4_malformed_numbers_name_the_problem(number: str, problem: str) -> None:
    """A4: length and character errors have their own machine codes."""
    assert problem_of(RESIDENT, number) == problem


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_a4_hmt_residence_permits(prefix: str) -> None:
    """A4: HK/Macau/Taiwan permits: prefix 810000/820000/830000, same check."""
    number = with_check(f"{prefix}19900101123")
    document = validate_document(DocumentType.HMT_RESIDENCE_PERMIT, number, TODAY)
    assert document.birth_date == date(1990, 1, 1)
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    assert problem_of(DocumentType.HMT_RESIDENCE_PERMIT, wrong_check) == "check_digit"
    other = with_check("11010519900101123")
    assert problem_of(DocumentType.HMT_RESIDENCE_PERMIT, other) == "region"


def test_a4_foreign_permanent_residence_id() -> None:
    """A4: 2023 format: 9, province, nationality, birth date, sequence, check."""
    kind = DocumentType.FOREIGN_PERMANENT_RESIDENCE_ID
    number = with_check("93184019850707001")
    assert validate_document(kind, number, TODAY).birth_date == date(1985, 7, 7)
    assert problem_of(kind, with_check("83184019850707001")) == "region"
    assert problem_of(kind, with_check("99984019850707001")) == "region"
    assert problem_of(kind, with_check("93184019851307001")) == "birth_date"
    assert problem_of(kind, "ABC123456789012") == "format"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("H12345678", "H12345678"),
        ("m1234567801", "M1234567801"),
        ("H 1234 5678", "H12345678"),
    ],
)
def test_a4_home_return_permit_accepted(typed: str, normalised: str) -> None:
    """A4: Home Return Permit ^[HM]\\d{8}(\\d{2})?$, any case, spaces dropped."""
    document = validate_document(DocumentType.HOME_RETURN_PERMIT, typed, TODAY)
    assert (document.number, document.birth_date) == (normalised, None)


@pytest.mark.parametrize(
    "typed", ["C12345678", "H1234567", "H123456789", "H12345678901"]
)
def test_a4_home_return_permit_rejected(typed: str) -> None:
    """A4: other letters and 7, 9 or 11 digits are not Home Return Permits."""
    assert problem_of(DocumentType.HOME_RETURN_PERMIT, typed) == "format"


def test_a4_passport_is_normalised_and_queued_for_review() -> None:
    """A4: passports are free text, so a person must look (manual review)."""
    document = validate_document("passport", "  e1234 5678 ", TODAY)
    assert document.number == "E12345678"
    assert document.needs_manual_review
    assert problem_of(DocumentType.PASSPORT, "E123") == "length"
    assert problem_of(DocumentType.PASSPORT, "E" * 21) == "length"
    assert problem_of(DocumentType.PASSPORT, "E1234/5678") == "format"


def test_a4_unknown_document_type_lists_the_known_ones() -> None:
    """A4: a wrong type name gets the list of types that exist."""
    with pytest.raises(InvalidDocument, match="resident_id, hmt_residence_permit"):
        validate_document("driving_licence", "123456", TODAY)


@pytest.mark.parametrize(
    ("document_type", "number"),
    [
        (RESIDENT, "110105194912310021"),
        (RESIDENT, "11010519491331002X"),
        (DocumentType.PASSPORT, "E1234/5678"),
        (DocumentType.HOME_RETURN_PERMIT, "X12345678"),
    ],
)
def test_a5_errors_never_echo_the_number(
    document_type: DocumentType, number: str
) -> None:
    """A5: an error message may be logged or shown, so it holds no number."""
    with pytest.raises(InvalidDocument) as caught:
        validate_document(document_type, number, TODAY)
    assert number[-6:] not in str(caught.value)


def test_a6_document_repr_shows_only_the_masked_number() -> None:
    """A6: a Document in a log line or traceback leaks no identity data."""
    document = validate_document(RESIDENT, "11010519491231002X", TODAY)
    for text in (repr(document), str(document)):
        assert "11010519491231002X" not in text
        assert "19491231" not in text
        assert "110105********002X" in text


@pytest.mark.parametrize(
    ("document_type", "number", "masked"),
    [
        (RESIDENT, "11010519491231002X", "110105********002X"),
        (DocumentType.HMT_RESIDENCE_PERMIT, "810000199001011234", "810000********1234"),
        (DocumentType.HOME_RETURN_PERMIT, "H12345678", "H******78"),
        (DocumentType.HOME_RETURN_PERMIT, "M1234567801", "M********01"),
        (DocumentType.PASSPORT, "E1234567", "E******7"),
        (DocumentType.PASSPORT, "AB12CD", "A****D"),
        (DocumentType.PASSPORT, "AB12C", "*****"),
        (DocumentType.PASSPORT, "ABC", "***"),
    ],
)
def test_a6_masks_for_admins(
    document_type: DocumentType, number: str, masked: str
) -> None:
    """A6: admins see 110105********002X; of other numbers at most a third."""
    assert mask(document_type, number) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("张", "*"),
        ("John Doe", "J*** D**"),
        ("J. Doe", "J. D**"),
        ("买买提·艾力", "买**·艾*"),
        ("", ""),
    ],
)
def test_a6_masked_names(name: str, masked: str) -> None:
    """A6: each part of a name keeps only its first character."""
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (date(2011, 6, 15), date(2025, 6, 14), 13),
        (date(2011, 6, 15), date(2025, 6, 15), 14),
        (date(2008, 2, 29), date(2025, 2, 28), 16),
        (date(2008, 2, 29), date(2025, 3, 1), 17),
        (date(2008, 2, 29), date(2024, 2, 29), 16),
        (date(2025, 6, 15), date(2025, 6, 15), 0),
    ],
)
def test_a7_age_in_completed_years(birth: date, today: date, age: int) -> None:
    """A7: age from the birth date; a 29 February child ages on 1 March."""
    assert age_on(birth, today) == age


def test_a7_under_14_until_the_day_after_the_14th_birthday() -> None:
    """A7: 周岁 counts from the day after the birthday, so the guardian gate
    holds through the 14th birthday itself and lifts the next day."""
    birth = date(2011, 6, 15)
    assert is_minor_under(birth, date(2025, 6, 14))
    assert is_minor_under(birth, date(2025, 6, 15))
    assert not is_minor_under(birth, date(2025, 6, 16))
    assert is_minor_under(birth, birth)
    assert not is_minor_under(birth, date(2029, 6, 16), years=18)


def test_a7_today_before_birth_is_an_error() -> None:
    """A7: an age before birth is a caller's mistake, not a number."""
    with pytest.raises(ValueError):
        age_on(TODAY, TODAY - timedelta(days=1))
    with pytest.raises(ValueError):
        is_minor_under(TODAY, TODAY - timedelta(days=1))


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "+8613800138000",
        "008613800138000",
        "8613800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "(+86) 138 0013 8000",
        "１３８００１３８０００",
    ],
)
def test_a2_mainland_mobile_numbers_normalise_to_e164(typed: str) -> None:
    """A2: every common way of writing the number gives +8613800138000."""
    assert normalise_phone(typed) == "+8613800138000"


@pytest.mark.parametrize(
    "typed",
    [
        "12800138000",
        "1380013800",
        "138001380001",
        "+8513800138000",
        "+86 010 1234 5678",
        "+1 415 555 0100",
        "13800l38000",
        "",
    ],
)
def test_a2_other_numbers_are_refused_clearly(typed: str) -> None:
    """A2: not a mainland mobile: an error saying what is expected, no echo."""
    with pytest.raises(InvalidPhoneNumber, match="mainland China mobile") as caught:
        normalise_phone(typed)
    assert caught.value.problem == "format"
    if typed:
        assert typed not in caught.value.message
