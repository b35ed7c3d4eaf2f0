import re
from pathlib import Path
from typing import get_args

import pandas as pd
import pytest

from features import contract_doc
from features.catalogue import FEATURES
from features.contract import TABLES, Column, Kind, Table, parse_table
from features.contract_doc import (
    COLUMN_DOCS,
    CUSTOMER_FIELD_USE,
    HEADING,
    KIND_DTYPE,
    KIND_TEXT,
    TABLE_DOCS,
    contract_markdown,
    table_markdown,
)

README = Path(__file__).parents[3] / "README.md"
REGENERATE = (
    'render it with `.venv/bin/python -c "from features.contract_doc import contract_markdown '
    "as m; print(m(), end='')\"` and paste it over README.md's section " + repr(HEADING)
)
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?\s*$|href=[\"']([^\"']+)", re.M)


def readme() -> str:
    return README.read_text(encoding="utf-8")


def contract_section(text: str) -> str:
    """README's Data contract section: its heading up to the next ``## `` heading."""
    assert f"\n{HEADING}\n" in text, f"README.md lacks the section {HEADING!r}"
    start = text.index(f"\n{HEADING}\n") + 1
    end = text.find("\n## ", start)
    return text[start : end if end >= 0 else len(text)].rstrip("\n") + "\n"


def table_blocks(section: str) -> dict[str, str]:
    """Each ``### <table>`` block of a section, by table name."""
    parts = section.split("\n### ")[1:]
    blocks = {part.split("\n", 1)[0]: "### " + part for part in parts}
    return {name: block.rstrip("\n") + "\n" for name, block in blocks.items()}


def link_targets(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in LINK.finditer(text)]


def test_readme_lists_exactly_the_contract_tables():
    assert list(table_blocks(contract_section(readme()))) == list(TABLES)


@pytest.mark.parametrize("name", list(TABLES))
def test_readme_table_matches_the_contract(name):
    blocks = table_blocks(contract_section(readme()))
    assert name in blocks, f"README.md's Data contract has no table {name!r}; {REGENERATE}"
    assert blocks[name] == table_markdown(name), (
        f"README.md's Data contract differs from features/contract.py for table {name!r}; "
        f"{REGENERATE}"
    )


def test_readme_section_matches_the_code():
    assert contract_section(readme()) == contract_markdown(), REGENERATE


def test_readme_never_mentions_design_notes():
    assert "design.md" not in readme().lower(), "README.md must not send users to DESIGN.md"


def test_readme_links_stay_inside_the_repository():
    outside = [t for t in link_targets(readme()) if t.startswith(("../", "..\\", "file:"))]
    assert outside == [], f"README.md links outside the repository: {outside}"


def test_section_anchor_links_name_readme_headings():
    text = readme()
    slugs = {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", text, re.M)
    }
    anchors = [t[1:] for t in link_targets(contract_section(text)) if t.startswith("#")]
    assert anchors and set(anchors) <= slugs, f"no heading for {set(anchors) - slugs}"


@pytest.mark.parametrize(
    "markdown, target",
    [
        ("see [x](../shared/y.md)", "../shared/y.md"),
        ("see [x]( <../a b>)", "../a"),
        ("[ref]: ../notes.md", "../notes.md"),
        ('<a href="../z.html">z</a>', "../z.html"),
        ("[ok](#data-contract)", "#data-contract"),
    ],
)
def test_link_targets_finds_every_link_form(markdown, target):
    assert link_targets(markdown) == [target]


def test_every_table_and_column_is_described_and_nothing_else():
    assert set(TABLE_DOCS) == set(TABLES) == set(COLUMN_DOCS)
    for name, table in TABLES.items():
        assert list(COLUMN_DOCS[name]) == table.column_names, name
        optional = name != "customers"
        assert bool(TABLE_DOCS[name][1]) == optional, f"{name}: what its absence means"


def test_undocumented_column_names_its_table(monkeypatch):
    table = Table("customers", (*TABLES["customers"].columns, Column("vat_id", "str")))
    monkeypatch.setitem(contract_doc.TABLES, "customers", table)
    with pytest.raises(KeyError, match=r"customers: columns \['vat_id'\]"):
        table_markdown("customers")


def test_customer_field_use_covers_the_book_with_catalogue_features():
    assert list(CUSTOMER_FIELD_USE) == TABLES["customers"].column_names
    named = {f for features, _ in CUSTOMER_FIELD_USE.values() for f in features}
    assert named <= set(FEATURES), f"not in the catalogue: {named - set(FEATURES)}"


def test_type_legend_matches_what_parsing_gives():
    kinds = get_args(Kind)
    assert set(KIND_TEXT) == set(KIND_DTYPE) == set(kinds)
    columns = tuple(Column(kind, kind) for kind in kinds)
    cells = {"str": "a", "float": "1.5", "int": "2", "date": "2024-01-31", "bool": "yes"}
    typed, unparsed = parse_table(pd.DataFrame([cells]), Table("t", columns))
    assert unparsed.empty
    assert {k: str(typed[k].dtype) for k in kinds} == KIND_DTYPE


@pytest.mark.parametrize(
    "column, allowed",
    [
        (Column("a", "float", min=0), "at least 0"),
        (Column("a", "float", max=5), "at most 5"),
        (Column("a", "int", min=0, max=365), "0 to 365"),
        (Column("a", "float"), "-"),
        (Column("a", "date"), "from 1900-01-01"),
        (Column("a", "date", past=True), "1900-01-01 to the as-of date"),
        (Column("a", "str", allowed=("x", "y")), "`x`, `y`"),
        (Column("a", "str", allowed=tuple("abcdefghijk"), single=True), "one of 11 codes"),
    ],
)
def test_allowed_values_in_words(column, allowed):
    assert contract_doc._allowed(column).startswith(allowed)
