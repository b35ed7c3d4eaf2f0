"""The input data contract as Markdown: README.md's "Data contract" section, from the code.

The rules (columns, types, required, ranges, allowed sets, keys, date order) come from
:data:`features.contract.TABLES`; only the words a user needs beside them (what a table is, a
column's unit and meaning, how the customer fields are used) are written here.
``tests/unit/features/test_contract_doc.py`` holds README.md to :func:`contract_markdown`.
"""

from __future__ import annotations

from features.contract import MIN_DATE, OUTCOME_TABLES, REQUIRED_TABLES, TABLES, Column, Table
from features.contract import expected_text as cell_text
from features.industry import INDEX_FEATURES

HEADING = "## Data contract"
KIND_TEXT = {
    "str": "text",
    "float": "number",
    "int": "whole number",
    "date": "date",
    "bool": "yes/no",
}
KIND_DTYPE = {
    "str": "object",
    "float": "float64",
    "int": "Int64",
    "date": "datetime64[ns]",
    "bool": "bool",
}
LONG_SET = 10  # allowed sets longer than this are counted, not listed

INTRO = f"""\
The pipeline reads one folder with one file per table, `<table>.csv` or `<table>.parquet` (not
both; another file name or other column names are set in `ingest.tables`, see
[Using your own data](#using-your-own-data)). `customers` is required, and `invoices` or
`defaults`: something to learn defaults from. The other tables are optional: the pipeline uses
what is there and says in the log and in `data/raw/manifest.json` what it left out.

In every table: a **required** column must be in the file, an **optional** one may be left out
(it is added empty); a cell may be blank only where the column says "blanks allowed" (else the
row breaks the rule `not null`); columns not listed are dropped (`attributes` keeps them); no
date is before {MIN_DATE.date()}, and no date of something that happened is after the as-of
date. Amounts are in the book's one currency (`invoices.currency`): there is no exchange-rate table.
"""

TABLE_DOCS: dict[str, tuple[str, str]] = {  # table -> (what it is, what its absence means)
    "customers": ("The customer book: one row per customer, as the book stands today.", ""),
    "invoices": (
        "The receivables ledger: one row per invoice, open or paid.",
        "no late-payment features (`limit_utilisation` included); no exposure, overdue amounts, "
        "expected loss or overdue alerts in the scores; defaults come only from `defaults` and "
        "insolvency filings",
    ),
    "payments": (
        "The payments received: one row per payment of an invoice, so an invoice paid in parts "
        "has several. The invoice's `paid_date` stays the day it was settled in full; the "
        "late-payment features read the invoices as before (an invoice is open, in full, until "
        "`paid_date`); the partial-payment features read this table: the share of invoices "
        "whose first payment was a part, and the payments' days late, each part at its date.",
        "no partial-payment features (`part_paid_share_*`, `payment_days_late_*`)",
    ),
    "payment_plans": (
        "Payment plans: one row per schedule agreed with a customer for its overdue balance, "
        "with how it ended. `status` is as known at the data's as-of date; `broken_date` and "
        "`end_date` say from when that was known, so the status is never read before then "
        "(a plan marked broken without a `broken_date` is known broken from its end).",
        "no payment-plan features (`plans_agreed_12m`, `months_since_plan`, `plans_broken_12m`)",
    ),
    "financials": (
        "Financial statements: one row per customer and period, used from the date you had them.",
        "no financial-statement features and no `debt_ratio_vs_sector`",
    ),
    "events": (
        "Company events: ownership and management changes, legal disputes, rating downgrades, "
        "payment incidents, insolvency filings (an insolvency filing is a default).",
        "no event features, no insolvency-filing defaults and no event alerts",
    ),
    "industry_index": (
        "A prosperity or cycle index per industry and month.",
        "no `industry_index`, `industry_index_chg_3m`, `industry_index_chg_12m`, "
        "`industry_index_z`, `industry_index_vs_history` or `industry_index_pct` (the sector "
        "default rate and its ratio to the book's are still computed)",
    ),
    "defaults": (
        "Defaults known from outside the ledger (insolvency, write-off, insurance claim, ...).",
        "defaults come only from the ledger (at least `features.default_materiality` undisputed "
        "and `features.default_days_past_due` days past due) and insolvency filings",
    ),
    "attributes": (
        "Your own fields per customer (bureau scores, ratios, categories, ...), each row valid "
        "from `known_date`. Every column besides the two below becomes the feature "
        "`attr_<column>`, joined point in time (the latest row with `known_date` on or before "
        "the snapshot date): a column of numbers is numeric, a column of text categorical (the "
        "model splits on its values as they are; no one-hot coding needed). A schema file "
        "`attributes.yaml` beside it may give each a label, type, unit, risk direction and "
        "reason sentences (see [Using your own data](#using-your-own-data)).",
        "no `attr_` features",
    ),
}

