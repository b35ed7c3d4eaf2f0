from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.contract import TABLES, cast_table
from pipelines.sources.adapters import (
    adapt_ibm_ar,
    adapt_polish,
    adapt_taiwan,
    industry_index_from_returns,
)


def taiwan_rows() -> pd.DataFrame:
    # client 1: paid duly; client 2: two months late in Sep on the August statement, defaults
    base = {
        "ID": [1, 2],
        "X1": [20000, 50000],
        "X2": [1, 2],
        "X3": [2, 1],
        "X4": [1, 2],
        "X5": [30, 45],
    }
    status = {f"X{i}": [-1, 0] for i in range(6, 12)}
    status["X6"] = [-1, 2]  # September status
    bills = {f"X{i}": [1000.0, 2000.0] for i in range(12, 18)}
    paid = {f"X{i}": [1000.0, 0.0] for i in range(18, 24)}
    return pd.DataFrame(base | status | bills | paid | {"Y": [0, 1]})


def test_taiwan_statements_become_invoices_settled_by_the_next_status():
    adapted = adapt_taiwan(taiwan_rows())
    inv = adapted.tables["invoices"].set_index("invoice_id")
    assert len(inv) == 12  # six statements per client
    aug2 = inv.loc["TW00002-200508"]
    assert aug2["due_date"] == pd.Timestamp("2005-09-20")
    assert pd.isna(aug2["paid_date"])  # 2 months late: settles 2005-11-19, after the snapshot
    assert inv.loc["TW00001-200508", "paid_date"] == pd.Timestamp("2005-09-20")
    assert pd.isna(inv.loc["TW00001-200509", "paid_date"])  # September's bill is not yet due
    assert adapted.snapshot_dates == [pd.Timestamp("2005-09-30")]
    assert adapted.horizon_months == 1
    assert adapted.tables["defaults"]["customer_id"].tolist() == ["TW00002"]
    attrs = adapted.tables["attributes"]
    assert attrs.loc[attrs["customer_id"] == "TW00002", "status_sep"].item() == 2
    for name, frame in adapted.tables.items():
        cast_table(frame, TABLES[name])  # every table fits the contract


def test_polish_ratios_become_attributes_and_class_a_default():
    raw = pd.DataFrame({"Attr1": [0.1, -0.2, np.nan], "Attr2": [0.5, 0.9, 0.4], "class": [0, 1, 0]})
    adapted = adapt_polish(raw)
    attrs = adapted.tables["attributes"]
    assert list(attrs.columns) == ["customer_id", "known_date", "attr1", "attr2"]
    assert np.isnan(attrs["attr1"].iloc[2])
    defaults = adapted.tables["defaults"]
    assert defaults["customer_id"].tolist() == ["PL00002"]
    assert defaults["default_date"].iloc[0] - adapted.snapshot_dates[0] < pd.Timedelta(days=366)
    assert adapted.as_of_date == pd.Timestamp("2001-12-31")


def test_ibm_invoices_keep_leading_zeros_and_disputes():
    raw = pd.DataFrame(
        {
            "countryCode": [391, 391],
            "customerID": ["0379-NEVHP", "0379-NEVHP"],
            "invoiceNumber": ["0000611365", "0000611366"],
            "InvoiceDate": ["1/2/2013", "2/2/2013"],
            "DueDate": ["2/1/2013", "3/4/2013"],
            "InvoiceAmount": [55.94, 61.74],
            "Disputed": ["No", "Yes"],
            "SettledDate": ["1/15/2013", "3/10/2013"],
        }
    )
    adapted = adapt_ibm_ar(raw)
    inv = adapted.tables["invoices"]
    assert inv["invoice_id"].tolist() == ["0000611365", "0000611366"]
    assert inv["disputed"].tolist() == [False, True]
    book = adapted.tables["customers"]
    assert book["relationship_start"].item() == pd.Timestamp("2013-01-02")
    assert book["payment_terms_days"].item() == 30
    assert "defaults" not in adapted.tables


def test_real_index_uses_the_portfolio_or_the_leading_indicator():
    real = pd.date_range("2019-01-31", periods=6, freq="ME")
    returns = pd.DataFrame({"Shops": [1.0, -1.0, 2.0, 0.0, 0.0, 10.0]}, index=real)
    leading = pd.Series([99.0, 100.0, 101.0, 102.0, 103.0, 104.0], index=real)
    months = pd.date_range("2024-01-31", periods=3, freq="ME")
    index = industry_index_from_returns(returns, leading, months, ["retail", "mining"])
    retail = index[index["industry"] == "retail"]["value"].tolist()
    assert retail == pytest.approx([100.0, 100.0, 110.0])  # last three months, cumulated
    assert index[index["industry"] == "mining"]["value"].tolist() == [102.0, 103.0, 104.0]
    assert index["month"].tolist()[:3] == list(months)


def test_real_index_needs_enough_months():
    real = pd.date_range("2019-01-31", periods=2, freq="ME")
    with pytest.raises(ValueError, match="cover 2 common months, need 3"):
        industry_index_from_returns(
            pd.DataFrame({"Shops": [1.0, 2.0]}, index=real),
            pd.Series([1.0, 2.0], index=real),
            pd.date_range("2024-01-31", periods=3, freq="ME"),
            ["retail"],
        )
