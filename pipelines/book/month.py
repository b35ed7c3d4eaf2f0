"""The score stage's work: the book at a month end, scored, valued, compared and under policy.

A *book* here is one row per customer of the customer book at a month end: ``status`` is
``scored`` (PD, grade, reasons, account position, policy), ``in_default`` (account position,
expected loss and recovery actions: it stays in the book's exposure), ``rejected`` (set aside by
validation) or ``not_started`` (each not scored with ``reject_reason``). Each run keeps its book in
the history folder (``Paths.history``); the next run compares with the latest earlier one
(see ``models.monitoring``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.build import last_fact_dates
from models.exposure import months_before
from models.master_scale import MasterScale
from models.monitoring import (
    IN_DEFAULT,
    SCORED,
    compare_books,
    events_between,
    find_alerts,
    worst_severity,
)
from models.policy import CreditPolicy, apply_policy, apply_recovery, held_grade
from pipelines.book.account import ACCOUNT, positions_at, with_account
from pipelines.book.history import previous_date, read_book, write_book
from pipelines.book.rows import explain_unscored, require, rows_at
from pipelines.checks.rejected import rejected_customers
from pipelines.checks.rules import book_currency
from pipelines.io.artifacts import load_master_scale
from pipelines.io.files import StageError, read_json, read_parquet
from pipelines.io.paths import Paths

log = logging.getLogger("pipelines.score")


@dataclass(frozen=True)
class Inputs:
    """What the score stage reads (``invoices`` and ``events`` are optional tables)."""

    snapshots: pd.DataFrame
    defaults: pd.DataFrame
    customers: pd.DataFrame
    invoices: pd.DataFrame | None
    events: pd.DataFrame | None
    manifest: Any
    registry: dict  # the scoring model: model_version, model_uri (the score stage sets it)
    paths: Paths
    scale: MasterScale | None = None  # the grades' scale (alert hysteresis); None: no hysteresis
    facts: dict[str, pd.DataFrame] | None = None  # the other dated tables (staleness)
    max_fact_age_months: int | None = None  # features.max_fact_age_months
    currency: str | None = None  # the book's one currency (None: unknown, no ledger)


def read_inputs(paths: Paths, max_fact_age_months: int | None = None) -> Inputs:
    """Read and check the stage's inputs; customer ids become strings everywhere.

    ``max_fact_age_months``: the features' staleness rule, to say why a stale customer is not
    scored (its dated tables are read for it).
    """
    sources = (paths.snapshots, paths.default_dates, paths.raw_table("customers"))
    snapshots, defaults, customers = (read_parquet(p) for p in sources)
    require(snapshots, ["customer_id", "as_of_date", "industry", "region"], sources[0])
    require(defaults, ["customer_id", "default_date", "default_trigger"], sources[1])
    require(customers, ["customer_id", "name", "relationship_start", *ACCOUNT], sources[2])
    # the rows validation kept; the book itself stays whole so that every customer is explained
    optional = {name: paths.validated_table(name) for name in ("invoices", "events")}
    tables = {n: read_parquet(p) if p.is_file() else None for n, p in optional.items()}
    for name, frame in tables.items():
        if frame is None:
            log.warning("no %s table: %s", name, _SKIPPED[name])
    snapshots, defaults, customers, invoices, events = (
        None if f is None else f.assign(customer_id=f["customer_id"].astype(str))
        for f in (snapshots, defaults, customers, tables["invoices"], tables["events"])
    )
    customers = one_row_per_customer(customers, paths)
    facts = {
        name: read_parquet(paths.validated_table(name))
        for name in FACT_TABLES
        if paths.validated_table(name).is_file()
    }
    manifest = read_json(paths.manifest)
    # ingest.currency, else the ledger's (validation let only one currency through)
    configured = manifest.get("currency") if isinstance(manifest, dict) else None
    currency = book_currency({} if invoices is None else {"invoices": invoices}, configured)
    return Inputs(
        snapshots, defaults, customers, invoices, events, manifest, {}, paths,
        load_master_scale(paths.master_scale), facts, max_fact_age_months, currency,
    )  # fmt: skip


def one_row_per_customer(customers: pd.DataFrame, paths: Paths) -> pd.DataFrame:
    """The book with one row per id; a repeated id must have been set aside by validation."""
    repeated = customers["customer_id"].duplicated()
    if not repeated.any():
        return customers
    set_aside = set(rejected_customers(paths.validation_rejects("customers"))["customer_id"])
    unexplained = customers.loc[repeated & ~customers["customer_id"].isin(set_aside), "customer_id"]
    if not unexplained.empty:
        where = paths.raw_table("customers")
        raise StageError(f"customers appear twice in {where}: {sorted(unexplained)[:5]}")
    return customers.drop_duplicates("customer_id")


def choose_as_of(snapshots: pd.DataFrame, requested: str | None, manifest: Any) -> pd.Timestamp:
    """Return the month end to score: ``requested``, or the latest snapshot date."""
    if snapshots.empty:
        raise StageError("the snapshot table is empty: nothing to score")
    dates = pd.DatetimeIndex(pd.to_datetime(snapshots["as_of_date"]).unique()).sort_values()
    as_of = dates[-1] if requested is None else pd.Timestamp(requested)
    data_as_of = manifest.get("as_of_date") if isinstance(manifest, dict) else None
    if data_as_of is not None and as_of > pd.Timestamp(data_as_of):
        raise StageError(f"as-of date {as_of:%Y-%m-%d} is after the data as-of {data_as_of}")
    if as_of not in dates:
        raise StageError(
            f"score.as_of_date {as_of:%Y-%m-%d} has no snapshots; snapshot dates run from "
            f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}"
        )
    return as_of


# score_rows with the model bound: (rows, language=, with_medians=) -> the pyfunc's output
Scorer = Callable[..., pd.DataFrame]


def book_at(
    inputs: Inputs, score: Scorer, as_of: pd.Timestamp, since: pd.Timestamp,
    policy: CreditPolicy, language: str,
) -> pd.DataFrame:  # fmt: skip
    """Score the book at ``as_of``: scored rows with reasons and positions, then the unscored.

    Customers in default get their account position too (their exposure is in recovery).

    Args:
        inputs: The stage's inputs.
        score: Rows to the model's output (``pipelines.book.rows.score_rows`` with the model):
            the reason sentences are the model's, worded with the month's sector medians.
        as_of: Month end to score.
        since: The previous book's date (start of the "newly overdue" period).
        policy: The credit policy (its ``new_overdue`` days).
        language: Language of the reason sentences and of why a customer is not scored.
    """
    rows = rows_at(inputs.snapshots, inputs.customers, as_of)
    # the model words the reasons (as it does over HTTP), given the sector medians: not again here
    result = score(rows, language=language, with_medians=True)
    unscored = _unscored(inputs, rows["customer_id"], as_of, language)
    defaulted = unscored.loc[unscored["status"] == IN_DEFAULT, "customer_id"]
    days = policy.alerts.new_overdue.days if policy.alerts.new_overdue else 30
    valued = pd.concat([rows["customer_id"], defaulted])  # the defaulted are in the exposure
    positions = positions_at(inputs.invoices, valued, as_of, since, days)
    ids = rows[["customer_id", "name", "industry", "region"]]
    scored = with_account(pd.concat([ids, result], axis=1), rows, inputs.customers, positions)
    # for people to read: the values the model saw, under their book names
    for feature, column in SHOWN_FEATURES.items():
        scored[column] = rows.get(feature, np.nan)
    in_default = unscored.join(positions, on="customer_id")  # only the defaulted are in it
    book = pd.concat([scored.assign(status=SCORED), in_default])
    book["grade"] = book["grade"].astype("Int64")
    return book.assign(as_of_date=as_of, currency=inputs.currency).reset_index(drop=True)


def assess(
    book: pd.DataFrame,
    policy: CreditPolicy,
    language: str,
    previous: pd.DataFrame | None = None,
    new_events: pd.DataFrame | None = None,
    with_alerts: bool = True,
    scale: MasterScale | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare ``book`` with ``previous``, raise alerts, apply the policy (and its recovery).

    With ``scale`` (the model's master scale) the grade alerts have the policy's hysteresis.
    The limit follows the better of this month's and last month's grade: a worse grade cuts
    the limit once it has held two months, not on a one-month step.

    Returns:
        The book with changes, alert rules, policy columns and adverse-action reasons (scored
        rows), recovery columns and expected loss (in default), and the alerts (empty when
        ``with_alerts`` is false, as for a back-filled month).
    """
    _check_scale(book, scale)
    book = compare_books(book, previous, scale, policy.alerts.hysteresis)
    alerts = find_alerts(
        book, previous, new_events, policy.alerts, policy.high_risk_grade, language
    )
    if not with_alerts:
        alerts = alerts.iloc[:0]
    rules = alerts.groupby("customer_id")["rule"].agg("; ".join)
    book["alerts"] = book["customer_id"].map(rules).fillna("")
    scored, defaulted = book["status"] == SCORED, book["status"] == IN_DEFAULT
    severity = book["customer_id"].map(worst_severity(alerts))
    try:
        held = held_grade(book.loc[scored, "grade"], book.loc[scored, "previous_grade"])
        applied = apply_policy(book[scored], policy, severity[scored], language, held)
    except ValueError as err:
        raise StageError(f"the credit policy does not fit the model: {err}") from None
    recovery = apply_recovery(book[defaulted], policy, language)
    book = book.join(applied).join(recovery.drop(columns="expected_loss"))
    book.loc[defaulted, "expected_loss"] = recovery["expected_loss"]
    book["adverse_action_reasons"] = _adverse_reasons(book, language)
    return book, alerts


