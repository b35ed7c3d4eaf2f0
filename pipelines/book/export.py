"""The scored CSV files as a product for people: stable columns, rounded, safe to open in Excel.

Columns and their meaning live here (the README's schema section and the workbook's dictionary
sheet list the same); numbers are rounded for reading; in the CSV, text cells that a spreadsheet
would run as a formula (``=``, ``+``, ``-``, ``@`` after any whitespace or invisible character,
or a leading tab or line break; customer names come from outside) get a leading apostrophe
(``pipelines.io.files.neutralise_formulas``, which every CSV for people goes through, in
:func:`csv_bytes`); a UTF-8 byte-order mark is optional, so that Excel reads non-Latin names.
The tables themselves keep the text as it is (the workbook writes it as text cells).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from models.monitoring import IN_DEFAULT, SCORED
from pipelines.io.files import neutralise_formulas, write_bytes

BOM = b"\xef\xbb\xbf"

# column -> meaning; ``reason_k`` stands for reason_1 .. reason_<score.n_reasons>
SCORES_SCHEMA: dict[str, str] = {
    "customer_id": "customer id from the customer book",
    "name": "customer name from the customer book",
    "industry": "sector from the customer book",
    "region": "region from the customer book",
    "as_of_date": "the month end scored (YYYY-MM-DD)",
    "pd_12m": "probability of default within 12 months, calibrated (4 decimals)",
    "grade": "master-scale grade, 1 (safest) .. 10",
    "previous_grade": "grade in the previous month's book (empty: not scored then)",
    "grade_change": "grade minus previous_grade (positive: worse)",
    "pd_change": "pd_12m minus the previous month's PD",
    # the term structure (README "PD term structure"); absent where the model has none
    "pd_1m": "probability of default within 1 month (the term structure, up to pd_12m)",
    "pd_3m": "probability of default within 3 months",
    "pd_6m": "probability of default within 6 months",
    "pd_terms": (
        "probability of default within the customer's payment terms plus the grace period "
        "(term_structure.grace_days): will it pay what is shipped today"
    ),
    "alerts": "alert rules fired this month for the customer (see alerts.csv), '; '-separated",
    "currency": "currency of every amount in the row: the book's one currency (ISO 4217)",
    "exposure": "open receivables at the as-of date (invoices issued and not yet paid)",
    "overdue_amount": "part of the exposure past its due date",
    "days_past_due": (
        "days past due of the open invoice longest past due at the as-of date "
        "(0: none past due; empty: no open invoice)"
    ),
    "disputed_open_amount": "part of the exposure in invoices flagged as disputed",
    "expected_loss": "pd_12m x LGD (configs/policy.yaml) x exposure",
    "ecl_lifetime": (
        "lifetime expected credit loss of the open invoices (IFRS 9 simplified approach): each "
        "invoice's amount x LGD x the PD over its remaining life (days to its due date, 0 when "
        "overdue, plus the customer's expected delay: days_late_avg_12m, else its sector's "
        "median), read from the term structure pd_1m..pd_12m; empty: no term structure"
    ),
    "purchases_12m": "invoicing over the last 12 months",
    "dso_days": (
        "days sales outstanding at the as-of date: exposure over the last 3 months' invoicing, "
        "times 91 days (the model's feature dso_days)"
    ),
    "days_late_avg_12m": (
        "average days late of the invoices due in the last 12 months, weighted by amount "
        "(open ones counted to the as-of date): the model's feature days_late_wavg_12m"
    ),
    "current_limit": "credit limit in the customer book",
    "recommended_limit": "credit limit the policy recommends",
    "current_terms_days": "agreed payment terms in the customer book",
    "recommended_terms_days": "longest payment terms the policy allows",
    "prepayment_pct": "share of each order to be paid in advance, percent",
    "actions": "what to do, most severe first, in score.language",
    "action_codes": "the same actions as stable codes, '; '-separated",
    "reason_k_code": "k-th strongest material adverse factor: code (reason_1 empty: none)",
    "reason_k": "k-th reason: an adverse fact, the customer's value against its sector's median",
    "adverse_action_reasons": "where recommended_limit < current_limit: the reasons to give",
    "what_it_would_take": (
        "the cheapest plausible change of what the customer controls (one feature, else two) "
        "that moves it up one grade, verified by re-scoring, in score.language (empty: grade 1, "
        "or no such change within the book's 1st-99th percentiles)"
    ),
    "what_it_would_take_code": "the same change as feature:before->after, ';'-separated",
    "model_version": "registered model version that scored the row",
}
DEFAULTED_SCHEMA: dict[str, str] = {
    "customer_id": "customer id from the customer book",
    "name": "customer name from the customer book",
    "industry": "sector from the customer book",
    "region": "region from the customer book",
    "as_of_date": "the month end of the book (YYYY-MM-DD)",
    "default_date": "the first date of the default (YYYY-MM-DD)",
    "default_trigger": "what triggered it: days_past_due, insolvency_filing or defaults_table",
    "default_trigger_text": "the same in score.language",
    "days_in_default": "as_of_date minus default_date, in days",
    "currency": "currency of every amount in the row: the book's one currency (ISO 4217)",
    "exposure": "open receivables at the as-of date (as in scores.csv), now in recovery",
    "overdue_amount": "part of the exposure past its due date",
    "days_past_due": "days past due of the open invoice longest past due (as in scores.csv)",
    "disputed_open_amount": "part of the exposure in invoices flagged as disputed",
    "expected_loss": "LGD (configs/policy.yaml) x exposure: PD 1",
    "ecl_lifetime": "lifetime expected credit loss: LGD x exposure, as expected_loss (PD 1)",
    "recovery_actions": "what to do, in order, in score.language (configs/policy.yaml, recovery)",
    "recovery_action_codes": "the same actions as stable codes, '; '-separated",
}
REJECTS_SCHEMA: dict[str, str] = {
    "customer_id": "customer id from the customer book",
    "name": "customer name from the customer book",
    "reason_code": "why it is not scored: rejected (by validation) or not_started",
    "reason": "the same with the details, in score.language",
}
ALERTS_SCHEMA: dict[str, str] = {
    "as_of_date": "the month end scored",
    "previous_as_of_date": "the month end compared with (empty: none)",
    "customer_id": "customer id",
    "name": "customer name",
    "industry": "sector",
    "region": "region",
    "severity": "high, medium or low",
    "rule": "the rule that fired (configs/policy.yaml, alerts)",
    "message": "what happened, with the numbers, in score.language",
    "grade": "grade now (empty: not scored now, e.g. in default)",
    "pd_12m": "PD now",
    "exposure": "open receivables now",
}
TERM_COLUMNS = ("pd_1m", "pd_3m", "pd_6m", "pd_terms")  # only where the model has them
DECIMALS = {"pd_12m": 4, "pd_change": 4} | {c: 4 for c in TERM_COLUMNS}
WHOLE = [
    "exposure", "overdue_amount", "expected_loss", "ecl_lifetime", "purchases_12m", "current_limit",
    "recommended_limit", "current_terms_days", "recommended_terms_days", "prepayment_pct",
    "grade", "previous_grade", "grade_change", "model_version", "days_in_default",
    "days_past_due", "disputed_open_amount", "dso_days", "days_late_avg_12m",
]  # fmt: skip


def schema_columns(schema: dict[str, str], n_reasons: int) -> list[str]:
    """The columns of ``schema`` in order, ``reason_k*`` expanded to ``n_reasons`` reasons."""
    return list(schema_meanings(schema, n_reasons))


def schema_meanings(schema: dict[str, str], n_reasons: int) -> dict[str, str]:
    """Each column of ``schema`` -> its meaning, ``reason_k*`` expanded (``k-th``: ``1st``..)."""
    out: dict[str, str] = {}
    for name, meaning in schema.items():
        if name == "reason_k_code":
            for k in range(1, n_reasons + 1):
                nth = {1: "1st", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")
                out[f"reason_{k}_code"] = meaning.replace("k-th", nth, 1)
                out[f"reason_{k}"] = schema["reason_k"].replace("k-th", nth, 1)
        elif name != "reason_k":
            out[name] = meaning
    return out


def is_date(column: str) -> bool:
    """Whether a people's table ``column`` holds dates (written ``YYYY-MM-DD``)."""
    return column.endswith("date")


