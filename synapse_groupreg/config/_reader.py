"""Reading one section of the module's YAML with errors that name the key.

Every section of the configuration is read through a `Section`: it hands out
typed values, remembers which keys were read, and `finish()` refuses any key
nobody asked for. A mistake therefore stops Synapse at start-up with the key
path and what is allowed, instead of being silently ignored (G1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from synapse.config._base import ConfigError

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)\s*$")
_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 7 * 86_400_000,
    "y": 365 * 86_400_000,
}


def parse_duration_ms(value: str) -> int:
    """Parse "250ms", "30s", "5m", "24h", "7d", "2w" or "3y" into milliseconds.

    Raises:
        ValueError: the text is not a number followed by one of those units.
    """
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(
            f"{value!r} is not a duration; write a number and a unit, "
            "one of ms, s, m, h, d, w, y (e.g. '30s', '24h', '7d')"
        )
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)\s*$", re.IGNORECASE)
_UNIT_BYTES = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _type_name(value: object) -> str:
    if value is None:
        return "nothing (null)"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


class Section:
    """A mapping from the YAML with its path, read key by key."""

    def __init__(self, raw: object, path: tuple[str, ...] = ()) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"expected a mapping, got {_type_name(raw)}", path)
        self.raw: Mapping[str, Any] = raw
        self.path = path
        self._read: set[str] = set()

    # -- plumbing -----------------------------------------------------------

    def error(self, key: str | None, message: str) -> ConfigError:
        """A ConfigError located at `key` in this section (or the section)."""
        return ConfigError(message, (*self.path, key) if key is not None else self.path)

    def has(self, key: str) -> bool:
        return key in self.raw

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self.raw.get(key)

    def finish(self) -> None:
        """Refuse keys that no reader asked for."""
        unknown = sorted(str(k) for k in self.raw if k not in self._read)
        if unknown:
            allowed = ", ".join(sorted(self._read)) or "none"
            raise self.error(
                unknown[0],
                f"unknown key {unknown[0]!r}; allowed keys here: {allowed}",
            )

    def names(self) -> Iterator[str]:
        """The keys present, for sections that are maps of named items."""
        for key in self.raw:
            if not isinstance(key, str):
                raise self.error(None, f"key {key!r} must be a string")
            self._read.add(key)
            yield key

    # -- typed values -------------------------------------------------------

    def section(self, key: str) -> Section:
        return Section(self._get(key), (*self.path, key))

    def string(self, key: str, default: str, choices: Sequence[str] = ()) -> str:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_type_name(value)}")
        if choices and value not in choices:
            raise self.error(
                key, f"{value!r} is not allowed; try one of: {', '.join(choices)}"
            )
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.error(
                key, f"expected a non-empty string, got {_type_name(value)}"
            )
        return value

    def integer(
        self,
        key: str,
        default: int,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self._get(key)
        if value is None:
            return default
        return self._check_int(key, value, minimum, maximum)

    def optional_integer(
        self, key: str, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        return self._check_int(key, value, minimum, maximum)

    def _check_int(
        self, key: str, value: object, minimum: int | None, maximum: int | None
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {_type_name(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"{value} is too small; the minimum is {minimum}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"{value} is too large; the maximum is {maximum}")
        return value

    def optional_size(self, key: str) -> int | None:
        """A size in bytes: an integer, or a string such as '512K', '10M',
        '1G' (binary units, as Synapse's `max_upload_size`); None if absent."""
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            size = value
        elif isinstance(value, str) and (match := _SIZE.match(value)):
            size = int(match.group(1)) * _UNIT_BYTES[match.group(2).upper()]
        else:
            raise self.error(
                key,
                f"expected a size such as 1048576, '512K', '10M' or '1G', "
                f"got {_type_name(value)} {value!r}",
            )
        if size < 1:
            raise self.error(key, "must be at least 1 byte")
        return size

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(
                key, f"expected true or false, got {_type_name(value)} {value!r}"
            )
        return value

    def duration_ms(self, key: str, default: str) -> int:
        value = self._get(key)
        if value is None:
            value = default
        if not isinstance(value, str):
            raise self.error(
                key,
                f"expected a duration such as '30s', '24h' or '7d', "
                f"got {_type_name(value)} {value!r}",
            )
        try:
            return parse_duration_ms(value)
        except ValueError as e:
            raise self.error(key, str(e)) from None

    def string_list(
        self, key: str, default: Sequence[str], choices: Sequence[str] = ()
    ) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return tuple(default)
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_type_name(value)}")
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ConfigError(
                    f"expected a string, got {_type_name(item)}",
                    (*self.path, key, str(i)),
                )
            if choices and item not in choices:
                raise ConfigError(
                    f"{item!r} is not allowed; try one of: {', '.join(choices)}",
                    (*self.path, key, str(i)),
                )
            out.append(item)
        return tuple(out)

    def items(
        self, key: str, read_item: Callable[[str, Section], T], default: object
    ) -> dict[str, T]:
        """A mapping of named items, each read by `read_item(name, section)`.

        `default` is the raw YAML used when the key is absent, so profile
        defaults go through exactly the same checks as an operator's values.
        """
        value = self._get(key)
        if value is None:
            value = default
        container = Section(value, (*self.path, key))
        out: dict[str, T] = {}
        for name in container.names():
            item = Section(container.raw[name], (*container.path, name))
            out[name] = read_item(name, item)
            item.finish()
        return out
