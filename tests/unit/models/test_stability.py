import numpy as np
import pandas as pd
import pytest

from models import stability


@pytest.mark.parametrize(
    ("psi", "band"), [(0.0, "stable"), (0.099, "stable"), (0.1, "watch"), (0.25, "shift")]
)
def test_stability_bands(psi, band):
    assert stability.stability_band(psi) == band


def test_stability_band_rejects_nonsense():
    with pytest.raises(ValueError, match="non-negative"):
        stability.stability_band(float("nan"))


def test_psi_by_hand():
    # reference quartiles: edges 1.5, 2.5, 3.5 -> shares 1/4 each; actual: half in the last bin
    expected = np.array([1.0, 2, 3, 4] * 25)
    actual = np.array([1.0, 2, 4, 4] * 25)
    e = np.array([0.25, 0.25, 0.25, 0.25])
    a = np.array([0.25, 0.25, 1e-4, 0.5])  # the empty bin counts as 0.0001
    by_hand = np.sum((a - e) * np.log(a / e))
    got = stability.population_stability(expected, actual, n_bins=4)
    assert got == pytest.approx(by_hand)


def test_psi_of_the_same_distribution_is_near_zero_and_a_shift_is_large():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=5000)
    assert stability.population_stability(reference, rng.normal(size=5000)) < 0.01
    assert stability.population_stability(reference, rng.normal(1.0, 1, 5000)) > 0.25


def test_psi_counts_missing_values_as_a_bin():
    values = np.arange(100.0)
    more_missing = np.where(np.arange(100) % 2 == 0, np.nan, values)
    assert stability.population_stability(values, values) == 0.0
    assert stability.population_stability(values, more_missing) > 0.25
    all_missing = np.full(10, np.nan)
    assert stability.population_stability(all_missing, all_missing) == 0.0


@pytest.mark.parametrize(
    ("expected", "actual", "n_bins", "message"),
    [([], [1.0], 10, "non-empty"), ([1.0], [[1.0]], 10, "1-d"), ([1.0], [1.0], 0, "n_bins")],
)
def test_psi_checks_its_input(expected, actual, n_bins, message):
    with pytest.raises(ValueError, match=message):
        stability.population_stability(np.array(expected), np.array(actual), n_bins)


def test_feature_stability_table():
    rng = np.random.default_rng(2)
    train = pd.DataFrame({"steady": rng.normal(size=2000), "moved": rng.normal(size=2000)})
    test = pd.DataFrame({"steady": rng.normal(size=2000), "moved": rng.normal(2, 1, 2000)})
    table = stability.feature_stability(train, test.assign(extra=1.0))
    assert list(table["feature"]) == ["moved", "steady"]
    assert list(table["band"]) == ["shift", "stable"]
    assert list(table.columns) == ["feature", "psi", "band", "expected_missing", "actual_missing"]
    with pytest.raises(ValueError, match="lacks columns"):
        stability.feature_stability(train, test[["steady"]])
