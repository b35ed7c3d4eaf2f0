import numpy as np
import pandas as pd
import pytest

from models import bootstrap, metrics
from models.master_scale import MasterScale

Y = np.array([0, 0, 0, 1, 1])
RANKED = np.array([0.1, 0.2, 0.3, 0.8, 0.9])

SCALE = MasterScale.from_records(
    [
        {"grade": 1, "label": "low", "max_pd": 0.1},
        {"grade": 2, "label": "medium", "max_pd": 0.5},
        {"grade": 3, "label": "high", "max_pd": 1.0},
    ]
)


def test_perfect_ranking_has_auc_one_gini_one_ks_one():
    assert metrics.auc(Y, RANKED) == 1.0
    assert metrics.gini(Y, RANKED) == 1.0
    assert metrics.ks_statistic(Y, RANKED) == 1.0
    assert metrics.pr_auc(Y, RANKED) == 1.0


def test_reversed_ranking_has_auc_zero():
    assert metrics.auc(Y, 1 - RANKED) == 0.0
    assert metrics.gini(Y, 1 - RANKED) == -1.0


def test_auc_counts_ties_as_half():
    # one default and one non-default with the same score, the other pair correctly ordered
    y = np.array([0, 1, 0, 1])
    p = np.array([0.5, 0.5, 0.1, 0.9])
    # pairs (default, non-default): (0.5,0.5) tie, (0.5,0.1) win, (0.9,0.5) win, (0.9,0.1) win
    assert metrics.auc(y, p) == pytest.approx(3.5 / 4)


def test_ks_of_a_known_case():
    # defaults at 0.4, 0.8; non-defaults at 0.2, 0.6. Cutting above 0.6 catches half of the
    # defaults and no non-default (gap 0.5); cutting above 0.2 catches all defaults and half
    # of the non-defaults (gap 0.5). No cut does better.
    y = np.array([0, 1, 0, 1])
    p = np.array([0.2, 0.4, 0.6, 0.8])
    assert metrics.ks_statistic(y, p) == pytest.approx(0.5)


def test_brier_by_hand():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, 0.9, 0.5, 0.0])
    assert metrics.brier(y, p) == pytest.approx((0.01 + 0.01 + 0.25 + 0.0) / 4)


def test_ece_is_zero_for_perfectly_calibrated_bins():
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    p = np.array([0.25] * 4 + [0.75] * 4)
    assert metrics.expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.0)


def test_ece_weights_bins_by_count():
    # bin 1: PD 0.1, observed 0.5 (gap 0.4); bin 2: PD 0.9, observed 1.0 (gap 0.1)
    y = np.array([0, 1, 1, 1])
    p = np.array([0.1, 0.1, 0.9, 0.9])
    assert metrics.expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.25)


def test_calibration_curve_uses_equal_frequency_bins():
    p = np.array([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.5, 0.9])
    y = np.array([0, 0, 0, 0, 0, 1, 0, 1])
    curve = metrics.calibration_curve(y, p, n_bins=4)
    assert list(curve.columns) == ["bin", "mean_pd", "observed_rate", "count"]
    assert curve["count"].tolist() == [2, 2, 2, 2]
    assert curve["mean_pd"].tolist() == pytest.approx([0.015, 0.035, 0.055, 0.7])
    assert curve["observed_rate"].tolist() == [0.0, 0.0, 0.5, 0.5]


def test_calibration_curve_keeps_tied_pds_in_one_bin():
    p = np.array([0.1] * 6 + [0.2, 0.3])
    y = np.array([0, 0, 0, 0, 0, 1, 0, 1])
    curve = metrics.calibration_curve(y, p, n_bins=4)
    assert curve["count"].sum() == 8
    assert curve["count"].iat[0] == 6
    assert curve["bin"].tolist() == list(range(1, len(curve) + 1))


