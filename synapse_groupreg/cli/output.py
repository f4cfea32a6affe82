"""How every `groupreg` command shows its answer, and what in an answer
counts as a part that failed. One mechanism for all commands: a command
returns the API's JSON answer and, at most, names the columns its table
shows (`set_defaults(columns=(...))`); everything else is decided here.

- `--json`, or standard output not being a terminal: the answer as JSON.
- `--table`, or a terminal: a list of objects (the answer's one list, such
  as `rooms` or `entries`) as a table with a header; the answer's other
  fields, or a single object, as `field: value` lines.
- Parts that failed inside a successful answer (`problems`): rows of an
  import with status `error`, lines an import refused (`errors`), measures
  or sanctions that could not be applied, notices that could not be sent,
  a room state that could not be updated. The command then exits 3.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

#: Exit statuses of `groupreg`.
OK, REFUSED, USAGE, PARTLY_FAILED = 0, 1, 2, 3

#: A cell wider than this (in terminal columns) is cut with an ellipsis.
MAX_CELL = 48


def width(text: str) -> int:
    """Columns `text` takes on a terminal: CJK characters take two."""
    return sum(
        2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        for ch in text
        if not unicodedata.combining(ch)
    )


def cell(value: Any, limit: int = MAX_CELL) -> str:
    """One value as table text: scalars plainly, the rest as compact JSON,
    cut to `limit` columns."""
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())
    if width(text) <= limit:
        return text
    cut = ""
    for ch in text:
        if width(cut + ch) > limit - 1:
            break
        cut += ch
    return cut + "…"


def _pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows under a header, each column as wide as its widest cell."""
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [
        max([width(c.upper()), *(width(line[i]) for line in cells)])
        for i, c in enumerate(columns)
    ]
    header = zip(columns, widths, strict=True)
    lines = ["  ".join(_pad(c.upper(), w) for c, w in header)]
    lines += [
        "  ".join(_pad(t, w) for t, w in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]
    return "\n".join(line.rstrip() for line in lines)


def _columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every field of the rows that holds a plain value, in first-seen order."""
    found: list[str] = []
    for row in rows:
        for key, value in row.items():
            if key not in found and not isinstance(value, dict | list):
                found.append(key)
    return found


def _fields(answer: dict[str, Any]) -> str:
    keys = [k for k in answer if k != "next_token"]
    if not keys:
        return "(nothing)"
    pad = max(width(k) for k in keys)
    return "\n".join(f"{_pad(k, pad)}  {cell(answer[k], 100)}" for k in keys)


def _rows_key(answer: dict[str, Any]) -> str | None:
    lists = [
        k
        for k, v in answer.items()
        if isinstance(v, list) and all(isinstance(i, dict) for i in v)
    ]
    return lists[0] if len(lists) == 1 else None


def render_table(answer: Any, columns: Sequence[str] | None = None) -> str:
    """The answer for a person at a terminal."""
    if isinstance(answer, list):
        answer = {"items": answer}
    if not isinstance(answer, dict):
        return cell(answer, 1000)
    key = _rows_key(answer)
    if key is None:
        return _fields(answer)
    rows: list[dict[str, Any]] = answer[key]
    parts = []
    rest = {k: v for k, v in answer.items() if k != key}
    if rest and any(k != "next_token" for k in rest):
        parts.append(_fields(rest))
    if rows:
        parts.append(table(rows, list(columns or _columns_of(rows))))
    else:
        parts.append(f"({key}: none)")
    if "next_token" in answer:
        parts.append(f"(more: --from {answer['next_token']}, or --all)")
    return "\n\n".join(parts)


def problems(answer: Any) -> list[str]:
    """What failed inside an answer that as a whole succeeded."""
    if not isinstance(answer, dict):
        return []
    found: list[str] = []
    for row in answer.get("results") or []:
        if isinstance(row, dict) and row.get("status") == "error":
            where = row.get("user_id") or f"row {row.get('row')}"
            found.append(f"{where}: {row.get('error') or row.get('problem')}")
    for error in answer.get("errors") or []:
        if isinstance(error, dict):
            found.append(f"line {error.get('line')}: {error.get('error')}")
    for applied in answer.get("applied") or []:
        if isinstance(applied, dict) and applied.get("error"):
            found.append(f"{applied.get('room_id')}: {applied['error']}")
    for error in answer.get("sanction_errors") or []:
        found.append(f"sanction not applied: {cell(error, 200)}")
    for failed in answer.get("notify_failed") or []:
        found.append(f"notice not delivered: {cell(failed, 200)}")
    deactivated = answer.get("notice_bot_deactivated")
    if deactivated is not None and deactivated is not True:
        found.append(f"the notice bot: {deactivated}")
    if answer.get("state_updated") is False:
        found.append("the room's org.groupreg.room state could not be updated")
    return found


def show(
    answer: Any, as_json: bool, out: TextIO, columns: Sequence[str] | None
) -> None:
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2), file=out)
    else:
        print(render_table(answer, columns), file=out)
