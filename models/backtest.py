"""Grade back-test: does each master-scale grade default at the rate its PDs promise?

Per grade, the observed defaults are compared with the grade's mean PD by a two-sided Jeffreys
test (the test of the ECB's instructions for validating PD models): under the Jeffreys prior
``Beta(1/2, 1/2)`` the default rate's posterior is ``Beta(d + 1/2, n - d + 1/2)``, and the
p-value is twice the smaller of its tails beyond the mean PD.

The rows are monthly snapshots, so one customer is in up to one row per month of the window and
the labels of its neighbouring rows share most of their 12-month outcome window: they are not
independent trials. Counted as such they overstate the evidence several times over (on the
synthetic book the *true* PDs fail that naive test at 1% in three grades of ten). The test
therefore uses the effective sample of each grade: its distinct customers ``n_eff`` and its
defaults scaled to them, ``d * n_eff / n`` (Kish's design effect for rows of one customer taken
as fully dependent). It still treats customers as independent, so a year in which defaults
cluster (a downturn) can fail a well-calibrated grade: read a failure together with the
calibration over time.

A grade with fewer than ``min_customers`` customers is tested, but its observed rate is too
noisy to judge the ordering, so it is left out of the monotonicity check and flagged.

The grades are judged as one family: each grade's p-value is adjusted by Holm's step-down
method, and a grade fails when its adjusted p-value is below ``alpha``. Tested one by one at
1 %, ten calibrated grades would fail one of them about one run in ten by chance alone (on a
small book the gate then refused a calibrated model on a grade at p = 0.004); with Holm the
chance that a calibrated model fails any grade stays at most ``alpha``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta

from models.master_scale import MasterScale
from models.metrics import expected_calibration_error, grade_table

POSTERIOR_GRID = 2001  # points of the numerical integral in :func:`probability_lower`


def jeffreys_p_value(defaults: float, n: float, pd_value: float) -> float:
    """Two-sided Jeffreys p-value of ``defaults`` out of ``n`` against the PD ``pd_value``."""
    if n <= 0 or not 0 <= defaults <= n:
        raise ValueError(f"need 0 <= defaults <= n and n > 0, got {defaults} of {n}")
    if not 0 <= pd_value <= 1:
        raise ValueError(f"pd_value must lie in [0, 1], got {pd_value}")
    below = float(beta.cdf(pd_value, defaults + 0.5, n - defaults + 0.5))
    return min(1.0, 2 * min(below, 1 - below))


def jeffreys_interval(defaults: float, n: float, level: float) -> tuple[float, float]:
    """Jeffreys interval of the default rate; 0 (1) as the bound when no (every) row defaults."""
    if n <= 0 or not 0 <= defaults <= n:
        raise ValueError(f"need 0 <= defaults <= n and n > 0, got {defaults} of {n}")
    tail = (1 - level) / 2
    a, b = defaults + 0.5, n - defaults + 0.5
    low = 0.0 if defaults == 0 else float(beta.ppf(tail, a, b))
    high = 1.0 if defaults == n else float(beta.ppf(1 - tail, a, b))
    return low, high


def grade_backtest(
    y: np.ndarray,
    p: np.ndarray,
    grades: np.ndarray,
    scale: MasterScale,
    customers: np.ndarray,
    *,
    alpha: float = 0.01,
    min_customers: int = 30,
) -> pd.DataFrame:
    """Test every populated grade's observed default rate against its mean PD.

    Args:
        y: Observed outcomes, 0 or 1.
        p: Predicted PDs.
        grades: Grade of each row (``scale.assign(p)``).
        scale: The master scale.
        customers: Customer id of each row (for the effective sample).
        alpha: Significance level of the test (and ``1 - alpha`` is the interval's level).
        min_customers: Fewest customers for a grade to count in the monotonicity check.

    Returns:
        :func:`models.metrics.grade_table`'s columns plus ``customers``, ``effective_defaults``,
        ``ci_lower`` / ``ci_upper`` (the Jeffreys interval of the rate), ``p_value``,
        ``p_adjusted`` (Holm, over the grades tested), ``passed`` (``p_adjusted >= alpha``)
        and ``few_customers``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    table = grade_table(y, p, grades, scale)
    customers = np.asarray(customers)
    if customers.shape != np.shape(y):
        raise ValueError(f"customers must have one value per row, got {customers.shape}")
    frame = pd.DataFrame({"grade": np.asarray(grades).astype(int), "customer": customers})
    distinct = frame.groupby("grade")["customer"].nunique()
    table["customers"] = table["grade"].map(distinct).astype(int)
    table["effective_defaults"] = table["defaults"] * table["customers"] / table["count"]
    intervals, p_values = [], []
    for row in table.itertuples():
        intervals.append(jeffreys_interval(row.effective_defaults, row.customers, 1 - alpha))
        p_values.append(jeffreys_p_value(row.effective_defaults, row.customers, row.mean_pd))
    table["ci_lower"] = [lo for lo, _ in intervals]
    table["ci_upper"] = [hi for _, hi in intervals]
    table["p_value"] = p_values
    table["p_adjusted"] = holm_adjusted(table["p_value"].to_numpy())
    table["passed"] = table["p_adjusted"] >= alpha
    table["few_customers"] = table["customers"] < min_customers
    return table


def holm_adjusted(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (same order): the family-wise error stays at alpha.

    The ``i``-th smallest of ``m`` p-values is multiplied by ``m - i + 1`` (``i`` from 1), the
    products made non-decreasing in that order and capped at 1.
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted


def probability_lower(a: tuple[float, float], b: tuple[float, float]) -> float:
    """``P(X < Y)`` for ``X ~ Beta(*a)`` and ``Y ~ Beta(*b)``, independent (numerical integral).

    ``P(X < Y) = E[F_X(Y)]``, integrated over ``Y``'s quantiles on a fine grid.
    """
    u = (np.arange(POSTERIOR_GRID) + 0.5) / POSTERIOR_GRID
    return float(beta.cdf(beta.ppf(u, *b), *a).mean())


def monotonicity_breaks(table: pd.DataFrame, alpha: float = 0.01) -> list[tuple[int, int]]:
    """Pairs of neighbouring judged grades whose observed default rate shows a real drop.

    A drop counts when the data shows it, not when the noise of a small grade may give it: the
    riskier grade's default rate is below the safer one's with posterior probability above
    ``1 - alpha`` (the Jeffreys posteriors of the per-grade test, on the effective sample).

    Args:
        table: Output of :func:`grade_backtest`; grades flagged ``few_customers`` are skipped.
        alpha: Significance level (the back-test's).

    Returns:
        ``(safer_grade, riskier_grade)`` for each such drop; empty if monotone.
    """
    judged = table.loc[~table["few_customers"]].sort_values("grade")
    d, n = judged["effective_defaults"].to_numpy(), judged["customers"].to_numpy()
    rates, numbers = judged["observed_rate"].to_numpy(), judged["grade"].to_numpy()
    posterior = [(di + 0.5, ni - di + 0.5) for di, ni in zip(d, n, strict=True)]
    return [
        (int(numbers[i]), int(numbers[i + 1]))
        for i in range(len(judged) - 1)
        if rates[i + 1] < rates[i] and probability_lower(posterior[i + 1], posterior[i]) > 1 - alpha
    ]


def chance_calibration_error(
    p: np.ndarray,
    customers: np.ndarray,
    n_bins: int,
    *,
    quantile: float = 0.95,
    draws: int = 200,
    seed: int = 0,
) -> float:
    """The calibration error a perfectly calibrated model reaches by chance on these rows.

    Outcomes are drawn from the PDs themselves, ``draws`` times, one uniform number per
    customer for all its rows (its snapshots share most of their outcome window: fully
    dependent, as in the back-test), and the ``quantile`` of their
    :func:`models.metrics.expected_calibration_error` is returned. An observed error below it
    says nothing against the calibration, however small the bound it is checked against.
    """
    p = np.asarray(p, dtype=float)
    _, which = np.unique(np.asarray(customers), return_inverse=True)
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(draws):
        y = (rng.random(which.max() + 1)[which] < p).astype(float)
        if 0 < y.sum() < len(y):
            errors.append(expected_calibration_error(y, p, n_bins))
    return float(np.quantile(errors, quantile)) if errors else float("inf")


def summarize_backtest(table: pd.DataFrame, alpha: float) -> dict:
    """Headline of a back-test table: verdicts, failures and the smallest p-value.

    ``passed`` is true when every grade's rate is consistent with its PD *and* the judged
    grades are monotone in their observed default rate.
    """
    failed = table.loc[~table["passed"], "grade"].astype(int).tolist()
    breaks = monotonicity_breaks(table, alpha)
    return {
        "alpha": alpha,
        "passed": not failed and not breaks,
        "grades_consistent": not failed,
        "monotone": not breaks,
        "grades_tested": len(table),
        "grades_failed": ",".join(map(str, failed)),
        "monotonicity_breaks": ",".join(f"{a}>{b}" for a, b in breaks),
        "grades_few_customers": int(table["few_customers"].sum()),
        "min_p_value": float(table["p_value"].min()),
    }
