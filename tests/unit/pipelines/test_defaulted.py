"""Customers in default stay in the book: defaulted.csv, their exposure in the summary and report.

The staged tiny repository (``conftest.py``): C7 defaulted in March with nothing open, C9 filed
for insolvency on 2024-12-15 with a 4,000 invoice open since September, C8 starts next year.
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from models.policy import RECOVERY_COLUMNS, CreditPolicy, Recovery, apply_recovery
from pipelines import report, score
from pipelines.book import history
from pipelines.book.export import (
    DEFAULTED_SCHEMA,
    REJECTS_SCHEMA,
    defaulted_table,
    rejects_table,
    write_people_csv,
)
from pipelines.checks.rejected import rejected_customers
from pipelines.io.artifacts import load_policy
from pipelines.io.files import StageError
from pipelines.runtime.config import Config

AS_OF = pd.Timestamp("2024-12-31")
LGD = 0.45
LATIN = re.compile("[A-Za-z]")


@pytest.fixture(scope="module")
def policy() -> CreditPolicy:
    """The risk team's policy, as the staged repository reads it."""
    return load_policy(Path(__file__).parents[3] / "configs" / "policy.yaml")


def in_default() -> pd.DataFrame:
    """Three customers in default at the end of 2024 (one without a ledger: no exposure)."""
    return pd.DataFrame(
        {
            "customer_id": ["D1", "D2", "D3"],
            "name": ["=1+2", "Firm D2", "@SUM(A1)"],
            "industry": ["retail", "energy", "retail"],
            "region": ["north", "south", "north"],
            "status": "in_default",
            "as_of_date": AS_OF,
            "default_date": pd.to_datetime(["2024-12-24", "2024-03-15", "2024-12-01"]),
            "default_trigger": ["days_past_due", "insolvency_filing", "defaults_table"],
            "currency": "EUR",
            "exposure": [50735.0, 1200.0, np.nan],
            "overdue_amount": [50735.0, 1200.0, np.nan],
            "days_past_due": [97.0, 40.0, np.nan],
            "disputed_open_amount": [0.0, 1200.0, np.nan],
        }
    )


def test_recovery_values_the_defaulted_at_pd_one(policy):
    got = apply_recovery(in_default(), policy)
    assert list(got.columns) == RECOVERY_COLUMNS
    assert got["days_in_default"].tolist() == [7, 291, 30]
    assert got.loc[0, "expected_loss"] == pytest.approx(LGD * 50735)
    assert np.isnan(got.loc[2, "expected_loss"])  # no ledger: not a made-up zero
    assert got.loc[0, "recovery_action_codes"] == (
        "stop_shipments; hand_to_collection; file_insurance_claim"
    )
    assert got.loc[1, "recovery_action_codes"].split("; ")[1] == "lodge_insolvency_claim"
    assert got.loc[0, "default_trigger_text"] == "90+ days past due"


def test_recovery_in_chinese_has_no_english(policy):
    got = apply_recovery(in_default(), policy, language="zh")
    assert got["default_trigger_text"].tolist() == ["逾期 90 天以上", "破产申请", "外部报告违约"]
    assert got.loc[0, "recovery_actions"].split("；")[0] == "停止一切发货"
    texts = pd.concat([got["default_trigger_text"], got["recovery_actions"]])
    assert not texts.str.contains(LATIN).any()


@pytest.mark.parametrize(
    ("recovery", "message"),
    [
        ({"actions": ["call_a_lawyer"]}, "unknown recovery actions"),
        ({"by_trigger": {"bankrupt": ["stop_shipments"]}}, "unknown default triggers"),
    ],
)
def test_recovery_refuses_unknown_codes(recovery, message):
    with pytest.raises(ValidationError, match=message):
        Recovery.model_validate(recovery)


@pytest.mark.parametrize("missing", ["default_date", "default_trigger", "exposure", "as_of_date"])
def test_recovery_requires_its_columns(policy, missing):
    with pytest.raises(KeyError, match=missing):
        apply_recovery(in_default().drop(columns=missing), policy)


def hand_made_book(policy: CreditPolicy) -> pd.DataFrame:
    defaulted = in_default().join(apply_recovery(in_default(), policy))
    defaulted["ecl_lifetime"] = defaulted["expected_loss"]  # pipelines.book.ecl: LGD x exposure
    others = pd.DataFrame(
        {
            "customer_id": ["S1", "N1"],
            "name": ["Firm S1", "+Firm N1"],
            "status": ["scored", "not_started"],
            "reject_reason": [None, "relationship starts 2025-02-01, after the as-of date"],
        }
    )
    return pd.concat([others, defaulted], ignore_index=True)


def test_defaulted_table_largest_exposure_first_and_inert(policy, tmp_path):
    table = defaulted_table(hand_made_book(policy))
    assert list(table.columns) == list(DEFAULTED_SCHEMA)
    assert table["customer_id"].tolist() == ["D1", "D2", "D3"]
    assert table.loc[0, "exposure"] == 50735 and table.loc[0, "expected_loss"] == 22831
    path = tmp_path / "defaulted.csv"
    write_people_csv(table, path, bom=True)
    read = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert read["name"].tolist() == ["'=1+2", "Firm D2", "'@SUM(A1)"]
    assert read.loc[0, "default_date"] == "2024-12-24" and read.loc[0, "days_in_default"] == 7


