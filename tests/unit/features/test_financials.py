import numpy as np
import pandas as pd
import pytest

from features.financials import add_financial_features, statement_ratios
from features.timeline import month_index

RATIOS = [
    "debt_ratio",
    "current_ratio",
    "cash_ratio",
    "ocf_to_liabilities",
    "ebit_margin",
    "interest_coverage",
    "revenue_growth",
]
BASE = {
    "total_assets": 1000.0,
    "total_liabilities": 600.0,
    "current_assets": 400.0,
    "current_liabilities": 200.0,
    "cash": 50.0,
    "revenue": 2000.0,
    "ebit": 100.0,
    "net_income": 50.0,
    "operating_cash_flow": 120.0,
    "interest_expense": 20.0,
}


def statements(*rows: dict) -> pd.DataFrame:
    """Statements from ``BASE`` with per-row overrides (customer_id, period_end, ...)."""
    frame = pd.DataFrame([{"customer_id": "A", **BASE, **r} for r in rows])
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["available_date"] = pd.to_datetime(frame.get("available_date"))
    return frame


def snaps(*dates: str, customer: str = "A") -> pd.DataFrame:
    as_of = pd.to_datetime(list(dates))
    return pd.DataFrame(
        {"customer_id": customer, "as_of_date": as_of, "month": month_index(as_of)},
        index=[10 + i for i in range(len(dates))],
    )


# S1: FY2022, filed 2023-03-15; S2: FY2023, no filing date: available period_end + lag
TWO = statements(
    {"period_end": "2022-12-31", "available_date": "2023-03-15"},
    {"period_end": "2023-12-31", "available_date": None, "revenue": 2500.0, "ebit": -50.0},
)


def test_statement_ratios():
    got = statement_ratios(TWO, lag_days=90)
    assert got["available_date"].tolist() == [
        pd.Timestamp("2023-03-15"),
        pd.Timestamp("2024-03-30"),
    ]
    first = got.iloc[0]
    assert first[RATIOS[:-1]].tolist() == pytest.approx([0.6, 2.0, 0.25, 0.2, 0.05, 5.0])
    assert np.isnan(first["revenue_growth"])
    assert got.iloc[1]["revenue_growth"] == pytest.approx(0.25)
    assert got.iloc[1]["ebit_margin"] == pytest.approx(-0.02)
    assert got.iloc[1]["interest_coverage"] == pytest.approx(-2.5)


@pytest.mark.parametrize(
    ("as_of", "expected_period"),
    [
        ("2023-02-28", None),  # nothing filed yet
        ("2023-03-31", "2022-12-31"),
        ("2024-02-29", "2022-12-31"),  # FY2023 only available from 2024-03-30
        ("2024-03-31", "2023-12-31"),
    ],
)
def test_latest_statement_available_by_t(as_of, expected_period):
    got = add_financial_features(snaps(as_of), TWO, lag_days=90).iloc[0]
    if expected_period is None:
        assert got[RATIOS + ["financials_age_months"]].isna().all()
    else:
        expected = TWO.loc[TWO["period_end"] == expected_period].iloc[0]
        assert got["debt_ratio"] == pytest.approx(
            expected["total_liabilities"] / expected["total_assets"]
        )
        assert got["ebit_margin"] == pytest.approx(expected["ebit"] / expected["revenue"])


@pytest.mark.parametrize(("lag", "used"), [(91, True), (92, False)])
def test_a_statement_becomes_usable_on_its_available_date(lag, used):
    # 2023-12-31 + 91 days = 2024-03-31, the snapshot date itself
    got = add_financial_features(snaps("2024-03-31"), TWO, lag_days=lag).iloc[0]
    assert got["revenue_growth"] == pytest.approx(0.25) if used else np.isnan(got["revenue_growth"])
    assert got["financials_age_months"] == (3.0 if used else 15.0)


def test_a_missing_available_date_column_means_period_end_plus_lag():
    got = add_financial_features(
        snaps("2023-03-31", "2023-04-30"), TWO.drop(columns="available_date"), lag_days=100
    )
    # 2022-12-31 + 100 days = 2023-04-10
    assert np.isnan(got["debt_ratio"].iloc[0]) and got["debt_ratio"].iloc[1] == pytest.approx(0.6)


