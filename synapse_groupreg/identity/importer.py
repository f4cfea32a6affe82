"""Bulk import of verified identities (A3 a): an organisation's HR records
as CSV or JSON, read into rows; each row is verified on its own, so one bad
row loses nothing else."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

#: CSV header and JSON keys; `method` is optional (default `import`).
COLUMNS = ("user_id", "name", "document_type", "document_number")
OPTIONAL = ("method",)
IMPORT_METHODS = ("import", "admin")
MAX_ROWS = 10_000


class ImportFormatError(ValueError):
    """The upload as a whole cannot be read (not a row's problem)."""


@attrs.frozen(slots=True, repr=False)
class ImportRow:
    row: int  # 1-based position among the data rows
    fields: Mapping[str, str] | None
    #: Why the row could not be read, naming the field; None when it could.
    problem: tuple[str, str] | None = None

    def __repr__(self) -> str:
        return f"ImportRow({self.row})"


def parse_csv(text: str) -> list[ImportRow]:
    """Rows of a CSV whose first line names the columns (any order).

    Raises:
        ImportFormatError: no header, or a required column is missing.
    """
    try:
        return _parse_csv(text)
    except csv.Error as e:  # a field past csv's size limit, a stray NUL
        raise ImportFormatError(f"the CSV cannot be read: {e}") from None


def _parse_csv(text: str) -> list[ImportRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or ()]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportFormatError(
            f"the CSV header must name the columns {', '.join(COLUMNS)}"
            f" (and optionally {', '.join(OPTIONAL)}); missing: {', '.join(missing)}"
        )
    rows: list[ImportRow] = []
    for number, record in enumerate(reader, start=1):
        values = {(k or "").strip(): (v or "").strip() for k, v in record.items()}
        rows.append(_row(number, values))
    return _bounded(rows)


def parse_json(value: Any) -> list[ImportRow]:
    """Rows of `{"identities": [{...}, ...]}` or a bare list of objects.

    Raises:
        ImportFormatError: the value is neither.
    """
    items = value.get("identities") if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise ImportFormatError(
            'expected a JSON list of identities, or {"identities": [...]}'
        )
    rows: list[ImportRow] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(ImportRow(number, None, ("row", "a row must be a JSON object")))
            continue
        bad = next(
            (
                k
                for k in (*COLUMNS, *OPTIONAL)
                if k in item and not isinstance(item[k], str)
            ),
            None,
        )
        if bad is not None:
            rows.append(ImportRow(number, None, (bad, f"'{bad}' must be a string")))
            continue
        rows.append(_row(number, {k: v for k, v in item.items() if isinstance(v, str)}))
    return _bounded(rows)


def parse_upload(content_type: str, body: bytes) -> list[ImportRow]:
    """Raises:
    ImportFormatError: the body is not CSV or JSON as announced."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFormatError("the upload is not UTF-8 text") from None
    if content_type.split(";")[0].strip().lower() == "text/csv":
        return parse_csv(text)
    try:
        return parse_json(json.loads(text))
    except json.JSONDecodeError:
        raise ImportFormatError(
            "the upload is not JSON; send CSV with Content-Type: text/csv"
        ) from None


def _row(number: int, values: Mapping[str, str]) -> ImportRow:
    for column in COLUMNS:
        if not values.get(column):
            return ImportRow(number, None, (column, f"'{column}' is required"))
    method = values.get("method") or "import"
    if method not in IMPORT_METHODS:
        return ImportRow(
            number,
            None,
            ("method", f"'method' must be one of: {', '.join(IMPORT_METHODS)}"),
        )
    fields = {column: values[column] for column in COLUMNS}
    fields["method"] = method
    return ImportRow(number, fields)


def _bounded(rows: Sequence[ImportRow]) -> list[ImportRow]:
    if len(rows) > MAX_ROWS:
        raise ImportFormatError(f"at most {MAX_ROWS} rows per upload; split the file")
    return list(rows)