def test_rejects_table_holds_only_the_unscorable(policy):
    rejects = rejects_table(hand_made_book(policy))
    assert list(rejects.columns) == list(REJECTS_SCHEMA)
    assert rejects.to_dict("records") == [
        {
            "customer_id": "N1",
            "name": "+Firm N1",  # as it is: the CSV writer makes it inert
            "reason_code": "not_started",
            "reason": "relationship starts 2025-02-01, after the as-of date",
        }
    ]


def test_every_customer_must_be_in_one_table():
    customers = pd.DataFrame({"customer_id": ["A", "B", "C"]})
    book = customers.assign(status=["scored", "in_default", "not_started"])
    tables = [book.iloc[[0]], book.iloc[[1]], book.iloc[[2]]]
    score.account_for_everyone(book, tables, customers)
    with pytest.raises(StageError, match="1 scored \\+ 1 in default \\+ 0 rejected != 3"):
        score.account_for_everyone(book, [*tables[:2], book.iloc[:0]], customers)
    with pytest.raises(StageError, match="customers in the book"):
        score.account_for_everyone(book.iloc[[0, 1, 1]], tables, customers)


def test_validation_rejects_are_worded_in_chinese(tmp_path):
    path = tmp_path / "rejects_customers.csv"
    pd.DataFrame(
        {"row": ["3"], "rule": ["range"], "column": ["credit_limit"], "detail": ["must be >= 0"],
         "rules": ["credit_limit: range"], "customer_id": ["C3"]}
    ).to_csv(path, index=False)  # fmt: skip
    english = rejected_customers(path).loc[0, "reason"]
    assert english == (
        "rejected by validation: credit_limit range (must be >= 0; row 3 of the customers file)"
    )
    assert rejected_customers(path, "zh").loc[0, "reason"] == (
        "数据校验未通过：客户文件第 3 行，字段 credit_limit：超出允许范围"
    )


def test_defaulted_csv_carries_the_exposure_in_recovery(read_scored):
    defaulted = read_scored("defaulted").set_index("customer_id")
    assert list(defaulted.reset_index().columns) == list(DEFAULTED_SCHEMA)
    assert defaulted.index.tolist() == ["C9", "C7"]  # largest exposure first
    c9 = defaulted.loc["C9"]
    assert (c9["default_date"], c9["default_trigger"]) == ("2024-12-15", "insolvency_filing")
    assert c9["default_trigger_text"] == "insolvency filing" and c9["days_in_default"] == 16
    assert (c9["exposure"], c9["overdue_amount"], c9["expected_loss"]) == (4000, 4000, 1800)
    assert c9["recovery_action_codes"] == (
        "stop_shipments; lodge_insolvency_claim; file_insurance_claim"
    )
    assert defaulted.loc["C7", "exposure"] == 0 and defaulted.loc["C7", "days_in_default"] == 291


def test_the_summary_adds_the_defaulted_exposure(staged, read_scored):
    summary = json.loads(staged["paths"].scored_summary.read_text())
    assert (summary["scored"], summary["defaulted"], summary["rejected"]) == (6, 2, 1)
    assert summary["defaulted_exposure"] == 4000 and summary["defaulted_expected_loss"] == 1800
    performing = read_scored("scores")["exposure"].sum()
    assert summary["performing_exposure"] == pytest.approx(performing, abs=6)
    assert summary["exposure"] == pytest.approx(summary["performing_exposure"] + 4000)
    assert summary["expected_loss"] == pytest.approx(
        summary["performing_expected_loss"] + summary["defaulted_expected_loss"]
    )


def test_the_history_and_the_alert_keep_the_defaulted_exposure(staged, read_scored):
    book = history.read_book(AS_OF, staged["paths"].history).set_index("customer_id")
    assert book.loc["C9", "status"] == "in_default" and book.loc["C9", "exposure"] == 4000
    alerts = read_scored("alerts")
    assert alerts.loc[alerts["rule"] == "DEFAULTED", "exposure"].tolist() == [4000]


def test_the_report_headline_splits_the_exposure(staged):
    html = staged["paths"].portfolio.read_text(encoding="utf-8")
    headline = html[html.index('<section id="headline"') : html.index('<section id="grades"')]
    assert "Exposure (total)" in headline and "In default (recovery)" in headline
    assert "+ in default 4,000" in headline and "2 customers; expected loss 1,800" in headline


def test_in_chinese_the_defaulted_rejects_and_headline_are_chinese(staged_copy, monkeypatch):
    paths = staged_copy
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    cfg = Config.model_validate({"score": {"language": "zh"}})
    score.run(cfg, paths)
    report.run(cfg, paths)
    read = lambda p: pd.read_csv(p, encoding="utf-8-sig", keep_default_na=False)  # noqa: E731
    defaulted = read(paths.defaulted).set_index("customer_id")
    assert defaulted.loc["C9", "default_trigger_text"] == "破产申请"
    assert defaulted.loc["C9", "default_trigger"] == "insolvency_filing"  # the code stays
    words = defaulted[["default_trigger_text", "recovery_actions"]].stack()
    assert not words.str.contains(LATIN).any()
    reason = read(paths.rejects).set_index("customer_id").loc["C8", "reason"]
    assert reason.startswith("合作关系于 2025-02-01") and not LATIN.search(reason)
    html = paths.portfolio.read_text(encoding="utf-8")
    assert "敞口合计" in html and "违约敞口（回收中）" in html and "违约 4,000" in html