def reason_count(columns: pd.Index) -> int:
    """How many reasons a table carries: its ``reason_k_code`` columns."""
    return sum(1 for c in columns if c.startswith("reason_") and c.endswith("_code"))


def scores_table(book: pd.DataFrame) -> pd.DataFrame:
    """The scored customers of ``book`` as the scored CSV: riskiest first, for people."""
    n_reasons = reason_count(book.columns)
    scored = book[book["status"] == "scored"]
    order = scored.sort_values(["pd_12m", "customer_id"], ascending=[False, True], kind="stable")
    columns = schema_columns(SCORES_SCHEMA, n_reasons)
    columns = [c for c in columns if c in book.columns or c not in TERM_COLUMNS]
    return for_people(order, columns).reset_index(drop=True)


def defaulted_table(book: pd.DataFrame) -> pd.DataFrame:
    """The customers of ``book`` in default, largest exposure first, for people."""
    defaulted = book[book["status"] == IN_DEFAULT]
    order = defaulted.sort_values(
        ["exposure", "customer_id"], ascending=[False, True], kind="stable", na_position="last"
    )
    return for_people(order, list(DEFAULTED_SCHEMA)).reset_index(drop=True)


def rejects_table(book: pd.DataFrame) -> pd.DataFrame:
    """The customers of ``book`` that could not be scored (neither scored nor in default)."""
    unscored = ~book["status"].isin([SCORED, IN_DEFAULT])
    rejected = book[unscored].sort_values("customer_id", kind="stable")
    out = rejected.rename(columns={"status": "reason_code", "reject_reason": "reason"})
    return for_people(out, list(REJECTS_SCHEMA)).reset_index(drop=True)


