"""Regenerate ``t2s_chars.tsv``, the Traditional -> Simplified character table.

Run by hand when OpenCC's dictionaries change (needs the ``opencc`` package, a
development-time tool only; the module itself reads the generated file)::

    python synapse_groupreg/keywords/data/generate_t2s.py

The table maps each Traditional (and Taiwan / Hong Kong variant) character to
one representative of its equivalence class, so that ``normalise`` can fold it
into its single ``str.translate`` table. Classes are built by union-find from:

- OpenCC's single-character conversions under ``t2s``, ``tw2s`` and ``hk2s``;
- OpenCC's phrase rules: wherever a phrase converts differently from its
  characters one by one (憑藉 -> 凭借, but 藉 alone stays 藉), the two
  characters at that position join one class (藉 ~ 借). Without this step 245
  of the 477 ``TSPhrases`` rules would not match their Simplified form.
- The same for the Simplified -> Traditional phrase rules (``s2t``, ``s2tw``,
  ``s2hk``): text a writer converted *to* Traditional must fold back, and
  some characters only turn Traditional inside a phrase (背着 -> 揹著, while
  背 alone stays 背), so 揹 joins 背.

Joining a class can only make two spellings match that a reader would call
different (沈 ~ 沉); for a keyword filter that is the safe direction.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import opencc

# Unicode blocks where OpenCC has Traditional characters: CJK Unified
# Ideographs, Extension A, Compatibility Ideographs, and Extensions B-H.
_RANGES = [
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2EBEF),
    (0x30000, 0x323AF),
]
_CONFIGS = ("t2s", "tw2s", "hk2s")
#: The other direction, whose phrase rules must fold back too.
_REVERSE_CONFIGS = ("s2t", "s2tw", "s2hk")
_OUT = Path(__file__).with_name("t2s_chars.tsv")


def _share_dir() -> Path:
    return Path(opencc.__file__).parent / "clib" / "share" / "opencc"


def _dict_files(node: object) -> list[str]:
    """Return every ``"file"`` value in an OpenCC config, at any depth."""
    if isinstance(node, dict):
        found = [node["file"]] if isinstance(node.get("file"), str) else []
        return found + [f for value in node.values() for f in _dict_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in _dict_files(item)]
    return []


def _phrase_keys(configs: tuple[str, ...]) -> list[str]:
    """Return the keys of every phrase dictionary the configs use."""
    share = _share_dir()
    files: set[str] = set()
    for config in configs:
        text = (share / f"{config}.json").read_text(encoding="utf-8")
        files.update(
            name for name in _dict_files(json.loads(text)) if "Phrases" in name
        )
    tool = Path(opencc.__file__).parent / "clib" / "bin" / "opencc_dict"
    keys: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(files):
            out = Path(tmp) / f"{name}.txt"
            command = [str(tool), "-i", str(share / name), "-o", str(out)]
            command += ["-f", "ocd2", "-t", "text"]
            subprocess.run(command, check=True)
            for line in out.read_text(encoding="utf-8").splitlines():
                if line:
                    keys.append(line.split("\t", 1)[0])
    return keys


def main() -> int:
    chars = [chr(cp) for lo, hi in _RANGES for cp in range(lo, hi + 1)]
    converters = {name: opencc.OpenCC(name) for name in _CONFIGS}
    # One newline-separated call per config: OpenCC never matches a phrase
    # across a newline, so this is the character-by-character conversion.
    single: dict[str, dict[str, str]] = {}
    for name, converter in converters.items():
        out = converter.convert("\n".join(chars)).split("\n")
        if len(out) != len(chars):
            raise SystemExit(f"{name}: character count changed in conversion")
        single[name] = {a: b for a, b in zip(chars, out, strict=True) if a != b}

    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for mapping in single.values():
        for a, b in mapping.items():
            union(a, b)
    t2s = single["t2s"]
    phrase_pairs = 0
    for key in _phrase_keys(_CONFIGS):
        char_level = "".join(t2s.get(c, c) for c in key)
        for converter in converters.values():
            official = converter.convert(key)
            if len(official) != len(char_level):
                continue
            for a, b in zip(char_level, official, strict=True):
                if a != b:
                    union(a, b)
                    phrase_pairs += 1

    for name in _REVERSE_CONFIGS:
        converter = opencc.OpenCC(name)
        for key in _phrase_keys((name,)):
            official = converter.convert(key)
            if len(official) != len(key):
                continue
            for a, b in zip(key, official, strict=True):
                if a != b:
                    union(a, b)
                    phrase_pairs += 1

    members: dict[str, set[str]] = {}
    for c in list(parent):
        members.setdefault(find(c), set()).update((c, find(c)))
    table: dict[str, str] = {}
    for group in members.values():
        # The representative is the character t2s turns most members into
        # (the usual Simplified form), so normalised text stays readable.
        votes = Counter(t2s.get(c, c) for c in group)
        rep = min(votes, key=lambda c: (-votes[c], ord(c)))
        table.update({c: rep for c in group if c != rep})

    header = [
        "# Traditional -> Simplified character classes for normalise() (C3).",
        f"# Generated by generate_t2s.py from OpenCC {opencc.__version__} data",
        "# (Apache-2.0): t2s/tw2s/hk2s single characters plus "
        f"{phrase_pairs} phrase-rule pairs.",
        "# Format: source<TAB>representative, one pair a line. Do not edit.",
    ]
    lines = [f"{a}\t{b}" for a, b in sorted(table.items())]
    _OUT.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print(f"{len(table)} pairs in {len(members)} classes -> {_OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