def score_month(
    inputs: Inputs, score: Scorer, policy: CreditPolicy, as_of: pd.Timestamp, language: str,
    with_alerts: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp | None]:  # fmt: skip
    """Score, compare and assess the book at ``as_of`` against the latest stored earlier book.

    Returns:
        The book (with ``model_version`` and ``source``: ``run``, or ``backfill`` without
        alerts), its alerts, and the date of the book compared with (``None``: none). When the
        stored previous book was scored by another model version, that month is re-scored by
        this one (stored as ``<date>.v<version>.parquet``) and the comparison is made with it.
    """
    history = inputs.paths.history
    before = previous_date(as_of, history)
    previous = read_book(before, history) if before is not None else None
    version = inputs.registry["model_version"]
    if previous is not None and not scored_by(previous, version):
        # compare on one model: the previous month again, through the current model
        previous, _, _ = score_month(inputs, score, policy, before, language, False)
        previous = previous.assign(source="rescored")
        write_book(previous, before, history, version)
    since = positions_since(before, as_of)
    book = book_at(inputs, score, as_of, since, policy, language)
    events = events_between(inputs.events, since, as_of)
    book, alerts = assess(book, policy, language, previous, events, with_alerts, inputs.scale)
    source = "run" if with_alerts else "backfill"
    book = book.assign(model_version=version, source=source)
    return book, alerts, before