COLUMN_DOCS: dict[str, dict[str, tuple[str, str]]] = {  # table -> column -> (unit, meaning)
    "customers": {
        "customer_id": ("", "Your id of the customer; the other tables refer to it."),
        "name": ("", "Company name, shown in the scores, the workbook and the customer pages."),
        "country": ("", "Country; kept with the book."),
        "region": ("", "Region; groups the scores and the portfolio report."),
        "industry": ("", "Sector; the key into `industry_index` and the peer group."),
        "annual_revenue": ("currency", "Annual revenue; 0 or blank means unknown."),
        "relationship_start": ("", "Start of the trading relationship; scored from then on."),
        "relationship_end": (
            "",
            "End of the trading relationship, if it ended: no snapshot after it; the scores "
            "list the customer as ended.",
        ),
        "credit_limit": ("currency", "Credit limit granted now (one value for every month)."),
        "payment_terms_days": ("days", "Agreed payment terms."),
    },
    "invoices": {
        "invoice_id": ("", "Your id of the invoice."),
        "customer_id": ("", "The customer invoiced."),
        "issue_date": ("", "Date the invoice was issued."),
        "due_date": ("", "Date payment is due."),
        "amount": ("currency", "Invoiced amount."),
        "currency": ("", "ISO 4217 code of `amount`; absent: `ingest.currency` for all rows."),
        "paid_date": ("", "Date the invoice was settled; blank while it is open."),
        "paid_amount": (
            "currency",
            "Amount paid; checked, but an invoice is open until `paid_date`.",
        ),
        "disputed": ("", "Whether the invoice is disputed (never counted towards a default)."),
    },
    "payments": {
        "invoice_id": ("", "The invoice paid (in `invoices`)."),
        "customer_id": ("", "The customer who paid."),
        "payment_date": ("", "Date the payment was received."),
        "amount": ("currency", "Amount received; an invoice's payments add up to its amount."),
    },
    "payment_plans": {
        "customer_id": ("", "The customer the plan was agreed with."),
        "agreed_date": ("", "Date the plan was agreed."),
        "amount": ("currency", "The overdue balance the plan covers."),
        "instalments": ("", "Number of (monthly) instalments."),
        "end_date": ("", "Date of the last instalment."),
        "status": (
            "",
            "`kept` (every instalment paid), `broken` (one missed), `open` (still running at "
            "the as-of date).",
        ),
        "broken_date": ("", "Date the plan was broken (the first instalment missed)."),
    },
    "financials": {
        "customer_id": ("", "The customer the statement is of."),
        "period_end": ("", "Last day of the period the statement covers."),
        "available_date": (
            "",
            "Date you had the statement, used from then on; blank or absent: `period_end` + "
            "`features.financials_lag_days` days.",
        ),
        "total_assets": ("currency", "Total assets at `period_end`."),
        "total_liabilities": ("currency", "Total liabilities at `period_end`."),
        "current_assets": ("currency", "Current assets at `period_end`."),
        "current_liabilities": ("currency", "Current liabilities at `period_end`."),
        "cash": ("currency", "Cash and equivalents at `period_end`."),
        "revenue": ("currency", "Revenue of the period."),
        "ebit": ("currency", "Earnings before interest and taxes of the period."),
        "net_income": ("currency", "Net income of the period."),
        "operating_cash_flow": ("currency", "Operating cash flow of the period."),
        "interest_expense": ("currency", "Interest expense of the period."),
    },
    "events": {
        "customer_id": ("", "The customer the event concerns."),
        "event_date": ("", "Date the event happened."),
        "event_type": ("", "What happened."),
        "description": ("", "Free text; not used by the model."),
    },
    "industry_index": {
        "industry": ("", "Sector, as in `customers.industry`."),
        "month": (
            "",
            "Month of the value (any day of it); known "
            "`features.index_publication_lag_months` months later.",
        ),
        "value": ("index", "Index level; higher means better times for the sector."),
    },
    "defaults": {
        "customer_id": ("", "The customer that defaulted."),
        "default_date": ("", "Date of the default."),
        "default_type": ("", "Kind of default."),
    },
    "attributes": {
        "customer_id": ("", "The customer the values are of."),
        "known_date": ("", "Date from which the row's values were known."),
    },
}

# customers column -> (the model features it makes, what else uses it)
CUSTOMER_FIELD_USE: dict[str, tuple[tuple[str, ...], str]] = {
    "customer_id": ((), "the key of every table"),
    "name": ((), "the scores, the workbook, the customer pages"),
    "country": ((), "nothing (kept in the book)"),
    "region": ((), "the scores; loss by region in the portfolio report"),
    "industry": (
        (
            *INDEX_FEATURES,
            "sector_default_rate_12m",
            "sector_default_rate_vs_book",
            "days_late_vs_sector",
            "debt_ratio_vs_sector",
        ),
        "the scores; the sector medians quoted in the reasons",
    ),
    "annual_revenue": (("annual_revenue",), "policy: the limit cap `limit.max_revenue_share`"),
    "relationship_start": (
        ("relationship_months",),
        "the snapshot grid; policy: purchases annualised for the limit",
    ),
    "relationship_end": ((), "the snapshot grid: no snapshot, so no score, after it"),
    "credit_limit": (("limit_utilisation",), "policy: `current_limit`; the `limit_breach` alert"),
    "payment_terms_days": (("payment_terms_days",), "policy: `current_terms_days`, never exceeded"),
}
COLUMNS_HEADER = [
    "| column | presence | type | unit | allowed | meaning |",
    "|---|---|---|---|---|---|",
]


