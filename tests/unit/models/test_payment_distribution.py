"""Payment distribution: reading it at any day, and the customer's default as a competing risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.hazard import DAYS_PER_MONTH, interpolate_terms
from models.payment_distribution import curve_at, timing_outputs, with_default_risk

T = pd.Timestamp("2024-03-31")


def test_curve_at_is_exact_at_period_ends_and_linear_between() -> None:
    ends = np.array([[0, 7, 14], [7, 10, 14]])
    cumulative = np.array([[0.0, 0.2, 0.6], [0.2, 0.3, 0.9]])
    days = np.array([10.5, 10.0])
    assert curve_at(ends, cumulative, days).tolist() == pytest.approx([0.2 + 0.4 * 3.5 / 7, 0.3])
    assert curve_at(ends, cumulative, np.array([0.0, 99.0])).tolist() == pytest.approx([0, 0.9])


def rows(to_due: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"as_of_date": T, "days_to_due": np.array(to_due, float)})


def pd_curve(pd_12m: float) -> np.ndarray:
    """A customer's PD within 1..12 months, rising evenly to ``pd_12m``."""
    return pd_12m * np.arange(1, 13)[None, :] / 12


def test_never_paid_is_the_default_before_payment_and_below_the_pd() -> None:
    # the timing model says: never paid 99.5 % (a customer in trouble); its PD says 89 % a year
    cumulative = np.linspace(0.0005, 0.005, 26)[None, :]
    weekly, by_due = with_default_risk(rows([10]), cumulative, np.array([0.0006]), pd_curve(0.89))
    never = 1 - weekly[0, -1]
    pd_26w = interpolate_terms(pd_curve(0.89), np.array([26 * 7 / DAYS_PER_MONTH]))[0]
    assert never <= pd_26w and never > 0.2
    assert (np.diff(weekly, axis=1) >= 0).all() and 0 <= by_due[0] <= weekly[0, 1]


@pytest.mark.parametrize("pd_12m", [0.0, 0.01, 0.3, 0.89, 1.0])
def test_p_never_paid_within_each_week_is_at_most_the_pd_then(pd_12m: float) -> None:
    """Consistency: P(default before payment, by week h) <= PD within h, for every invoice."""
    rng = np.random.default_rng(0)
    density = rng.dirichlet(np.ones(27), size=50)[:, :26] * rng.uniform(0, 1, (50, 1))
    cumulative = np.cumsum(density, axis=1)
    to_due = rng.integers(-60, 120, 50).astype(float)
    terms = pd_curve(pd_12m).repeat(50, axis=0)
    weekly, by_due = with_default_risk(rows(list(to_due)), cumulative, cumulative[:, 3], terms)
    G = cumulative / cumulative[:, -1:]
    for h in range(1, 27):
        pd_h = interpolate_terms(terms, np.full(50, 7 * h / DAYS_PER_MONTH))
        defaulted_first = G[:, h - 1] - weekly[:, h - 1]  # paid by h without default vs not
        assert (defaulted_first <= pd_h + 1e-12).all()
    assert (by_due[to_due <= 0] == 0).all() and (by_due <= weekly[:, -1] + 1e-12).all()


def test_without_a_pd_the_distribution_is_kept() -> None:
    cumulative = np.array([[0.1, 0.5, 0.7]])
    weekly, by_due = with_default_risk(rows([3]), cumulative, np.array([0.05]),
                                       np.full((1, 12), np.nan))  # fmt: skip
    assert weekly.tolist() == cumulative.tolist() and by_due.tolist() == [0.05]


def test_outputs_take_the_exact_p_paid_by_due() -> None:
    out = timing_outputs(rows([3, -2]), np.array([[0.5, 1.0], [0.5, 1.0]]), np.array([0.1, 0.4]))
    assert out["p_paid_by_due"].tolist() == [0.1, 0.0]