def test_roc_and_pr_points_are_downsampled_and_span_the_curve():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    p = np.clip(0.3 * y + rng.random(5000) * 0.7, 0, 1)
    roc = metrics.roc_points(y, p, max_points=50)
    pr = metrics.pr_points(y, p, max_points=50)
    assert len(roc) <= 50 and len(pr) <= 50
    assert roc.iloc[0].tolist() == [0.0, 0.0] and roc.iloc[-1].tolist() == [1.0, 1.0]
    assert roc["fpr"].is_monotonic_increasing
    assert pr["recall"].is_monotonic_increasing
    assert pr["recall"].iat[0] == 0.0 and pr["recall"].iat[-1] == 1.0


def test_roc_points_small_input_kept_whole():
    roc = metrics.roc_points(Y, RANKED)
    assert list(roc.columns) == ["fpr", "tpr"]
    assert roc.iloc[-1].tolist() == [1.0, 1.0]


def test_lift_table_by_hand():
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    p = np.linspace(0.9, 0.0, 10)  # already riskiest first
    table = metrics.lift_table(y, p, n_groups=5)
    assert table["decile"].tolist() == [1, 2, 3, 4, 5]
    assert table["count"].tolist() == [2] * 5
    assert table["defaults"].tolist() == [2, 0, 1, 0, 0]
    assert table["default_rate"].tolist() == [1.0, 0.0, 0.5, 0.0, 0.0]
    assert table["lift"].tolist() == pytest.approx([1 / 0.3, 0.0, 0.5 / 0.3, 0.0, 0.0])
    assert table["cumulative_capture"].tolist() == pytest.approx([2 / 3, 2 / 3, 1, 1, 1])


def test_grade_table_by_hand():
    y = np.array([0, 0, 1, 0, 1])
    p = np.array([0.05, 0.05, 0.2, 0.3, 0.7])
    table = metrics.grade_table(y, p, SCALE.assign(p), SCALE)
    assert table["grade"].tolist() == [1, 2, 3]
    assert table["label"].tolist() == ["low", "medium", "high"]
    assert table["pd_lower"].tolist() == [0.0, 0.1, 0.5]
    assert table["pd_upper"].tolist() == [0.1, 0.5, 1.0]
    assert table["count"].tolist() == [2, 2, 1]
    assert table["defaults"].tolist() == [0, 1, 1]
    assert table["observed_rate"].tolist() == [0.0, 0.5, 1.0]
    assert table["mean_pd"].tolist() == pytest.approx([0.05, 0.25, 0.7])


def test_grade_table_rejects_grades_off_the_scale():
    with pytest.raises(ValueError, match="not on the master scale"):
        metrics.grade_table(Y, RANKED, np.array([1, 1, 2, 3, 7]), SCALE)


def test_summarize_returns_plain_python_numbers():
    summary = metrics.summarize(Y, RANKED, n_bins=2)
    assert set(summary) == {
        "n_rows",
        "n_defaults",
        "default_rate",
        "mean_pd",
        "auc",
        "gini",
        "ks",
        "pr_auc",
        "brier",
        "ece",
    }
    assert type(summary["n_rows"]) is int and type(summary["auc"]) is float
    assert summary["n_defaults"] == 2 and summary["auc"] == 1.0


def test_inputs_are_not_modified():
    y = pd.Series([0, 1, 0, 1])
    p = pd.Series([0.2, 0.4, 0.6, 0.8])
    metrics.summarize(y, p, n_bins=2)
    assert p.tolist() == [0.2, 0.4, 0.6, 0.8]


