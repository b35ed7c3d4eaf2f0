import numpy as np
import pandas as pd
import pytest

from features.profile import add_profile_features
from features.timeline import month_index

MARCH_2024 = int(month_index(pd.DatetimeIndex(["2024-03-31"]))[0])


def book() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "annual_revenue": [1_000_000.0, 0.0, np.nan],
            "relationship_start": pd.to_datetime(["2020-01-15", "2024-03-01", "2023-12-31"]),
            "payment_terms_days": [30, 60, 90],
        }
    )


def snaps() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": ["C", "A", "B", "A"], "month": [MARCH_2024] * 3 + [MARCH_2024 - 12]},
        index=[4, 3, 2, 1],
    )


def test_profile_features():
    got = add_profile_features(snaps(), book())
    np.testing.assert_array_equal(got["annual_revenue"], [np.nan, 1e6, np.nan, 1e6])
    # Jan 2020 -> Mar 2024 is 50 months; Mar 2023 is 38; a start in the snapshot month is 0
    assert got["relationship_months"].tolist() == [3.0, 50.0, 0.0, 38.0]
    assert got["payment_terms_days"].tolist() == [90.0, 30.0, 60.0, 30.0]
    assert got["payment_terms_days"].dtype == float


@pytest.mark.parametrize(("revenue", "expected"), [(-5.0, np.nan), (0.0, np.nan), (1.0, 1.0)])
def test_non_positive_revenue_is_missing(revenue, expected):
    customers = book().assign(annual_revenue=revenue)
    got = add_profile_features(snaps(), customers)["annual_revenue"]
    np.testing.assert_array_equal(got, [expected] * 4)


def test_the_input_is_kept():
    frame = snaps()
    before = frame.copy()
    got = add_profile_features(frame, book())
    pd.testing.assert_frame_equal(frame, before)
    assert list(got.index) == [4, 3, 2, 1]


@pytest.mark.parametrize("name", ["customer_id", "month"])
def test_snapshots_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_profile_features(snaps().drop(columns=name), book())


@pytest.mark.parametrize(
    "name", ["customer_id", "annual_revenue", "relationship_start", "payment_terms_days"]
)
def test_customers_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_profile_features(snaps(), book().drop(columns=name))
