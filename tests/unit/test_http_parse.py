"""G6: the HTTP parsing layer's bounds, without a homeserver."""

from __future__ import annotations

import pytest
from synapse.api.errors import SynapseError

from synapse_groupreg.http import parse


def _field(call: object) -> str:
    with pytest.raises(SynapseError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == 400
    return str(caught.value.error_dict(None).get("field"))


def test_json_depth_size_constants_and_text() -> None:
    assert parse.read_json(b"") == {}
    assert parse.read_json(b'{"a": [1, {"b": "[[["}]}') == {"a": [1, {"b": "[[["}]}
    with pytest.raises(SynapseError, match="nested"):
        parse.read_json(b"[" * 50 + b"]" * 50)
    with pytest.raises(SynapseError, match="larger"):
        parse.read_json(b" " * (parse.MAX_JSON_BYTES + 1))
    with pytest.raises(SynapseError, match="not valid JSON"):
        parse.read_json(b'{"a": Infinity}')
    assert _field(lambda: parse.read_json(b'{"a": {"b": ["\\udc00"]}}')) == "a.b[0]"
    assert _field(lambda: parse.read_json(b'{"n": 9223372036854775808}')) == "n"
    assert parse.read_json(b'{"n": -9223372036854775808}') == {"n": -(2**63)}


def test_integers_ids_and_durations() -> None:
    assert parse.parse_int("from", "12") == 12
    assert _field(lambda: parse.parse_int("from", "²")) == "from"
    assert _field(lambda: parse.parse_int("from", "9" * 25)) == "from"
    assert _field(lambda: parse.parse_int("limit", "0", 1, 10)) == "limit"
    assert parse.parse_id("sanction_id", "S17", "S") == 17
    assert parse.parse_id("sanction_id", "s17", "S") == 17
    assert _field(lambda: parse.parse_id("entry_id", "B" + "9" * 19, "B")) == "entry_id"
    assert _field(lambda: parse.parse_id("request_id", "0")) == "request_id"
    assert parse.parse_duration("d", "24h") == 86_400_000
    assert _field(lambda: parse.parse_duration("d", "1e400d")) == "d"
    assert _field(lambda: parse.parse_duration("d", "99999999999y")) == "d"


def test_query_and_path_text() -> None:
    assert parse.decode_text("q", "群".encode()) == "群"
    assert _field(lambda: parse.decode_text("q", b"\xff")) == "q"
    assert _field(lambda: parse.decode_text("q", b"a\x00")) == "q"
    assert parse.decode_path_param("user_id", "%40a%3Ab") == "@a:b"
    assert _field(lambda: parse.decode_path_param("user_id", "%ff")) == "user_id"


def test_json_values_of_uploads() -> None:
    assert parse.read_json_value(b'[{"a": 1}]') == [{"a": 1}]
    with pytest.raises(SynapseError, match="nested"):
        parse.read_json_value(b"[" * 10_000 + b"]" * 10_000)
    with pytest.raises(SynapseError, match="larger"):
        parse.read_json_value(b"[]" + b" " * 100, max_bytes=10)
    with pytest.raises(SynapseError, match="JSON object"):
        parse.read_json(b"[1]")
