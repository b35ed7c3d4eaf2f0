"""Lifetime expected credit loss of open receivables (IFRS 9 simplified approach), provision matrix.

**Lifetime ECL.** Each invoice open at the as-of date (``models.receivables.open_at``) lives
until it is expected to be paid: its days to the due date (0 when already overdue) plus the
customer's *expected delay* in days. The delay is one argument (:func:`invoice_ecl`): for now
the customer's own amount-weighted average days late over the last 12 months (the point-in-time
feature ``days_late_wavg_12m``, the book's ``days_late_avg_12m``), and for a customer with no
such history its sector's median (:func:`expected_delay`); a per-invoice expected pay date can
take its place. The PD over that life comes from the customer's cumulative term structure
``pd_1m .. pd_Hm`` (:func:`pd_over`): linear between the month points
(``models.hazard.interpolate_terms``), and beyond ``H`` months the last month's marginal hazard
held constant. ``ECL = amount x PD(life) x LGD``. A customer's ``ecl_lifetime`` is the sum over
its open invoices (0 with none open); a customer in default loses ``LGD x exposure`` (PD 1), as
its 12-month expected loss already says.

**Provision matrix** (the auditors' view, from the book's own history). At every past month end
whose outcome is known (``horizon`` months before the data's end), each invoice open then of a
customer not yet in default falls in an ageing bucket (``models.receivables.AGEING_BUCKETS``);
it is *lost* when its customer defaults within ``horizon`` months with the invoice still unpaid
on the default date. A bucket's historical loss rate is ``LGD x lost amount / amount``
(amount-weighted over all month ends), with a percentile interval from resampling whole
customers (a customer's invoices and month ends move together: they share one outcome). A bucket
with no loss in its history has the interval [0, 0]: the resampling cannot see beyond the data.
The rates applied to the current open receivables by bucket give the provision, beside the
model's lifetime ECL of the same invoices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.bootstrap import _bootstrap_weights, percentile_interval
from models.hazard import DAYS_PER_MONTH, interpolate_terms
from models.receivables import AGEING_BUCKETS, ageing_bucket, open_at

BUCKETS = [label for label, _, _ in AGEING_BUCKETS]
_INVOICES = ["customer_id", "issue_date", "due_date", "amount", "paid_date"]


def pd_over(cumulative: np.ndarray, months: np.ndarray) -> np.ndarray:
    """PD within ``months`` (fractional) of each row of the cumulative PDs ``(n, H)``.

    Up to ``H`` months: linear between the month points (``F(0) = 0``). Beyond: the marginal
    hazard of month ``H``, ``1 - (1 - F(H)) / (1 - F(H - 1))``, held for every further month:
    ``F(m) = 1 - (1 - F(H)) x (1 - h_H) ** (m - H)``.
    """
    cumulative = np.asarray(cumulative, float)
    months = np.asarray(months, float)
    if cumulative.ndim != 2 or cumulative.shape[0] != months.shape[0]:
        raise ValueError(f"need (n, H) PDs and n lives, got {cumulative.shape} and {months.shape}")
    if (months < 0).any():
        raise ValueError("a remaining life must not be negative")
    last = cumulative[:, -1]
    before = cumulative[:, -2] if cumulative.shape[1] > 1 else np.zeros(len(cumulative))
    survive = np.divide(1 - last, 1 - before, out=np.zeros_like(last), where=before < 1)
    beyond = np.clip(months - cumulative.shape[1], 0, None)
    within = interpolate_terms(cumulative, months)
    return 1 - (1 - within) * np.clip(survive, 0, 1) ** beyond


def expected_delay(days_late: pd.Series, sector: pd.Series) -> pd.Series:
    """Each customer's expected delay in days: its own average days late, else its sector's.

    Args:
        days_late: Per customer, the amount-weighted average days late over the last 12 months
            (NaN: no invoice due in them).
        sector: Per customer (same index), its sector.

    Returns:
        ``days_late`` with a missing value filled by the sector's median, else the median of
        all customers, else 0 (nobody has a history); never negative.
    """
    if not days_late.index.equals(sector.index):
        raise ValueError("days_late and sector must have the same index")
    days = pd.to_numeric(days_late, errors="coerce").astype(float)
    by_sector = days.groupby(sector.fillna("unknown")).transform("median")
    overall = days.median()
    return days.fillna(by_sector).fillna(0.0 if np.isnan(overall) else overall).clip(lower=0)


def invoice_ecl(
    invoices: pd.DataFrame, as_of: pd.Timestamp, terms: pd.DataFrame, delay: pd.Series, lgd: float
) -> pd.DataFrame:
    """Lifetime ECL of each invoice open at ``as_of`` of the customers in ``terms``.

    Args:
        invoices: The ledger (``customer_id``, ``issue_date``, ``due_date``, ``amount``,
            ``paid_date``); only what was known at ``as_of`` counts.
        as_of: The month end.
        terms: Indexed by ``customer_id``: the cumulative PDs ``pd_1m .. pd_Hm``.
        delay: Indexed by ``customer_id``: expected days paid after the due date
            (:func:`expected_delay`); every customer of ``terms`` needs one.
        lgd: Loss given default, in (0, 1].

    Returns:
        One row per open invoice of those customers: ``customer_id``, ``amount``,
        ``days_past_due``, ``bucket``, ``life_months``, ``pd_life``, ``ecl``.
    """
    missing = [c for c in _INVOICES if c not in invoices]
    if missing:
        raise KeyError(f"invoices lack columns {missing}")
    if not 0 < lgd <= 1:
        raise ValueError(f"lgd must lie in (0, 1], got {lgd}")
    columns = term_columns(terms)
    lacking = terms.index.difference(delay.dropna().index)
    if len(lacking):
        raise ValueError(f"no expected delay for customers {list(lacking[:5])}")
    held = open_at(invoices[invoices["customer_id"].isin(terms.index)], pd.Timestamp(as_of))
    days = held["days_past_due"].to_numpy(float)
    ids = held["customer_id"]
    life = (np.clip(-days, 0, None) + delay.reindex(ids).to_numpy(float)) / DAYS_PER_MONTH
    pd_life = pd_over(terms.loc[ids, columns].to_numpy(float), life)
    amount = held["amount"].to_numpy(float)
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "amount": amount,
            "days_past_due": days,
            "bucket": ageing_bucket(days),
            "life_months": life,
            "pd_life": pd_life,
            "ecl": amount * pd_life * lgd,
        }
    )


def customer_ecl(per_invoice: pd.DataFrame, customer_ids: pd.Index) -> pd.Series:
    """Each customer's lifetime ECL: the sum over its open invoices (0 with none open)."""
    sums = per_invoice.groupby("customer_id")["ecl"].sum()
    return sums.reindex(customer_ids, fill_value=0.0).rename("ecl_lifetime")


