"""docs/requirements.md against the code and the tests.

The document defines every requirement id in one table row per id: its
rule, what enforces it, its config keys and the tests that prove it. These
tests fail when the document and the repository drift apart: a built id no
code or test names, a function, file or test the document names that does
not exist, a config key no config reader reads, a refusal reason that does
not exist, or an id the code or tests cite that the document does not
define. Everything is read as text or parsed with `ast`, never imported, so
the whole file runs in well under a second.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "requirements.md"
CODE = ROOT / "synapse_groupreg"
TESTS = ROOT / "tests"
THIS = Path(__file__).resolve()

#: An id as the document defines them: an area letter and a digit.
ID = re.compile(r"\b[A-H][1-9]\b")
ROW = re.compile(r"^\|\s*([A-H][1-9])\s*\|(.*)\|\s*$")
SPAN = re.compile(r"`([^`]+)`")
PLANNED = "*Planned.*"
#: `package.module:Name.attribute`
REF = re.compile(
    r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*):([A-Za-z_]\w*(?:\.\w+)*)$"
)
REASON = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


@attrs.frozen
class Requirement:
    id: str
    rule: str
    code: tuple[str, ...]
    config: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]  # (test file, test function)
    #: spans in the tests cell that are neither a test file nor a function
    stray: tuple[str, ...]

    @property
    def planned(self) -> bool:
        return self.rule.startswith(PLANNED)


def _spans(cell: str) -> list[str]:
    return SPAN.findall(cell)


def _tests_of(cell: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """`tests/x.py` `test_a`, `test_b`; `tests/y.py` `test_c` -> pairs."""
    pairs: list[tuple[str, str]] = []
    stray: list[str] = []
    current: str | None = None
    for span in _spans(cell):
        if span.startswith("tests/") and span.endswith(".py"):
            current = span
        elif current is not None and re.fullmatch(r"test_\w+", span):
            pairs.append((current, span))
        else:
            stray.append(span)
    return tuple(pairs), tuple(stray)


@functools.cache
def _requirements() -> tuple[Requirement, ...]:
    found: list[Requirement] = []
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), 1):
        match = ROW.match(line)
        if match is None:
            continue
        cells = [c.strip() for c in match.group(2).split("|")]
        assert len(cells) == 4, (
            f"docs/requirements.md:{number}: the row of {match.group(1)} has "
            f"{len(cells) + 1} cells, not 5 (Id, Rule, Enforced by, Config, "
            "Tests); a '|' inside a cell splits it"
        )
        rule, code, config, tests = cells
        pairs, stray = _tests_of(tests)
        found.append(
            Requirement(
                id=match.group(1),
                rule=rule,
                code=tuple(_spans(code)),
                config=tuple(_spans(config)),
                tests=pairs,
                stray=stray,
            )
        )
    return tuple(found)


def _by_id() -> dict[str, Requirement]:
    return {r.id: r for r in _requirements()}


def _built() -> list[Requirement]:
    return [r for r in _requirements() if not r.planned]


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.resolve() != THIS)


@functools.cache
def _texts(root: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in _python_files(root)}


@functools.cache
def _ids_in(root: Path) -> frozenset[str]:
    """Every id named anywhere in the Python files under `root`."""
    return frozenset(i for text in _texts(root).values() for i in ID.findall(text))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


# -- the document itself ---------------------------------------------------------


def test_the_document_defines_each_id_once_in_order() -> None:
    ids = [r.id for r in _requirements()]
    assert ids, "docs/requirements.md defines no requirement rows"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"defined more than once: {', '.join(duplicates)}"
    assert ids == sorted(ids), "ids are not in order A1, A2, ..., H6"
    for letter in "ABCDEFGH":
        numbers = [int(i[1]) for i in ids if i[0] == letter]
        assert numbers == list(range(1, len(numbers) + 1)), (
            f"area {letter} skips an id: {numbers}"
        )


def test_built_rows_name_code_and_tests_and_planned_rows_name_none() -> None:
    problems: list[str] = []
    for r in _requirements():
        if r.planned:
            if r.code or r.config or r.tests or r.stray:
                problems.append(f"{r.id} is planned but names code, config or tests")
            continue
        if not r.code:
            problems.append(f"{r.id} names no code that enforces it")
        if not r.tests:
            problems.append(f"{r.id} names no test that proves it")
        if r.stray:
            problems.append(
                f"{r.id}: in its Tests cell, {', '.join(r.stray)} is neither a "
                "test file (`tests/....py`) nor a test function after one"
            )
    assert not problems, "\n".join(problems)


# -- (a) every built id is cited by code and by tests ----------------------------


@pytest.mark.parametrize("root", [CODE, TESTS], ids=["code", "tests"])
def test_every_built_id_is_cited(root: Path) -> None:
    named = _ids_in(root)
    missing = [r.id for r in _built() if r.id not in named]
    assert not missing, (
        f"built ids no file under {_relative(root)}/ names: {', '.join(missing)} "
        "(cite the id where it is enforced or proved, or mark the row *Planned.*)"
    )


# -- (b) the code the document names exists --------------------------------------


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".")
    is_package = _module_file(module) == ROOT.joinpath(*package) / "__init__.py"
    base = package if is_package else package[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _member(body: list[ast.stmt], name: str) -> ast.stmt | None:
    """The statement of `body` that binds `name`, if any."""
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == name:
                return node
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return node
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name) and node.target.id == name:
                return node
        elif isinstance(node, ast.ImportFrom) and any(
            (a.asname or a.name) == name for a in node.names
        ):
            return node
    return None


def _resolve(module: str, name: str, depth: int = 0) -> ast.stmt | str:
    """The statement defining `module:name` (following re-exports), or why
    it cannot be found."""
    path = _module_file(module)
    if path is None:
        return f"there is no module {module}"
    node = _member(_tree(path).body, name)
    if node is None:
        return f"{module} defines no {name}"
    if isinstance(node, ast.ImportFrom) and depth < 5:
        alias = next(a for a in node.names if (a.asname or a.name) == name)
        source = _absolute(module, node)
        if _module_file(source) is None:
            return node  # imported from outside the repository
        return _resolve(source, alias.name, depth + 1)
    return node


def _code_problem(ref: str) -> str | None:
    if "/" in ref or ref.endswith((".py", ".yaml", ".md")):
        return None if (ROOT / ref).exists() else f"there is no file {ref}"
    match = REF.match(ref)
    if match is None:
        return (
            f"{ref!r} is neither a path nor `package.module:Name` "
            "(or `package.module:Class.method`)"
        )
    module, dotted = match.groups()
    first, *rest = dotted.split(".")
    node = _resolve(module, first)
    if isinstance(node, str):
        return node
    for attribute in rest:
        if not isinstance(node, ast.ClassDef):
            return f"{module}:{first} is not a class, so it has no {attribute}"
        found = _member(node.body, attribute)
        if found is None:
            return f"{module}:{node.name} defines no {attribute}"
        node = found
    return None


def test_the_code_named_exists() -> None:
    problems = [
        f"{r.id}: {problem}"
        for r in _built()
        for ref in r.code
        if (problem := _code_problem(ref)) is not None
    ]
    assert not problems, "\n".join(problems)


# -- (c) the tests the document names exist --------------------------------------


TEST_FUNCTION = re.compile(r"^\s*(?:async\s+)?def\s+(test\w*)\s*\(", re.M)


@functools.cache
def _test_functions(path: str) -> frozenset[str] | None:
    """The test functions (and methods) a test file defines."""
    file = ROOT / path
    if not file.is_file():
        return None
    return frozenset(TEST_FUNCTION.findall(file.read_text(encoding="utf-8")))


def test_the_tests_named_exist() -> None:
    problems: list[str] = []
    for r in _built():
        for path, function in r.tests:
            functions = _test_functions(path)
            if functions is None:
                problems.append(f"{r.id}: there is no test file {path}")
            elif function not in functions:
                problems.append(f"{r.id}: {path} has no test {function}")
    assert not problems, "\n".join(sorted(set(problems)))


# -- config keys and refusal reasons ---------------------------------------------


@functools.cache
def _config_literals() -> frozenset[str]:
    """Every string literal of the config readers (the keys they read)."""
    found: set[str] = set()
    for path in sorted((CODE / "config").glob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return frozenset(found)


def test_the_config_keys_named_are_read() -> None:
    literals = _config_literals()
    problems = [
        f"{r.id}: no config reader reads {segment!r} of `{key}`"
        for r in _built()
        for key in r.config
        for segment in key.split(".")
        if not (segment.startswith("<") and segment.endswith(">"))
        and segment not in literals
    ]
    assert not problems, "\n".join(problems)


@functools.cache
def _reasons() -> frozenset[str]:
    text = (CODE / "reasons.py").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\s+([A-Z][A-Z0-9_]+) = \"\1\"$", text, re.M))


def test_the_refusal_reasons_named_exist() -> None:
    reasons = _reasons()
    assert reasons, "no Reason members found in synapse_groupreg/reasons.py"
    problems = [
        f"{r.id}: the rule names {span}, which synapse_groupreg/reasons.py lacks"
        for r in _built()
        for span in _spans(r.rule)
        if REASON.match(span) and not span.startswith("M_") and span not in reasons
    ]
    assert not problems, "\n".join(problems)


# -- (d) every id the code or tests cite is defined ------------------------------


def _cited(text: str) -> Iterator[tuple[int, str]]:
    """(line, id) of each id in the comments and strings of a Python file:
    where code and tests cite requirements, not names in the code."""
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in (tokenize.COMMENT, tokenize.STRING):
            for offset, line in enumerate(token.string.splitlines()):
                for found in ID.findall(line):
                    yield token.start[0] + offset, found


def test_every_cited_id_is_defined() -> None:
    defined = set(_by_id())
    problems = [
        f"{_relative(path)}:{line}: cites {found}, which docs/requirements.md "
        "does not define"
        for root in (CODE, TESTS)
        for path, text in _texts(root).items()
        # Only files naming an undefined id at all are tokenized.
        if not set(ID.findall(text)) <= defined
        for line, found in _cited(text)
        if found not in defined
    ]
    assert not problems, "\n".join(problems)