@pytest.mark.parametrize(
    ("func", "y", "p", "message"),
    [
        (metrics.auc, [0, 1, 0], [0.1, 0.2], "same length"),
        (metrics.brier, [0, 1], [0.1, np.nan], "missing values"),
        (metrics.auc, [0, np.nan], [0.1, 0.2], "missing values"),
        (metrics.auc, [0, 2], [0.1, 0.2], "only 0 and 1"),
        (metrics.auc, [1, 1, 1], [0.1, 0.2, 0.3], "both defaults and non-defaults"),
        (metrics.ks_statistic, [0, 0], [0.1, 0.2], "both defaults and non-defaults"),
        (metrics.pr_auc, [0, 0], [0.1, 0.2], "both defaults and non-defaults"),
        (metrics.roc_points, [0, 0], [0.1, 0.2], "both defaults and non-defaults"),
        (metrics.brier, [0, 1], [0.1, 1.2], r"probabilities in \[0, 1\]"),
        (metrics.calibration_curve, [0, 1], [-0.1, 0.5], r"probabilities in \[0, 1\]"),
        (metrics.auc, [], [], "empty"),
        (metrics.auc, [[0, 1]], [[0.1, 0.2]], "1-d"),
        (metrics.lift_table, [0] * 10, [0.1] * 10, "at least one default"),
    ],
)
def test_invalid_inputs_raise(func, y, p, message):
    with pytest.raises(ValueError, match=message):
        func(np.array(y, dtype=float), np.array(p, dtype=float))


@pytest.mark.parametrize("n_groups", [0, 6])
def test_lift_table_rejects_bad_group_count(n_groups):
    with pytest.raises(ValueError, match="n_groups"):
        metrics.lift_table(Y, RANKED, n_groups=n_groups)


def test_calibration_curve_rejects_zero_bins():
    with pytest.raises(ValueError, match="n_bins"):
        metrics.calibration_curve(Y, RANKED, n_bins=0)


def test_top_decile_of_a_known_case():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1] * 2)
    p = np.linspace(0.9, 0.0, 20)  # riskiest first: the top tenth is rows 0 and 1
    got = metrics.top_decile(y, p)
    assert got["top_decile_capture"] == pytest.approx(0.25)  # 1 of the 4 defaults
    assert got["top_decile_lift"] == pytest.approx(0.5 / 0.2)


def bootstrap_case(seed: int = 0, n: int = 400):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(float)
    good = y + rng.normal(0, 0.8, n)
    noise = rng.normal(0, 1, n)
    return y, good, noise


def test_bootstrap_auc_brackets_the_auc_and_is_seeded():
    y, good, noise = bootstrap_case()
    draws = bootstrap.bootstrap_auc(y, [good, noise], n_boot=300, seed=4)
    assert draws.shape == (300, 2)
    low, high = bootstrap.percentile_interval(draws[:, 0])
    assert low < metrics.auc(y, good) < high
    diff_low, _ = bootstrap.percentile_interval(draws[:, 0] - draws[:, 1])
    assert diff_low > 0  # the informative score beats noise on every paired resample
    again = bootstrap.bootstrap_auc(y, [good, noise], n_boot=300, seed=4)
    np.testing.assert_array_equal(draws, again)


def test_cluster_bootstrap_is_wider_for_repeated_rows():
    y, good, _ = bootstrap_case(n=200)
    rows = np.tile(np.arange(200), 6)  # six snapshots of each customer
    y6, p6 = np.tile(y, 6), np.tile(good, 6)
    naive = bootstrap.bootstrap_auc(y6, [p6], n_boot=300, seed=1)[:, 0]
    clustered = bootstrap.bootstrap_auc(y6, [p6], n_boot=300, seed=1, groups=rows)[:, 0]
    assert clustered.std() > 1.8 * naive.std()


def test_bootstrap_auc_checks_its_input():
    y, good, _ = bootstrap_case(n=50)
    with pytest.raises(ValueError, match="at least one score"):
        bootstrap.bootstrap_auc(y, [])
    with pytest.raises(ValueError, match="same length"):
        bootstrap.bootstrap_auc(y, [good[:-1]])
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap.bootstrap_auc(y, [good], n_boot=0)
    with pytest.raises(ValueError, match="groups"):
        bootstrap.bootstrap_auc(y, [good], groups=np.arange(3))
    with pytest.raises(ValueError, match="level"):
        bootstrap.percentile_interval(good, level=1.5)
