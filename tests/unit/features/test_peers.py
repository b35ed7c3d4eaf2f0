import numpy as np
import pandas as pd
import pytest

from features.peers import PEER_FEATURES, add_peer_features, sector_medians

T1, T2 = pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29")


def snaps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "A", "D", "E", "F"],
            "industry": ["retail"] * 4 + ["energy"] * 2 + ["retail"],
            "as_of_date": [T1, T1, T1, T2, T1, T1, T1],
            "days_late_wavg_12m": [10.0, 20.0, 60.0, 5.0, 100.0, 0.0, np.nan],
            "debt_ratio": [0.5, 0.7, 0.2, 0.9, 0.4, 0.6, 0.3],
        },
        index=[9, 8, 7, 6, 5, 4, 3],
    )


def test_difference_to_the_sector_median_at_the_same_date():
    got = add_peer_features(snaps())
    # retail at T1: days late 10, 20, 60 (F's missing value does not enter) -> median 20;
    # retail at T2: only A; energy at T1: 100 and 0 -> median 50
    np.testing.assert_allclose(
        got["days_late_vs_sector"], [-10.0, 0.0, 40.0, 0.0, 50.0, -50.0, np.nan]
    )
    # retail at T1 debt ratios 0.5, 0.7, 0.2, 0.3 -> median 0.4
    np.testing.assert_allclose(got["debt_ratio_vs_sector"], [0.1, 0.3, -0.2, 0.0, -0.1, 0.1, -0.1])


def test_the_input_is_kept():
    frame = snaps()
    before = frame.copy()
    got = add_peer_features(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(got.index) == list(frame.index)
    assert list(got.columns) == [*frame.columns, *PEER_FEATURES.values()]


@pytest.mark.parametrize("source", list(PEER_FEATURES))
def test_a_feature_whose_source_is_absent_is_skipped(source):
    got = add_peer_features(snaps().drop(columns=source))
    assert PEER_FEATURES[source] not in got
    other = next(s for s in PEER_FEATURES if s != source)
    assert PEER_FEATURES[other] in got


@pytest.mark.parametrize("name", ["industry", "as_of_date"])
def test_peer_features_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_peer_features(snaps().drop(columns=name))


def test_sector_medians_are_those_the_peer_features_use():
    frame = snaps()
    medians = sector_medians(frame, ["days_late_wavg_12m", "debt_ratio"])
    assert list(medians.index) == list(frame.index)
    np.testing.assert_allclose(medians["days_late_wavg_12m"], [20, 20, 20, 5, 50, 50, 20])
    peers = add_peer_features(frame)
    np.testing.assert_allclose(
        frame["debt_ratio"] - medians["debt_ratio"], peers["debt_ratio_vs_sector"]
    )


def test_sector_medians_require_columns():
    with pytest.raises(KeyError, match="colour"):
        sector_medians(snaps(), ["debt_ratio", "colour"])
