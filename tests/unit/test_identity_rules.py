"""Pure identity rules: names (A4), the provider protocol (A3 b) and the
bulk-import reader (A3 a)."""

from __future__ import annotations

import json

import pytest

from synapse_groupreg.identity.importer import (
    ImportFormatError,
    parse_csv,
    parse_json,
    parse_upload,
)
from synapse_groupreg.identity.names import InvalidName, normalise_name
from synapse_groupreg.identity.provider import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ProviderUnavailable,
    Verdict,
    build_request,
    parse_answer,
    sign,
)
from synapse_groupreg.store.identity import is_mainland_mobile


def test_names_are_normalised() -> None:
    assert normalise_name("  张　三 ") == "张 三"
    assert normalise_name("Ｊａｎｅ  Doe") == "Jane Doe"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 101, "length"),
        ("12345", "format"),
        ("张\u200b三", "format"),
        ("a\x00b", "format"),
    ],
)
def test_bad_names_say_why(name: str, problem: str) -> None:
    with pytest.raises(InvalidName) as caught:
        normalise_name(name)
    assert caught.value.problem == problem


def test_provider_request_is_signed_and_answer_checked() -> None:
    """A3 b: the request carries an HMAC over timestamp and body; only an
    answer to this very request counts."""
    request = build_request("s" * 20, "张三", "resident_id", "11010519491231002X", 1000)
    headers = request.headers
    assert headers[TIMESTAMP_HEADER] == "1000"
    assert headers[SIGNATURE_HEADER] == "sha256=" + sign("s" * 20, "1000", request.body)
    assert "11010519491231002X" not in repr(request)
    good = json.dumps({"request_id": request.request_id, "result": "match"}).encode()
    assert parse_answer(request, 200, good) is Verdict.MATCH
    for status, body, words in [
        (502, good, "HTTP 502"),
        (200, b"<html>", "not JSON"),
        (200, b"[1]", "not a JSON object"),
        (
            200,
            json.dumps({"request_id": "other", "result": "match"}).encode(),
            "another",
        ),
        (
            200,
            json.dumps({"request_id": request.request_id, "result": "yes"}).encode(),
            "neither",
        ),
    ]:
        with pytest.raises(ProviderUnavailable, match=words):
            parse_answer(request, status, body)


def test_import_reads_rows_and_names_bad_fields() -> None:
    """A3 a: a row that cannot be read names its field; others are kept."""
    rows = parse_csv(
        "\ufeffuser_id,document_number,name,document_type,method\n"
        "@a:hs,11010519491231002X,张三,resident_id,\n"
        "@b:hs,,李四,resident_id,\n"
        "@c:hs,x,王五,resident_id,hr\n"
    )
    assert rows[0].fields is not None and rows[0].fields["method"] == "import"
    assert rows[1].problem is not None and rows[1].problem[0] == "document_number"
    assert rows[2].problem is not None and rows[2].problem[0] == "method"
    with pytest.raises(ImportFormatError, match="missing: name"):
        parse_csv("user_id,document_type,document_number\n")
    # A field past csv's size limit is a refused upload, not a 500 (G6).
    with pytest.raises(ImportFormatError, match="cannot be read"):
        parse_csv("[" * 200_000)
    json_rows = parse_json([{"user_id": "@a:hs", "name": 1}, 5])
    assert [r.problem and r.problem[0] for r in json_rows] == ["name", "row"]
    with pytest.raises(ImportFormatError):
        parse_upload("application/json", b"{nope")
    with pytest.raises(ImportFormatError):
        parse_json({"rows": []})


@pytest.mark.parametrize(
    ("msisdn", "mobile"),
    [
        ("8613800138000", True),
        ("8619912345678", True),
        ("8612800138000", False),
        ("14155550123", False),
        ("13800138000", False),
        ("85291234567", False),
    ],
)
def test_phone_level_needs_a_mainland_mobile(msisdn: str, mobile: bool) -> None:
    """A2: Synapse keeps msisdns as digits without '+'."""
    assert is_mainland_mobile(msisdn) is mobile