def test_a_late_filing_of_an_older_period_does_not_replace_a_newer_statement():
    frame = statements(
        {"period_end": "2023-12-31", "available_date": "2024-03-01", "total_liabilities": 100.0},
        {"period_end": "2022-12-31", "available_date": "2024-05-01", "total_liabilities": 900.0},
    )
    got = add_financial_features(snaps("2024-04-30", "2024-06-30"), frame, lag_days=90)
    assert got["debt_ratio"].tolist() == pytest.approx([0.1, 0.1])
    assert got["financials_age_months"].tolist() == [4.0, 6.0]


def test_growth_ignores_a_previous_statement_filed_later():
    frame = statements(
        {"period_end": "2022-12-31", "available_date": "2024-05-01", "revenue": 1000.0},
        {"period_end": "2023-12-31", "available_date": "2024-03-01", "revenue": 2000.0},
    )
    ratios = statement_ratios(frame, lag_days=90)
    assert np.isnan(ratios["revenue_growth"]).all()


@pytest.mark.parametrize(
    ("override", "missing"),
    [
        ({"total_assets": 0.0}, ["debt_ratio"]),
        ({"current_liabilities": 0.0}, ["current_ratio", "cash_ratio"]),
        ({"total_liabilities": 0.0}, ["ocf_to_liabilities"]),
        ({"revenue": 0.0}, ["ebit_margin"]),  # growth is -100%, against the previous revenue
        ({"interest_expense": 0.0}, ["interest_coverage"]),
        ({"interest_expense": np.nan}, ["interest_coverage"]),
    ],
)
def test_zero_or_missing_denominators_give_nan(override, missing):
    frame = statements(
        {"period_end": "2022-12-31", "available_date": "2023-03-01"},
        {"period_end": "2023-12-31", "available_date": "2024-03-01", **override},
    )
    got = statement_ratios(frame, lag_days=90).iloc[1]
    assert got[missing].isna().all()
    if "revenue" in override:
        assert got["revenue_growth"] == -1.0
    assert got[[c for c in RATIOS if c not in missing]].notna().all()


def test_growth_against_a_zero_revenue_is_missing():
    frame = statements(
        {"period_end": "2022-12-31", "available_date": "2023-03-01", "revenue": 0.0},
        {"period_end": "2023-12-31", "available_date": "2024-03-01"},
    )
    assert np.isnan(statement_ratios(frame, lag_days=90)["revenue_growth"].iloc[1])


def test_customers_are_kept_apart_and_the_input_is_kept():
    frame = pd.concat(
        [TWO, statements({"customer_id": "B", "period_end": "2023-06-30", "total_assets": 2000.0})],
        ignore_index=True,
    )
    keys = pd.concat([snaps("2024-03-31"), snaps("2024-03-31", customer="B")])
    keys.index = [5, 2]
    before = keys.copy()
    got = add_financial_features(keys, frame, lag_days=90)
    pd.testing.assert_frame_equal(keys, before)
    assert list(got.index) == [5, 2]
    assert got["debt_ratio"].tolist() == pytest.approx([0.6, 0.3])
    assert np.isnan(got["revenue_growth"].iloc[1])  # B's only statement


@pytest.mark.parametrize("name", ["customer_id", "as_of_date", "month"])
def test_snapshots_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_financial_features(snaps("2024-03-31").drop(columns=name), TWO, lag_days=90)


@pytest.mark.parametrize("name", ["customer_id", "period_end", *BASE.keys() - {"net_income"}])
def test_financials_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_financial_features(snaps("2024-03-31"), TWO.drop(columns=name), lag_days=90)


def test_customer_id_dtypes_may_differ():
    keys = snaps("2024-03-31").astype({"customer_id": "str"})
    frame = TWO.astype({"customer_id": object})
    got = add_financial_features(keys, frame, lag_days=90)
    assert got["debt_ratio"].tolist() == pytest.approx([0.6])
