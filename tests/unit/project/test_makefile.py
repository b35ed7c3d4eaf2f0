"""Every ``make <target>`` the README names is a Makefile target, phony unless it makes a file.

A README command that make does not know fails on a fresh clone; a target that is not
``.PHONY`` and shares its name with a file or folder (``bench/``) makes make answer "Nothing to
be done" instead of running it. The check reads the README's inline code and fenced code
blocks, and the Makefile's rules and ``.PHONY`` lists, as strings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).parents[3]
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE = re.compile(r"`([^`]+)`")
SEPARATORS = re.compile(r"&&|\|\||[;|()]")
TARGET = re.compile(r"^[\w./-]+$")
RULE = re.compile(r"^([^\s:=#][^:=#]*?)\s*::?(?!=)")
FLAGS_WITH_VALUE = {"-C", "-f", "-j", "-l", "-o", "-W", "-I", "--file", "--directory"}


def code_snippets(readme: str) -> list[str]:
    """The README's code: each line of a fenced block, and each inline code span."""
    snippets: list[str] = []
    prose: list[str] = []
    fenced = False
    for line in readme.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif fenced:
            snippets.append(line)
        else:
            prose.append(line)
    spans = INLINE.findall("\n".join(prose))
    return snippets + [" ".join(span.split()) for span in spans if "\n\n" not in span]


def make_targets(command: str) -> list[str]:
    """The targets of each ``make`` command in a line of shell (``make run PYTHON=x``: run)."""
    targets: list[str] = []
    for piece in SEPARATORS.split(command.split("#", 1)[0]):
        words = piece.split()
        if words[:1] == ["$"]:  # a shell prompt
            words = words[1:]
        while words and "=" in words[0]:  # environment assignments: `PATH=x make run`
            words = words[1:]
        if words[:1] != ["make"]:
            continue
        skip = False
        for word in words[1:]:
            if skip:
                skip = False
            elif word in FLAGS_WITH_VALUE:
                skip = True
            elif not word.startswith("-") and "=" not in word and TARGET.match(word):
                targets.append(word)
    return targets


def readme_targets(readme: str) -> set[str]:
    """Every target a ``make`` command of the README's code names."""
    return {target for snippet in code_snippets(readme) for target in make_targets(snippet)}


def makefile_rules(makefile: str) -> tuple[dict[str, list[str]], set[str]]:
    """The Makefile's explicit targets with their recipe lines, and its ``.PHONY`` targets."""
    rules: dict[str, list[str]] = {}
    phony: set[str] = set()
    current: list[str] = []
    for line in makefile.replace("\\\n", " ").splitlines():
        if line.startswith("\t"):
            current.append(line.strip())
            continue
        match = RULE.match(line)
        if match is None:
            if line.strip() and not line.lstrip().startswith("#"):
                current = []  # an assignment or directive ends the recipe
            continue
        names = match.group(1).split()
        if names == [".PHONY"]:
            phony.update(line[match.end() :].split("#", 1)[0].split())
            current = []
            continue
        current = []
        for name in names:
            rules[name] = current  # targets of one rule share its recipe
    return rules, phony


def writes_itself(target: str, recipe: list[str]) -> bool:
    """Whether ``target``'s recipe makes a file of the target's name (so it need not be phony)."""
    name = re.escape(target)
    made = re.compile(rf"(\$@|(touch|>|-o)\s+{name}(\s|$))")
    return any(made.search(line) for line in recipe)


def problems(readme: str, makefile: str) -> list[str]:
    """What is wrong with the README's make targets, one sentence each; empty when nothing."""
    rules, phony = makefile_rules(makefile)
    found = []
    for target in sorted(readme_targets(readme)):
        if target not in rules:
            found.append(f"the README names `make {target}` but the Makefile has no such target")
        elif target not in phony and not writes_itself(target, rules[target]):
            found.append(
                f"`make {target}` makes no file of that name: declare it .PHONY "
                "(otherwise a file or folder called so makes it 'Nothing to be done')"
            )
    return found


def test_the_readme_names_the_fresh_clone_commands():
    assert {"run", "test"} <= readme_targets((REPO / "README.md").read_text(encoding="utf-8"))


def test_every_make_target_of_the_readme_is_a_phony_makefile_target():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert problems(readme, makefile) == []


def test_a_target_the_readme_adds_but_the_makefile_lacks_fails_the_check():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    found = problems(readme + "\nThen run `make frobnicate`.\n", makefile)
    assert len(found) == 1 and "make frobnicate" in found[0]


FAKE_MAKEFILE = """\
PYTHON ?= python3.11
BIN := .venv/bin
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test
.PHONY: lint  # a second list

.venv/.installed: pyproject.toml
\ttouch $@

run: .venv/.installed
\t$(BIN)/dvc repro

test lint: .venv/.installed
\t$(BIN)/pytest

bench: .venv/.installed
\t$(BIN)/python -m bench.run

report.html: data.csv
\t$(BIN)/python -m report > report.html
"""


@pytest.mark.parametrize(
    ("readme", "expected"),
    [
        ("`make run` then `make test`", []),
        ("```bash\nmake run    # the pipeline\nmake lint\n```", []),
        ("`make run PYTHON=python3` with another Python", []),
        ("`cd repo && make -j 2 test lint`", []),
        ("`make report.html` builds the report file", []),
        ("it needs `make` and Python; make sure `make` is installed", []),
        ("```\n# make docs: not a command\n```", []),
        ("`make docs`", ["no such target"]),
        ("```sh\n$ make docs\n```", ["no such target"]),
        ("`make\nrun` and `make docs`", ["no such target"]),
        ("`make bench`", ["declare it .PHONY"]),
        ("`PATH=x make .venv/.installed`", []),
    ],
)
def test_the_check_on_a_tiny_readme_and_makefile(readme, expected):
    found = problems(readme, FAKE_MAKEFILE)
    assert len(found) == len(expected), found
    for sentence, part in zip(found, expected, strict=True):
        assert part in sentence


def test_variables_and_phony_lists_are_not_targets():
    rules, phony = makefile_rules(FAKE_MAKEFILE)
    assert set(rules) == {".venv/.installed", "run", "test", "lint", "bench", "report.html"}
    assert phony == {"run", "test", "lint"}
    assert rules["test"] == rules["lint"] == ["$(BIN)/pytest"]


@pytest.mark.parametrize(
    ("command", "targets"),
    [
        ("make run", ["run"]),
        ("$ make run PYTHON=python3", ["run"]),
        ("make -C sub -f Other.mk lint test", ["lint", "test"]),
        ("make run    # creates .venv", ["run"]),
        ("cd x && make bench; make clean", ["bench", "clean"]),
        ("python -m bench.run --make x", []),
        ("MLFLOW_TRACKING_URI=x make run", ["run"]),
        ("cmake build", []),
    ],
)
def test_make_targets_of_a_command(command, targets):
    assert make_targets(command) == targets