def term_columns(terms: pd.DataFrame) -> list[str]:
    """The ``pd_<k>m`` columns of ``terms``, ``k = 1..H`` in order; every one required."""
    found = sorted(
        (int(c[3:-1]), c) for c in terms.columns
        if c.startswith("pd_") and c.endswith("m") and c[3:-1].isdigit()
    )  # fmt: skip
    if not found or [k for k, _ in found] != list(range(1, len(found) + 1)):
        raise KeyError(f"need the term structure pd_1m .. pd_Hm, got {[c for _, c in found]}")
    return [c for _, c in found]


def outcome_months(
    invoices: pd.DataFrame, data_end: pd.Timestamp, horizon: int
) -> pd.DatetimeIndex:
    """Month ends from the ledger's first to ``horizon`` months before ``data_end``."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    if invoices.empty:
        return pd.DatetimeIndex([])
    first = pd.Timestamp(invoices["issue_date"].min()) + pd.offsets.MonthEnd(0)
    last = pd.Timestamp(data_end) + pd.offsets.MonthEnd(0) - pd.offsets.MonthEnd(horizon)
    return pd.date_range(first, last, freq="ME")


def loss_history(
    invoices: pd.DataFrame, defaults: pd.DataFrame, month_ends: pd.DatetimeIndex, horizon: int
) -> pd.DataFrame:
    """Every invoice open at each of ``month_ends``, its ageing bucket then and whether it was lost.

    Customers already in default at a month end are left out of it (their receivables are
    provided for one by one, at ``LGD x exposure``).

    Args:
        invoices: The ledger with its real payment dates (the outcome is read from them).
        defaults: ``customer_id``, ``default_date``: defaults known by the data's end (the first
            per customer counts).
        month_ends: Month ends whose ``horizon``-month outcome is known (:func:`outcome_months`).
        horizon: Months in which a default makes an open invoice lost.

    Returns:
        ``month``, ``customer_id``, ``bucket``, ``amount``, ``lost`` (the amount where the
        customer defaulted within ``horizon`` months with the invoice unpaid then, else 0).
    """
    missing = [c for c in _INVOICES if c not in invoices]
    if missing:
        raise KeyError(f"invoices lack columns {missing}")
    ledger = invoices[_INVOICES].reset_index(drop=True)
    first = pd.to_datetime(defaults.groupby("customer_id")["default_date"].min())
    parts = []
    for t in month_ends:
        held = open_at(ledger, t)
        default = pd.to_datetime(held["customer_id"].map(first))
        held, default = held[~(default <= t)], default[~(default <= t)]
        paid = ledger.loc[held.index, "paid_date"]  # the real payment, after t
        lost = (default <= t + pd.offsets.MonthEnd(horizon)) & ~(paid <= default)
        amount = held["amount"].astype(float)
        parts.append(
            pd.DataFrame(
                {"month": t, "customer_id": held["customer_id"].to_numpy(),
                 "bucket": ageing_bucket(held["days_past_due"]), "amount": amount.to_numpy(),
                 "lost": amount.where(lost, 0.0).to_numpy()}
            )
        )  # fmt: skip
    columns = ["month", "customer_id", "bucket", "amount", "lost"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def loss_rates(
    history: pd.DataFrame, lgd: float, n_boot: int = 200, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Historical loss rate per ageing bucket, ``LGD x lost / amount``, with its interval.

    The interval is the central ``level`` percentile interval of the rate over ``n_boot``
    resamples of whole customers (seeded).

    Returns:
        Indexed by bucket (every one of :data:`BUCKETS`): ``invoices`` (invoice-month ends),
        ``customers``, ``amount``, ``lost``, ``loss_rate``, ``low``, ``high`` (NaN: no history).
    """
    if not 0 < lgd <= 1:
        raise ValueError(f"lgd must lie in (0, 1], got {lgd}")
    grouped = history.groupby(["customer_id", "bucket"])[["amount", "lost"]].sum()
    amount = grouped["amount"].unstack(fill_value=0.0).reindex(columns=BUCKETS, fill_value=0.0)
    lost = grouped["lost"].unstack(fill_value=0.0).reindex(columns=BUCKETS, fill_value=0.0)
    by = history.groupby("bucket")
    out = pd.DataFrame(
        {"invoices": by.size(), "customers": by["customer_id"].nunique()}
    ).reindex(BUCKETS, fill_value=0)  # fmt: skip
    out["amount"], out["lost"] = amount.sum().to_numpy(), lost.sum().to_numpy()
    out["loss_rate"] = lgd * out["lost"] / out["amount"].where(out["amount"] > 0)
    out["low"], out["high"] = np.nan, np.nan
    if len(amount):
        weights = _bootstrap_weights(len(amount), None, n_boot, seed)  # customers resampled
        drawn_amount, drawn_lost = weights @ amount.to_numpy(), weights @ lost.to_numpy()
        rates = lgd * np.divide(drawn_lost, drawn_amount, out=np.full_like(drawn_lost, np.nan),
                                where=drawn_amount > 0)  # fmt: skip
        for i, bucket in enumerate(BUCKETS):
            drawn = rates[:, i][~np.isnan(rates[:, i])]
            if drawn.size:
                out.loc[bucket, ["low", "high"]] = percentile_interval(drawn, level)
    return out


