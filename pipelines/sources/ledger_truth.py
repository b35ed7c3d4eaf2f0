"""The synthetic ledger's true payment timing, and the oracle it gives at any month end.

How the generator (``pipelines.sources.synthetic_records.make_invoices``) pays an invoice: the
customer means to pay it ``round(center + e + u)`` days late, clipped to
``[1 - terms, MAX_DAYS_LATE]``, where ``center`` (:func:`delay_center`) follows the customer's
habit and its health in the issue month, ``e ~ N(0, DELAY_SD)`` and ``u ~ U(DISPUTE_DAYS)``
for a disputed invoice (0 otherwise); it pays on its next payment run, in two parts with
``true_p_partial`` (the rest ``REST_DAYS`` later, which settles it; see
``pipelines.sources.ledger_behaviours``); and nothing it meant to pay from the first day of
the customer's distress month on is paid (what it meant to pay before is, on its run days, the
rest of a split included). Everything but the draws and the future distress is known when
the invoice is issued, so the table of :func:`invoice_truth` holds, per invoice, the parameters
of its settlement and the expected days late at settlement (``true_expected_delay_days``, given
that it is paid); the synthetic ``truth`` table holds each customer's chance of being in
distress by the end of each month ahead (``true_distress_<k>m``).

:func:`oracle_days` puts the two together for the invoices open at a month end ``t``: the
probability of settlement on each day after ``t``, given the invoice was still open at ``t``
(and whether a first part was paid by then, where the payments are given) and that the customer
is not in distress by the month of the pay date (exact for a payment made in the month it was
meant; a weekly run across a month end, the year-end pull or a rest 30 days on read the distress
a month later than the one that decides: slightly too low).
``models.payment_distribution.daily_outputs`` reads off it what ``timing_outputs`` gives for
the model, exactly (no weekly grid);
:func:`oracle_cumulative` the weekly cumulative the model's cash-in forecast takes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from pipelines.sources.ledger_behaviours import (
    REST_DAYS,
    RUN_TYPES,
    latest_meant,
    pay_dates,
)

DELAY_SD = 4.0  # days: the noise of a payment around the customer's center
DISPUTE_DAYS = (15.0, 40.0)  # a disputed invoice is paid this many days later (uniform)
MAX_DAYS_LATE = 85  # healthy customers' delays stay below 90 days past due
TRUTH_COLUMNS = [
    "true_delay_center", "true_dispute_days_low", "true_dispute_days_high", "true_delay_min",
    "true_delay_max", "true_run_type", "true_run_weekday", "true_p_partial",
    "true_expected_delay_days", "true_p_paid_by_due",
]  # fmt: skip
CHUNK = 20_000  # invoices per block of the daily matrices


def delay_center(habit: np.ndarray, health: np.ndarray) -> np.ndarray:
    """Expected days late before noise and dispute: the habit, plus more the worse the health."""
    return habit + 5 + 10 * np.log1p(np.exp(1.2 * (0.5 - health)))


def invoice_truth(
    invoices: pd.DataFrame,
    center: np.ndarray,
    disputed: np.ndarray,
    habits: pd.DataFrame,
    p_partial: np.ndarray,
) -> pd.DataFrame:
    """The true settlement distribution of each invoice as known at issue.

    Args:
        invoices: The ledger rows (``invoice_id``, ``customer_id``, ``issue_date``,
            ``due_date``), aligned to the arrays.
        center: :func:`delay_center` of each invoice.
        disputed: Whether each invoice is disputed.
        habits: Each invoice's customer's ``run_type`` and ``run_weekday``
            (``ledger_behaviours.draw_payment_habits``).
        p_partial: Each invoice's chance of being paid in two parts.

    Returns:
        ``invoice_id``, ``customer_id``, ``issue_date``, ``due_date`` and
        :data:`TRUTH_COLUMNS`: the center, the dispute's extra days (0..0 when not disputed),
        the clip bounds of the days late meant, the payment run (``any_day``, ``month_end``,
        ``weekly``; the weekday 0..4 of a weekly run, else -1), the chance of a partial
        payment, the expected days late at settlement and P(settled by the due date), both
        given that it is paid.
    """
    terms = (invoices["due_date"] - invoices["issue_date"]).dt.days.to_numpy()
    truth = pd.DataFrame(
        {
            "invoice_id": invoices["invoice_id"].to_numpy(),
            "customer_id": invoices["customer_id"].to_numpy(),
            "issue_date": invoices["issue_date"].to_numpy(),
            "due_date": invoices["due_date"].to_numpy(),
            "true_delay_center": np.asarray(center, float),
            "true_dispute_days_low": np.where(disputed, DISPUTE_DAYS[0], 0.0),
            "true_dispute_days_high": np.where(disputed, DISPUTE_DAYS[1], 0.0),
            "true_delay_min": (1 - terms).astype(np.int64),
            "true_delay_max": np.int64(MAX_DAYS_LATE),
            "true_run_type": np.asarray(RUN_TYPES)[habits["run_type"].to_numpy()],
            "true_run_weekday": habits["run_weekday"].to_numpy().astype(np.int64),
            "true_p_partial": np.asarray(p_partial, float),
        }
    )
    mean, by_due = np.empty(len(truth)), np.empty(len(truth))
    for start in range(0, len(truth), CHUNK):
        part = truth.iloc[start : start + CHUNK]
        # the days late meant within -25..+65 of the center hold all but ~1e-9 of the mass
        meant = np.floor(part["true_delay_center"].to_numpy())[:, None] + np.arange(-25, 66)
        pmf = delay_pmf(part, meant)
        late = (_settled_late(part, meant, 0), _settled_late(part, meant, REST_DAYS))
        p = part["true_p_partial"].to_numpy()[:, None]
        mean[start : start + CHUNK] = (pmf * ((1 - p) * late[0] + p * late[1])).sum(axis=1)
        early = (1 - p) * (late[0] <= 0) + p * (late[1] <= 0)
        by_due[start : start + CHUNK] = (pmf * early).sum(axis=1)
    return truth.assign(true_expected_delay_days=mean, true_p_paid_by_due=by_due)


def settled_by(truth: pd.DataFrame, dates: np.ndarray, rest: bool | None = None) -> np.ndarray:
    """P(an invoice of ``truth`` is settled by ``dates``) ``(n, k)``, distress aside.

    ``rest``: ``None``: either way (weighted by ``true_p_partial``); ``True`` / ``False``: given
    it is / is not paid in two parts.
    """
    meant = _latest_meant(truth, dates)
    whole = clipped_cdf(truth, meant + 0.5)
    parts = clipped_cdf(truth, meant - REST_DAYS + 0.5)
    if rest is not None:
        return parts if rest else whole
    p = truth["true_p_partial"].to_numpy(float)[:, None]
    return (1 - p) * whole + p * parts


def _settled_late(truth: pd.DataFrame, meant: np.ndarray, later: int) -> np.ndarray:
    """Days late of the payment made for ``meant`` days late (plus ``later`` days)."""
    due = truth["due_date"].to_numpy("datetime64[D]")[:, None]
    run = pd.Index(RUN_TYPES).get_indexer(truth["true_run_type"])[:, None]
    days = (meant + later).astype(np.int64) * np.timedelta64(1, "D")
    issue = truth["issue_date"].to_numpy("datetime64[D]")[:, None]
    paid = pay_dates(due + days, due, issue, run, truth["true_run_weekday"].to_numpy()[:, None])
    return (paid - due).astype(np.int64)


def _latest_meant(truth: pd.DataFrame, dates: np.ndarray) -> np.ndarray:
    run = pd.Index(RUN_TYPES).get_indexer(truth["true_run_type"])
    return latest_meant(
        dates,
        truth["due_date"].to_numpy("datetime64[D]")[:, None],
        truth["issue_date"].to_numpy("datetime64[D]")[:, None],
        run[:, None],
        truth["true_run_weekday"].to_numpy()[:, None],
    )


def delay_pmf(truth: pd.DataFrame, late: np.ndarray) -> np.ndarray:
    """P(days late == ``late``) per row of ``truth`` (rounded, clipped).

    ``late``: ``(n, k)``, each row consecutive integers.
    """
    return np.diff(clipped_cdf(truth, np.hstack([late[:, :1] - 0.5, late + 0.5])), axis=1)


def clipped_cdf(truth: pd.DataFrame, edges: np.ndarray) -> np.ndarray:
    """P(days late < ``edges``) per row of ``truth``, ``edges`` (n, k) halfway between days."""
    lo = truth["true_delay_min"].to_numpy(float)[:, None]
    hi = truth["true_delay_max"].to_numpy(float)[:, None]
    inside = _cdf(truth, np.clip(edges, lo - 1, hi + 1))  # no infinite edge inside
    return np.where(edges < lo, 0.0, np.where(edges > hi, 1.0, inside))


def _cdf(truth: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """P(center + e + u <= x) per row: the normal, or the normal convolved with the uniform."""
    y = (x - truth["true_delay_center"].to_numpy(float)[:, None]) / DELAY_SD
    a = truth["true_dispute_days_low"].to_numpy(float) / DELAY_SD
    b = truth["true_dispute_days_high"].to_numpy(float) / DELAY_SD
    out = ndtr(y)
    spread = b > a
    if spread.any():  # the integral of the normal cdf over the uniform: z Phi(z) + phi(z)
        ys, a, b = y[spread], a[spread, None], b[spread, None]
        out[spread] = (_antiderivative(ys - a) - _antiderivative(ys - b)) / (b - a)
    return out


def _antiderivative(z: np.ndarray) -> np.ndarray:
    return z * ndtr(z) + np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)


def oracle_days(
    rows: pd.DataFrame,
    invoice_truth: pd.DataFrame,
    truth: pd.DataFrame,
    days: int,
    payments: pd.DataFrame | None = None,
) -> np.ndarray:
    """P(settled on day ``j`` after the row's month end), ``j = 1..days``, ``(n, days)``.

    Args:
        rows: Invoices open at their ``as_of_date`` (a month end): ``invoice_id``,
            ``customer_id``, ``as_of_date``.
        invoice_truth: :func:`invoice_truth` of the ledger.
        truth: The synthetic truth per customer and month end with ``true_distress_<k>m``.
        days: Days after the month end covered; the rest of the mass is never paid within them.
        payments: The payments table, if the oracle may know which invoices had a first part
            paid by the month end (``None``: it weighs both).

    Raises:
        KeyError: An invoice or a customer-month of ``rows`` has no truth.
    """
    known = _aligned(rows, invoice_truth)
    as_of = pd.to_datetime(rows["as_of_date"]).to_numpy("datetime64[D]")
    part_paid = _part_paid(rows, payments)
    survive = 1 - _distress_by_day(rows, truth, days)
    out = np.empty((len(rows), days))
    for start in range(0, len(rows), CHUNK):
        part = slice(start, start + CHUNK)
        dates = as_of[part, None] + np.arange(days + 1) * np.timedelta64(1, "D")
        whole = settled_by(known.iloc[part], dates, rest=False)
        rest = settled_by(known.iloc[part], dates, rest=True)
        cdf = _given_open(whole, rest, known["true_p_partial"].to_numpy()[part], part_paid[part])
        # a first part paid by t was meant before any distress: the rest is paid whatever comes
        alive = np.where(part_paid[part, None] == 1, 1.0, survive[part])
        out[part] = np.diff(cdf, axis=1) * alive
    return out


def _given_open(
    whole: np.ndarray, rest: np.ndarray, p: np.ndarray, part_paid: np.ndarray
) -> np.ndarray:
    """P(settled by each date | open at the first), from the two ways of paying.

    ``part_paid``: 1 a first part was paid by then, 0 nothing was, NaN not known.
    """
    a, b = whole[:, :1], rest[:, :1]  # P(meant by the as-of date), and its rest by it
    p = p[:, None]
    unknown = ((1 - p) * (whole - a) + p * (rest - b), (1 - p) * (1 - a) + p * (1 - b))
    nothing = ((1 - p) * (whole - a) + p * np.maximum(rest - a, 0), 1 - a)
    first = (np.minimum(rest, a) - b, a - b)
    flag = part_paid[:, None]
    num = np.where(np.isnan(flag), unknown[0], np.where(flag == 1, first[0], nothing[0]))
    den = np.where(np.isnan(flag), unknown[1], np.where(flag == 1, first[1], nothing[1]))
    return np.divide(num, den, out=np.zeros_like(num), where=den > 1e-12)


def _part_paid(rows: pd.DataFrame, payments: pd.DataFrame | None) -> np.ndarray:
    """1 where an invoice open at its month end had a payment by then, 0 where not; NaN: unknown."""
    if payments is None:
        return np.full(len(rows), np.nan)
    first = payments.groupby("invoice_id")["payment_date"].min()
    paid = first.reindex(rows["invoice_id"].to_numpy()).to_numpy()
    return (paid <= pd.to_datetime(rows["as_of_date"]).to_numpy()).astype(float)


def _aligned(rows: pd.DataFrame, invoice_truth: pd.DataFrame) -> pd.DataFrame:
    keyed = invoice_truth.set_index("invoice_id")
    missing = ~rows["invoice_id"].isin(keyed.index)
    if missing.any():
        raise KeyError(
            f"invoice_truth lacks {int(missing.sum())} invoices, e.g. "
            f"{rows.loc[missing, 'invoice_id'].head(3).tolist()}"
        )
    columns = ["issue_date", "due_date", *TRUTH_COLUMNS]
    return keyed.loc[rows["invoice_id"].to_numpy(), columns].reset_index(drop=True)


def _distress_by_day(rows: pd.DataFrame, truth: pd.DataFrame, days: int) -> np.ndarray:
    """P(customer in distress by the end of the month holding day ``j``), ``(n, days)``."""
    curve = sorted((c for c in truth if c.startswith("true_distress_")), key=_months)
    keys = ["customer_id", "as_of_date"]
    table = truth[[*keys, *curve]].assign(
        customer_id=truth["customer_id"].astype(str),
        as_of_date=pd.to_datetime(truth["as_of_date"]).astype("datetime64[ns]"),
    )
    wanted = pd.DataFrame(
        {"customer_id": rows["customer_id"].astype(str).to_numpy(),
         "as_of_date": pd.to_datetime(rows["as_of_date"]).astype("datetime64[ns]").to_numpy()}
    )  # fmt: skip
    joined = wanted.merge(table, on=keys, how="left", validate="many_to_one")
    if joined[curve[0]].isna().any():
        gap = joined.loc[joined[curve[0]].isna(), keys].drop_duplicates().head(3)
        raise KeyError(f"truth lacks the distress curve of {gap.to_dict('records')}")
    ahead = np.empty((len(rows), days), np.int64)
    as_of = pd.to_datetime(rows["as_of_date"]).to_numpy()
    for t, at in pd.Series(as_of).groupby(as_of).indices.items():
        ahead[at] = _months_ahead(pd.Timestamp(t), days)
    values = joined[curve].to_numpy(float)
    return values[np.arange(len(rows))[:, None], np.clip(ahead, 1, len(curve)) - 1]


def _months_ahead(t: pd.Timestamp, days: int) -> np.ndarray:
    """The calendar month of each day ``t + j`` (``j = 1..days``), counted from ``t``'s (0)."""
    first_end = t + pd.offsets.MonthEnd(0)
    ends = pd.DatetimeIndex([first_end + pd.offsets.MonthEnd(k) for k in range(days // 28 + 2)])
    return np.searchsorted((ends - t).days.to_numpy(), np.arange(1, days + 1))


def _months(column: str) -> int:
    return int(column.removeprefix("true_distress_").removesuffix("m"))


def oracle_cumulative(daily: np.ndarray, weeks: int) -> np.ndarray:
    """P(paid within ``w`` weeks), ``w = 1..weeks``, from :func:`oracle_days`."""
    if daily.shape[1] < 7 * weeks:
        raise ValueError(f"{daily.shape[1]} days < {weeks} weeks")
    return np.cumsum(daily, axis=1)[:, 6 : 7 * weeks : 7]