def scored_by(book: pd.DataFrame, version: int) -> bool:
    """Whether every scored row of ``book`` was scored by model ``version``."""
    scored = book.loc[book["status"] == SCORED, "model_version"]
    return bool((pd.to_numeric(scored, errors="coerce") == int(version)).all())


def positions_since(previous_date: pd.Timestamp | None, as_of: pd.Timestamp) -> pd.Timestamp:
    """Start of the comparison period: the previous book's date, else one month earlier."""
    return previous_date if previous_date is not None else months_before(as_of, 1)


def _adverse_reasons(book: pd.DataFrame, language: str) -> pd.Series:
    """The top reasons, where the policy reduces the limit (the ``reduce_limit`` action)."""
    sep = "; " if language == "en" else "；"
    cols = sorted(c for c in book.columns if c.startswith("reason_") and c[7:].isdigit())
    texts = book[cols].fillna("").apply(lambda r: sep.join(t for t in r if t), axis=1)
    lower = book["action_codes"].fillna("").str.split("; ").map(lambda a: "reduce_limit" in a)
    return texts.where(lower.astype(bool), "")


def _check_scale(book: pd.DataFrame, scale: MasterScale | None) -> None:
    scored = book[book["status"] == SCORED]
    if scale is None or scored.empty:
        return
    differ = scale.assign(scored["pd_12m"].to_numpy(float)) != scored["grade"].to_numpy(int)
    if differ.any():
        raise StageError(
            f"the master scale (configs/master_scale.yaml) gives {int(differ.sum())} customers "
            "another grade than the scoring model does: retrain, or restore the scale"
        )


def _unscored(
    inputs: Inputs, scored_ids: pd.Series, as_of: pd.Timestamp, language: str
) -> pd.DataFrame:
    """The book's customers not scored: why, sector, region, and when the defaulted defaulted."""
    set_aside = rejected_customers(inputs.paths.validation_rejects("customers"), language)
    tables = {"invoices": inputs.invoices, "events": inputs.events, **(inputs.facts or {})}
    at = inputs.customers[["customer_id"]].assign(as_of_date=as_of)
    last = last_fact_dates({n: t for n, t in tables.items() if t is not None}, at)
    explained = explain_unscored(
        inputs.customers, scored_ids, inputs.defaults, as_of, set_aside, language,
        last.set_axis(inputs.customers["customer_id"]), inputs.max_fact_age_months,
    )  # fmt: skip
    first = inputs.defaults.sort_values("default_date").drop_duplicates("customer_id")
    first = first[pd.to_datetime(first["default_date"]) <= as_of].set_index("customer_id")
    book = inputs.customers.set_index("customer_id")
    out = explained.rename(columns={"reason": "reject_reason"})
    out["industry"] = out["customer_id"].map(book["industry"]) if "industry" in book else None
    out["region"] = out["customer_id"].map(book["region"]) if "region" in book else None
    when = first[["default_date", "default_trigger"]].reset_index()
    return out.merge(when, on="customer_id", how="left", validate="many_to_one")


FACT_TABLES = ("financials", "attributes", "defaults")  # besides invoices and events
# snapshot feature -> book column (scores.csv): the feature value itself, as the model saw it
SHOWN_FEATURES = {"dso_days": "dso_days", "days_late_wavg_12m": "days_late_avg_12m"}
_SKIPPED = {
    "invoices": "exposure, expected loss and overdue alerts left empty",
    "events": "no event alerts",
}
