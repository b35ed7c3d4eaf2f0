"""The payment-timing model on the IBM accounts-receivable sample, leak-free, against its anchors.

Usage (from the repository root, with the project's venv):
    python bench/payment_timing_ibm.py [--out /tmp/ibm_timing.json]

The data (``ibm_ar_late_payment``: 2,466 settled invoices of 100 customers, 2012-2013; in
../shared/data or where ``python -m pipelines.fetch_public`` puts it) is read by the ingest's
own adapter (``pipelines.sources.adapters.adapt_ibm_ar``): invoice, customer, issue and due
dates, amount, dispute flag, and the settlement date as the payment. The usual notebooks on it
predict ``DaysLate`` from ``DaysToSettle`` (the target itself); here nothing that is known only
at settlement is an input (no ``DaysToSettle``, ``DaysLate`` or ``SettledDate``): at each month
end the open invoices carry what was known then (amount, age, days to due, terms, dispute flag)
and the customer's habits from the invoices settled by then (``customer_habits``), as the
collections stage's model does; there are no customer features (no snapshots: no defaults).

The evaluation is the collections stage's (``pipelines.book.collections_report``): the model
fitted on the month ends before the cutoff with the payments known by it, judged on the latest
month ends whose 13 weeks of payments are observed, against the customer's own habit (anchor 1)
and the ageing buckets' rates (anchor 2), same invoices, same run. Absent data: says so, exit 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.book.collections_report import evaluate_out_of_time  # noqa: E402
from pipelines.collections import fit_model  # noqa: E402
from pipelines.runtime.config import CollectionsConfig  # noqa: E402
from pipelines.sources.adapters import adapt_ibm_ar  # noqa: E402
from pipelines.sources.public import SOURCES  # noqa: E402

SOURCE = "ibm_ar_late_payment"
FOLDERS = (ROOT.parent / "shared" / "data" / SOURCE, ROOT / "data" / "public" / SOURCE)
# small data: 13 weeks cover every payment (at most 45 days late on 30-day terms)
SETTINGS = CollectionsConfig(horizon_weeks=13, forecast_weeks=13, train_months=12, test_months=9,
                             min_child_samples=20, num_leaves=7, negative_share=1.0)  # fmt: skip


def month_snapshots(invoices: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and month end from its first invoice on (no features, no default)."""
    first = invoices.groupby("customer_id")["issue_date"].min()
    ends = pd.date_range(first.min(), invoices["issue_date"].max(), freq="ME")
    rows = [(c, e) for c, start in first.items() for e in ends if e >= start]
    frame = pd.DataFrame(rows, columns=["customer_id", "as_of_date"])
    return frame.assign(default_date=pd.NaT)


def evaluate(invoices: pd.DataFrame, opts: CollectionsConfig = SETTINGS) -> dict:
    """The collections stage's out-of-time evaluation on ``invoices`` (no customer features)."""
    snapshots = month_snapshots(invoices)
    ends = sorted(pd.to_datetime(snapshots["as_of_date"]).unique())
    fit = lambda rows, until: fit_model(rows, until, [], opts)  # noqa: E731
    return evaluate_out_of_time(invoices, snapshots, [pd.Timestamp(e) for e in ends], [], opts, fit)


def table(result: dict) -> str:
    """The figures of the model and the anchors, one line each."""
    evaluation, wape = result["evaluation"], result["cash_backtest"]["wape"]
    lines = [f"{'':24} {'MAE days':>9} {'bucket':>7} {'C':>6} {'AUC by due':>10} {'ECE':>6} "
             f"{'WAPE':>6}"]  # fmt: skip
    for name in ("model", "anchor_customer_habit", "anchor_ageing_buckets"):
        m = evaluation[name]
        by_due = m["paid_by_due"]
        lines.append(
            f"{name:24} {m['pay_date_mae_days']:9.2f} {m['bucket_accuracy']:7.1%} "
            f"{m['concordance']:6.3f} {by_due['auc'] or float('nan'):10.3f} "
            f"{by_due['ece'] or float('nan'):6.3f} {wape[name]:6.1%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: the evaluation's table, and the figures as JSON with ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the figures (JSON) here")
    args = parser.parse_args(argv)
    found = [f / SOURCES[SOURCE] for f in FOLDERS if (f / SOURCES[SOURCE]).is_file()]
    if not found:
        print(f"no {SOURCE} data in {[str(f) for f in FOLDERS]}: nothing to measure")
        return
    raw = pd.read_csv(found[0], dtype={"invoiceNumber": str})
    invoices = adapt_ibm_ar(raw).tables["invoices"]
    result = evaluate(invoices)
    evaluation = result["evaluation"]
    print(f"{SOURCE}: trained on {evaluation['train_month_ends']} (payments known by "
          f"{evaluation['cutoff']}), judged on {evaluation['invoices']} invoices open at "
          f"{evaluation['test_month_ends'][0]}..{evaluation['test_month_ends'][-1]}")  # fmt: skip
    print(table(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