def alerts_table(
    alerts: pd.DataFrame,
    book: pd.DataFrame,
    as_of: pd.Timestamp,
    previous: pd.Timestamp | None,
) -> pd.DataFrame:
    """The alerts with the customer's name, sector, region, grade, PD and exposure, for people."""
    info = book.set_index("customer_id")[
        ["name", "industry", "region", "grade", "pd_12m", "exposure"]
    ]
    out = alerts.join(info, on="customer_id").assign(
        as_of_date=as_of, previous_as_of_date=previous if previous is not None else pd.NaT
    )
    return for_people(out, list(ALERTS_SCHEMA)).reset_index(drop=True)


def for_people(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return ``frame``'s ``columns``, rounded, dates as ``YYYY-MM-DD`` text.

    Text is kept as it is: each format makes it inert its own way (:func:`csv_bytes`; the
    workbook writes text cells).

    Raises:
        KeyError: ``frame`` lacks one of ``columns``.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"scored table lacks columns {missing}")
    out = frame[columns].copy()
    for col in out.columns:
        if col in DECIMALS:
            out[col] = out[col].astype(float).round(DECIMALS[col])
        elif col in WHOLE:
            out[col] = np.round(pd.to_numeric(out[col], errors="coerce")).astype("Int64")
        elif is_date(col):
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out


def csv_bytes(frame: pd.DataFrame, bom: bool) -> bytes:
    """Render ``frame`` as UTF-8 CSV (Arrow's writer), with a byte-order mark if ``bom``.

    Formula-like text gets a leading apostrophe (``neutralise_formulas``).
    """
    sink = io.BytesIO()
    inert = neutralise_formulas(frame)
    pacsv.write_csv(pa.Table.from_pandas(inert, preserve_index=False), sink)
    return (BOM if bom else b"") + sink.getvalue()


def write_people_csv(frame: pd.DataFrame, path: Path, bom: bool) -> None:
    """Write ``frame`` as CSV atomically (see :func:`csv_bytes`)."""
    write_bytes(csv_bytes(frame, bom), path)
