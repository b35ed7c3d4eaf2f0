"""The collections stage on a small ledger, and its section of the portfolio report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import collections, report
from pipelines.book.collections_eval import anchor_predictions
from pipelines.book.collections_report import evaluate_out_of_time
from pipelines.book.collections_worklist import COLLECTIONS_SCHEMA
from pipelines.io.paths import Paths
from pipelines.runtime.config import CollectionsConfig, Config

REPO = Path(__file__).parents[3]
AS_OF = pd.Timestamp("2024-12-31")
D = pd.Timedelta(1, "D")
SMALL = CollectionsConfig(horizon_weeks=8, forecast_weeks=4, train_months=4, test_months=2,
                          min_child_samples=5, num_leaves=7, negative_share=0.5)  # fmt: skip


def small_repo(root: Path) -> Paths:
    """40 customers over 2024 (habits: days late), their snapshots and the scored book."""
    rng = np.random.default_rng(3)
    paths = Paths(root)
    ends = pd.date_range("2024-01-31", AS_OF, freq="ME")
    ids = [f"C{c:02d}" for c in range(40)]
    habit = dict(zip(ids, rng.normal(8, 8, 40), strict=True))
    parts = []
    for c in ids:
        issue = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 360, 14)), "D")
        paid = issue + (30 + np.round(habit[c] + rng.normal(0, 3, 14))) * D
        parts.append(pd.DataFrame({"customer_id": c, "issue_date": issue, "due_date": issue + 30*D,
                                   "paid_date": paid.where(paid <= AS_OF),
                                   "amount": rng.uniform(100, 5000, 14)}))  # fmt: skip
    inv = pd.concat(parts, ignore_index=True)
    inv.insert(0, "invoice_id", [f"I{i:04d}" for i in range(len(inv))])
    inv = inv.assign(currency="EUR", paid_amount=inv["amount"], disputed=False)
    snaps = pd.DataFrame([(c, e, pd.NaT, habit[c], 30.0) for c in ids for e in ends],
                         columns=["customer_id", "as_of_date", "default_date",
                                  "days_late_wavg_12m", "payment_terms_days"])  # fmt: skip
    book = pd.DataFrame({"customer_id": ids, "name": [f"Firm {c}" for c in ids],
                         "status": ["scored"] * 39 + ["in_default"],
                         "grade": rng.integers(1, 11, 40),
                         "pd_12m": rng.uniform(0.001, 0.3, 40), "overdue_amount": 0.0,
                         "reason_1": "Pays late", "currency": "EUR"})  # fmt: skip
    for folder in (paths.validated, paths.snapshots.parent, paths.history, paths.reports):
        folder.mkdir(parents=True, exist_ok=True)
    inv.to_parquet(paths.validated_table("invoices"))
    snaps.to_parquet(paths.snapshots)
    book.to_parquet(paths.history / "2024-12-31.parquet")
    paths.scored_summary.write_text(json.dumps({"as_of_date": "2024-12-31"}))
    shutil.copytree(REPO / "configs", root / "configs")
    return paths


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Paths:
    paths = small_repo(tmp_path_factory.mktemp("collections"))
    collections.run(Config(collections=SMALL), paths)
    return paths


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])


def test_the_stage_writes_every_output(ran: Paths) -> None:
    work, invoices = read(ran.collections), read(ran.open_invoices)
    assert len(work) == len(invoices) > 0
    assert "C39" not in set(work["customer_id"])  # in default: in recovery, not on the list
    assert work["rank"].tolist() == list(range(1, len(work) + 1))
    assert work["expected_loss"].is_monotonic_decreasing
    assert len(read(ran.cash_forecast)) == 4
    assert set(read(ran.cash_forecast_customers)["customer_id"]) == set(invoices["customer_id"])


def test_the_report_has_the_evaluation_against_the_anchor(ran: Paths) -> None:
    figures = json.loads(ran.payment_timing.read_text())
    evaluation = figures["evaluation"]
    assert evaluation["test_month_ends"] == ["2024-09-30", "2024-10-31"]  # 8 weeks observed
    assert evaluation["cutoff"] == "2024-09-30"
    assert evaluation["train_month_ends"] == ["2024-05-31", "2024-08-31"]
    assert evaluation["fit"]["observed_until"] == "2024-09-30"  # nothing after the cutoff
    for who in ("model", "anchor_customer_habit", "anchor_ageing_buckets"):
        assert evaluation[who]["pay_date_mae_days"] >= 0
        assert 0 <= evaluation[who]["concordance"] <= 1
        assert 0 <= evaluation[who]["bucket_accuracy"] <= 1
    # the habits drive the payments here: the model ranks them, the ageing buckets cannot
    assert evaluation["model"]["concordance"] > evaluation["anchor_ageing_buckets"]["concordance"]
    assert set(figures["cash_backtest"]["by_month"]) == {"2024-09-30", "2024-10-31"}
    backtest = figures["cash_backtest"]
    assert (
        backtest["shock_sd"] >= 0 and backtest["coverage_80"] >= backtest["coverage_80_independent"]
    )
    assert set(figures["cash_backtest"]["wape"]) == {
        "model", "anchor_customer_habit", "anchor_ageing_buckets"
    }  # fmt: skip
    assert len(figures["dso"]) == 4 and len(figures["forecast"]["weeks"]) == 4
    assert figures["term_structure_check"] == {
        "skipped": "the scored book has no term structure (pd_1m..pd_12m)"
    }


def test_p_never_paid_stays_within_the_customers_pd(tmp_path) -> None:
    """With the term structure in the book: P(never paid) <= PD within 8 weeks, every invoice."""
    paths = small_repo(tmp_path)
    book = pd.read_parquet(paths.history / "2024-12-31.parquet")
    book["pd_12m"] = np.linspace(0.001, 0.95, len(book))
    for k in range(1, 13):
        book[f"pd_{k}m"] = book["pd_12m"] * k / 12
    book.to_parquet(paths.history / "2024-12-31.parquet")
    collections.run(Config(collections=SMALL), paths)
    invoices = read(paths.open_invoices).join(book.set_index("customer_id")["pd_12m"],
                                              on="customer_id")  # fmt: skip
    pd_8w = invoices["pd_12m"] * 8 * 7 / (365.25 / 12) / 12
    assert (invoices["p_never_paid"] <= pd_8w + 1e-4).all()  # 4 decimals in the CSV
    risky = invoices["pd_12m"] > invoices["pd_12m"].median()
    never = invoices.groupby(risky)["p_never_paid"].mean()
    assert never[True] > 1.5 * never[False]  # the PD drives it
    check = json.loads(paths.payment_timing.read_text())["term_structure_check"]
    assert check["share_above_pd"] == 0 and check["invoices"] == len(invoices)


def test_the_oracle_is_one_more_predictor(ran: Paths) -> None:
    invoices = pd.read_parquet(ran.validated_table("invoices"))
    snapshots = pd.read_parquet(ran.snapshots)
    ends = list(pd.date_range("2024-01-31", AS_OF, freq="ME"))
    features = ["days_late_wavg_12m"]
    fit = lambda rows, until: collections.fit_model(rows, until, features, SMALL)  # noqa: E731
    habit = lambda rows: (anchor_predictions(rows), None)  # noqa: E731
    result = evaluate_out_of_time(invoices, snapshots, ends, features, SMALL, fit, oracle=habit)
    evaluation = result["evaluation"]
    assert evaluation["oracle"] == evaluation["anchor_customer_habit"]
    wape = result["cash_backtest"]["wape"]
    assert wape["oracle"] == wape["anchor_customer_habit"]


def test_without_invoices_the_outputs_are_empty_and_say_why(tmp_path) -> None:
    paths = small_repo(tmp_path)
    paths.validated_table("invoices").unlink()
    collections.run(Config(collections=SMALL), paths)
    assert json.loads(paths.payment_timing.read_text())["skipped"] == "no invoices table"
    worklist = pd.read_csv(paths.collections, encoding="utf-8-sig")
    assert worklist.empty and list(worklist.columns) == list(COLLECTIONS_SCHEMA)  # headers only
    # and the report leaves the section out instead of failing on it
    assert report.collections_inputs(paths, AS_OF) is None


def test_a_book_of_one_month_end_has_nothing_to_learn_from(tmp_path) -> None:
    paths = small_repo(tmp_path)
    snapshots = pd.read_parquet(paths.snapshots)
    snapshots[snapshots["as_of_date"] == AS_OF].to_parquet(paths.snapshots)
    collections.run(Config(collections=SMALL), paths)
    figures = json.loads(paths.payment_timing.read_text())
    assert figures["skipped"] == "no earlier month end to learn from"


@pytest.mark.parametrize(("language", "heading"), [("en", "Collections and cash-in"),
                                                   ("zh", "催收与回款")])  # fmt: skip
def test_the_portfolio_report_shows_the_section(staged_copy, ran, language, heading) -> None:
    paths = staged_copy
    figures = json.loads(ran.payment_timing.read_text()) | {"as_of_date": "2024-12-31"}
    paths.payment_timing.write_text(json.dumps(figures))
    work = read(ran.collections)
    work.loc[work["rank"] <= 3, ["customer_id", "name"]] = ["C1", "<b>Alpha</b>"]
    work.to_csv(paths.collections, index=False)
    summary = json.loads(paths.scored_summary.read_text())
    paths.scored_summary.write_text(json.dumps({**summary, "language": language}))
    report.run(Config(), paths)
    html = paths.portfolio.read_text(encoding="utf-8")
    part = html[html.index('<section id="collections">') :]
    part = part[: part.index("</section>")]
    assert f"<h2>{heading}</h2>" in part
    lines = min(20, work["customer_id"].nunique())  # one line per customer
    assert part.count("<tr><td>") == lines and "<tr><td>1</td>" in part
    assert "<b>Alpha</b>" not in part and "&lt;b&gt;Alpha&lt;/b&gt;" in part
    assert "data:image/png;base64," in part
    assert ">nan<" not in part and "nan –" not in part  # an empty pay date shows as nothing


def test_a_report_without_collections_figures_leaves_the_section_out(staged_copy) -> None:
    report.run(Config(), staged_copy)
    assert 'id="collections"' not in staged_copy.portfolio.read_text(encoding="utf-8")