def provision_matrix(rates: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The historical rates (:func:`loss_rates`) applied to the open receivables by bucket.

    Args:
        rates: Per bucket: ``loss_rate``, ``low``, ``high``.
        current: The open invoices now: ``bucket``, ``amount`` and, where the model's lifetime
            ECL is known, ``ecl`` (:func:`invoice_ecl`).

    Returns:
        Indexed by bucket (every one of :data:`BUCKETS`): ``invoices``, ``amount``,
        ``loss_rate``, ``low``, ``high``, ``provision`` (= rate x amount), ``provision_low``,
        ``provision_high``, ``model_ecl`` (NaN without ``ecl``).
    """
    by = current.groupby("bucket")
    out = pd.DataFrame({"invoices": by.size(), "amount": by["amount"].sum()})
    out = out.reindex(BUCKETS).fillna({"invoices": 0, "amount": 0.0})
    out = out.join(rates[["loss_rate", "low", "high"]])
    for name, rate in (
        ("provision", "loss_rate"),
        ("provision_low", "low"),
        ("provision_high", "high"),
    ):
        out[name] = out[rate] * out["amount"]
    has_ecl = "ecl" in current
    out["model_ecl"] = by["ecl"].sum().reindex(BUCKETS).fillna(0.0) if has_ecl else np.nan
    return out.astype({"invoices": int})