def contract_markdown() -> str:
    """README.md's whole "Data contract" section, heading included, ending in one newline."""
    blocks = [f"{HEADING}\n", INTRO, kinds_markdown()]
    blocks += [table_markdown(name) for name in TABLES]
    return "\n".join(blocks)


def kinds_markdown() -> str:
    """The legend of the column types: what a cell looks like, what it is loaded as."""
    rows = [f"| {KIND_TEXT[k]} | {cell_text(k)} | `{KIND_DTYPE[k]}` |" for k in KIND_TEXT]
    return "\n".join(["| type | a cell is | loaded as |", "|---|---|---|", *rows]) + "\n"


def table_markdown(name: str) -> str:
    """The ``### <name>`` block of one contract table.

    Raises:
        KeyError: ``name`` is not a contract table, or a column lacks its unit and meaning.
    """
    table = TABLES[name]
    what, absent = TABLE_DOCS[name]
    docs = COLUMN_DOCS[name]
    undocumented = [c for c in table.column_names if c not in docs]
    if undocumented:
        raise KeyError(f"{name}: columns {undocumented} have no unit and meaning in COLUMN_DOCS")
    status = f"File: `{name}.csv` or `{name}.parquet`; {_table_status(name, absent)}"
    lines = [f"### {name}", "", what, "", status, "", *COLUMNS_HEADER]
    for col in table.columns:
        unit, meaning = docs[col.name]
        cells = [f"`{col.name}`", _presence(col), KIND_TEXT[col.kind], unit or "-"]
        lines.append("| " + " | ".join([*cells, _allowed(col), meaning]) + " |")
    lines += ["", *_rules(table)]
    if name == "customers":
        lines += ["", *_customer_use()]
    return "\n".join(lines) + "\n"


def _table_status(name: str, absent: str) -> str:
    if name in REQUIRED_TABLES:
        return "required."
    if name in OUTCOME_TABLES:
        others = "` or `".join(t for t in OUTCOME_TABLES if t != name)
        return f"required unless `{others}` is given. Without it: {absent}."
    return f"optional. Without it: {absent}."


def _presence(col: Column) -> str:
    presence = "required" if col.required else "optional"
    return presence + (", blanks allowed" if col.nullable else "")


def _allowed(col: Column) -> str:
    if col.allowed is not None:
        if len(col.allowed) > LONG_SET:
            values = f"one of {len(col.allowed)} codes (listed in `features/contract.py`)"
        else:
            values = ", ".join(f"`{v}`" for v in col.allowed)
        return values + ("; one value in all rows" if col.single else "")
    if col.kind == "date":
        return f"{MIN_DATE.date()} to the as-of date" if col.past else f"from {MIN_DATE.date()}"
    if col.min is not None and col.max is not None:
        return f"{col.min:g} to {col.max:g}"
    if col.min is not None:
        return f"at least {col.min:g}"
    return f"at most {col.max:g}" if col.max is not None else "-"


def _rules(table: Table) -> list[str]:
    key = " + ".join(f"`{c}`" for c in table.key)
    fks = [f"`{column}` in `{ref}`{_when_given(ref)}" for column, ref in table.foreign_keys.items()]
    order = [f"`{a}` <= `{b}`" for a, b in table.date_order]
    order += [f"`{b}` at most {days} days after `{a}`" for a, b, days in table.max_days]
    lines = [
        f"- Key: {key + ' (unique)' if key else 'none (rows may repeat)'}.",
        f"- Foreign keys: {'; '.join(fks) if fks else 'none'}.",
        f"- Date order: {'; '.join(order) + ' (where both are given)' if order else 'none'}.",
    ]
    amounts = [f"`{part}` <= `{whole}`" for part, whole in table.not_above]
    return lines + ([f"- Amounts: {'; '.join(amounts)} (where both are given)."] if amounts else [])


def _when_given(ref: str) -> str:
    table = ref.split(".")[0]
    return "" if table in REQUIRED_TABLES else f" (checked when `{table}` is given)"


def _customer_use() -> list[str]:
    lines = [
        "Only `customer_id` is required. A field left out (or blank for every customer) is named",
        "once in the ingest log and `manifest.json` (`blank_customer_fields`), and what it feeds",
        "is left out: its features, and the policy parts that need it (no recommended limit",
        "without purchases, no recommended terms without agreed terms, no ledger actions such as",
        "collection or pausing orders without an invoice ledger). Customers without an `industry`",
        "or `region` form the group `(not given)`; a blank `relationship_start` is the customer's",
        "first dated fact (first invoice, event, statement, attribute row or default). How the",
        "customer fields are used (no field feeds the policy alone: the four it reads are model",
        "features too):",
        "",
        "| field | model features | also used by |",
        "|---|---|---|",
    ]
    for field, (features, other) in CUSTOMER_FIELD_USE.items():
        made = ", ".join(f"`{f}`" for f in features) or "none"
        lines.append(f"| `{field}` | {made} | {other} |")
    return lines
