"""The one place request input is read: JSON bodies, query values, path
parameters, integers and text (G6).

Every route reads its input through `base.Request`, which calls these;
no handler decodes bytes, parses JSON or converts an integer itself. What
is refused, always as a 4xx naming the field:

- a JSON body larger than `MAX_JSON_BYTES`, nested deeper than
  `MAX_JSON_DEPTH`, or holding NaN/Infinity (400 `M_BAD_JSON`);
- an integer, in a body or a query, outside a signed 64-bit column
  (SQLite and PostgreSQL both store 64 bits; a larger value raised
  OverflowError deep in the store before);
- text with a lone UTF-16 surrogate (`"\\ud800"` is valid JSON but not
  Unicode that UTF-8 can encode) or a NUL character (PostgreSQL text
  cannot hold one), in keys and values at any depth, query values and
  path parameters;
- query values and path parameters that are not UTF-8.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from synapse.api.errors import Codes, SynapseError

#: The largest JSON body a route reads; uploads (CSV, keyword lists) are
#: read as bytes and bounded by the listener's `max_request_body_size`.
MAX_JSON_BYTES = 1024 * 1024
#: The deepest nesting of objects and lists in a body.
MAX_JSON_DEPTH = 32
#: The range of a signed 64-bit integer column.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def invalid_param(field: str, message: str) -> SynapseError:
    return SynapseError(
        400, message, Codes.INVALID_PARAM, additional_fields={"field": field}
    )


def bad_json(message: str, field: str | None = None) -> SynapseError:
    extra = {"field": field} if field is not None else None
    return SynapseError(400, message, Codes.BAD_JSON, additional_fields=extra)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "must not contain a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone UTF-16 surrogate"
    return None


def check_text(field: str, value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise invalid_param(field, f"'{field}' {problem}")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json(raw: bytes) -> dict[str, Any]:
    """The JSON object in a body (an empty body is `{}`)."""
    if not raw.strip() and len(raw) <= MAX_JSON_BYTES:
        return {}
    value = read_json_value(raw)
    if not isinstance(value, dict):
        raise bad_json("The body must be a JSON object")
    return value


def read_json_value(raw: bytes, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Any JSON value in a body (an upload's list, say), bounded alike."""
    if len(raw) > max_bytes:
        raise bad_json(f"The body is larger than {max_bytes} bytes")
    # Nesting is bounded before parsing: the parser itself recurses.
    if _depth_exceeds(raw, MAX_JSON_DEPTH):
        raise bad_json(f"The body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SynapseError(400, "The body is not valid JSON", Codes.NOT_JSON) from None
    check_tree(value, "")
    return value


def _depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def check_tree(value: Any, path: str) -> None:
    """Every string (keys too) storable, every integer within 64 bits."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                field = f"{where}.{key}" if where else str(key)
                if text_problem(key) is not None:
                    raise invalid_param(
                        where or "body",
                        f"a key in '{where or 'body'}' {text_problem(key)}",
                    )
                stack.append((child, field))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
        elif isinstance(item, str):
            check_text(where, item)
        elif isinstance(item, int) and not isinstance(item, bool):
            check_int(where, item)


def check_int(
    field: str, value: int, minimum: int = INT64_MIN, maximum: int = INT64_MAX
) -> int:
    if value < minimum or value > maximum:
        if minimum == INT64_MIN and maximum == INT64_MAX:
            bound = "a 64-bit integer"
        elif maximum == INT64_MAX:
            bound = f"at least {minimum}"
        else:
            bound = f"between {minimum} and {maximum}"
        raise invalid_param(field, f"'{field}' must be {bound}")
    return value


def parse_int(
    field: str, text: str, minimum: int = INT64_MIN, maximum: int = INT64_MAX
) -> int:
    """An integer written in ASCII digits (optionally signed), bounded."""
    body = text[1:] if text[:1] in ("-", "+") else text
    if not (body.isascii() and body.isdigit()) or len(body) > 20:
        raise invalid_param(field, f"'{field}' must be an integer")
    return check_int(field, int(text), minimum, maximum)


def parse_id(field: str, text: str, prefix: str = "") -> int:
    """A record id from a path: `17`, or `S17` where the record shows a
    prefix; positive and within 64 bits."""
    digits = text[1:] if prefix and text[:1] in (prefix, prefix.lower()) else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        named = f"a {field.removesuffix('_id')} id" if prefix else "an integer"
        raise invalid_param(field, f"'{field}' must be {named}")
    return check_int(field, int(digits), 1)


def decode_text(field: str, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_param(field, f"'{field}' is not UTF-8") from None
    return check_text(field, text)


def decode_path_param(field: str, quoted: str) -> str:
    try:
        text = urllib.parse.unquote(quoted, errors="strict")
    except UnicodeDecodeError:
        raise invalid_param(field, f"'{field}' is not UTF-8") from None
    return check_text(field, text)


#: The longest duration a request may give (a thousand years): any "now +
#: duration" stays well within 64 bits.
MAX_DURATION_MS = 1000 * 365 * 24 * 3600 * 1000


def parse_duration(field: str, text: str) -> int:
    """A duration such as "3s", "24h" or "7d" in milliseconds, bounded."""
    # The config's reader: one syntax for durations everywhere.
    from synapse_groupreg.config import parse_duration_ms

    try:
        value = parse_duration_ms(text) if len(text) < 40 else None
    except (ValueError, OverflowError) as e:
        raise invalid_param(field, f"'{field}': {e}") from None
    if value is None or value > MAX_DURATION_MS:
        raise invalid_param(field, f"'{field}' must be at most 1000 years")
    return value


#: The largest HTML form a page reads.
MAX_FORM_BYTES = 64 * 1024


def read_form(raw: bytes) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body: the first value of each
    field, UTF-8 text without NUL or surrogates (400 naming the field)."""
    if len(raw) > MAX_FORM_BYTES:
        raise invalid_param("body", f"The form is larger than {MAX_FORM_BYTES} bytes")
    fields: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name_raw, _, value_raw = pair.partition(b"=")
        name = decode_text("body", urllib.parse.unquote_to_bytes(_plus(name_raw)))
        value = decode_text(name, urllib.parse.unquote_to_bytes(_plus(value_raw)))
        fields.setdefault(name, value)
    return fields


def _plus(raw: bytes) -> bytes:
    return raw.replace(b"+", b" ")
