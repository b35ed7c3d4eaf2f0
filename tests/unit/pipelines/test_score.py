import json
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pytest

from features.peers import sector_medians
from pipelines import score
from pipelines.book import history, rows
from pipelines.book import month as scoring
from pipelines.book.export import SCORES_SCHEMA, TERM_COLUMNS, schema_columns
from pipelines.io.artifacts import load_policy
from pipelines.io.files import StageError
from pipelines.modelstore.registry import load_model
from pipelines.runtime.config import Config

AS_OF = pd.Timestamp("2024-12-31")
FEATURES = ["days_late_wavg_12m", "n_late_30_12m", "debt_ratio", "current_ratio", "dso_days"]


def test_the_model_is_registered(staged):
    record = staged["record"]
    assert record["model_uri"] == "models:/trade-credit-pd/1"
    assert json.loads(staged["paths"].registry_record.read_text()) == record


def test_scores_have_the_documented_columns_and_every_customer_is_accounted_for(read_scored):
    scores, rejects = read_scored("scores"), read_scored("rejects")
    # a model without a term structure: its columns are left out, the rest in the schema's order
    documented = [c for c in schema_columns(SCORES_SCHEMA, 3) if c not in TERM_COLUMNS]
    assert list(scores.columns) == documented
    assert list(rejects.columns) == ["customer_id", "name", "reason_code", "reason"]
    assert sorted(scores["customer_id"]) == [f"C{i}" for i in range(1, 7)]
    assert sorted(rejects["customer_id"]) == ["C8"]  # C7 and C9 are in defaulted.csv
    assert (scores["as_of_date"] == "2024-12-31").all() and (scores["model_version"] == 1).all()
    assert scores["pd_12m"].is_monotonic_decreasing
    assert scores.loc[scores["customer_id"] == "C1", "name"].item() == "Firm C1"


def test_rejects_say_why(read_scored):
    rejects = read_scored("rejects").set_index("customer_id")
    assert rejects.loc["C8", "reason_code"] == "not_started"
    assert rejects.loc["C8", "reason"].startswith("relationship starts 2025-02-01")


def test_scores_match_the_pd_model(staged, read_scored):
    paths, model = staged["paths"], staged["model"]
    scores = read_scored("scores")
    latest = pd.read_parquet(paths.snapshots).query("as_of_date == @AS_OF")
    # with the sector medians, as the score stage sends them: a reason is judged against them
    medians = sector_medians(latest, FEATURES).add_prefix("median__")
    expected = model.predict(pd.concat([latest[FEATURES].astype(float), medians], axis=1)).assign(
        customer_id=latest["customer_id"].to_numpy()
    )
    merged = scores.merge(expected, on="customer_id", suffixes=("", "_expected"))
    np.testing.assert_allclose(merged["pd_12m"], merged["pd_12m_expected"], atol=5e-5)
    assert (merged["grade"] == merged["grade_expected"]).all()
    assert (merged["reason_1_code"] == merged["reason_1_code_expected"]).all()


def test_the_policy_columns(staged, read_scored):
    scores = read_scored("scores").set_index("customer_id")
    c1 = scores.loc["C1"]
    assert c1["exposure"] == 26000 and c1["current_limit"] == 20000
    lgd = 0.45
    assert c1["expected_loss"] == pytest.approx(c1["pd_12m"] * lgd * 26000, abs=3)
    assert (scores["recommended_terms_days"] <= scores["current_terms_days"]).all()
    assert (scores["recommended_limit"] % 1000 == 0).all()
    assert set(scores["prepayment_pct"]) <= {0, 30, 100}
    # small accounts (annual purchases below 50,000) get at most 30 days: C3 buys nothing
    assert scores.loc["C3", "recommended_terms_days"] <= 30
    reduced = scores["action_codes"].str.contains("reduce_limit")
    adverse = scores["reason_1_code"].fillna("") != ""  # else no adverse factor to give
    assert (scores.loc[reduced & adverse, "adverse_action_reasons"] != "").all()
    assert (scores.loc[~adverse, "adverse_action_reasons"] == "").all()
    assert (scores.loc[~reduced, "adverse_action_reasons"] == "").all()
    assert (scores["recommended_limit"][reduced] < scores["current_limit"][reduced]).all()


def test_reason_sentences_carry_the_sector_median(staged, read_scored):
    scores = read_scored("scores")
    worded = scores.loc[scores["reason_1_code"] != "", "reason_1"]
    with_value = worded[worded.str.contains(r"\d")]  # a missing value has no median
    assert len(with_value) and with_value.str.contains(r", sector median -?\d").all()


def test_the_history_keeps_both_months_and_the_comparison(staged):
    paths = staged["paths"]
    folder = paths.history
    assert history.history_dates(folder) == [pd.Timestamp("2024-11-30"), AS_OF]
    before = history.read_book(pd.Timestamp("2024-11-30"), folder)
    now = history.read_book(AS_OF, folder)
    assert set(before["source"]) == {"backfill"} and set(now["source"]) == {"run"}
    assert before.loc[before["customer_id"] == "C9", "status"].item() == "scored"
    assert now.loc[now["customer_id"] == "C9", "status"].item() == "in_default"
    c1 = now.set_index("customer_id").loc["C1"]
    was = before.set_index("customer_id").loc["C1"]
    assert c1["previous_grade"] == was["grade"]
    assert c1["pd_change"] == pytest.approx(c1["pd_12m"] - was["pd_12m"])
    summary = json.loads(paths.scored_summary.read_text())
    assert summary["as_of_date"] == "2024-12-31" and summary["previous_as_of_date"] == "2024-11-30"


def test_the_summary_has_the_books_loss_distribution(staged, read_scored):
    """EL as the scored and defaulted tables', tail figures above it, sectors adding up."""
    loss = json.loads(staged["paths"].scored_summary.read_text())["loss_distribution"]
    scores, defaulted = read_scored("scores"), read_scored("defaulted")
    book_el = scores["expected_loss"].sum() + defaulted["expected_loss"].sum()
    assert loss["expected_loss"] == pytest.approx(book_el, abs=1)
    assert loss["defaulted_loss"] == pytest.approx(defaulted["expected_loss"].sum(), abs=1)
    assert loss["expected_loss"] <= loss["es_99"] <= loss["es_99_9"]
    assert loss["var_99"] <= loss["var_99_9"] <= loss["es_99_9"]
    assert sum(s["es_99_9"] for s in loss["by_sector"]) == pytest.approx(loss["es_99_9"], abs=1)
    assert {c["customer_id"] for c in loss["top_contributors"]} <= set(scores["customer_id"])
    assert loss["limit_cuts"]["after_es_99_9"] <= loss["es_99_9"]


def test_alerts_name_the_rule_and_severity(read_scored):
    alerts = read_scored("alerts")
    fired = set(zip(alerts["customer_id"], alerts["rule"], alerts["severity"], strict=True))
    assert ("C2", "EVENT_LEGAL_DISPUTE", "high") in fired
    assert ("C3", "EVENT_OWNERSHIP_CHANGE", "medium") in fired
    assert ("C9", "DEFAULTED", "high") in fired
    assert ("C5", "LATE_45_CONSECUTIVE", "high") in fired  # entered this month
    assert not any(c == "C6" and r == "LATE_45_CONSECUTIVE" for c, r, _ in fired)  # there already
    assert ("C2", "NEW_OVERDUE", "medium") in fired  # 9,000 crossed 30 days past due
    assert all(a.startswith(("C", "'")) for a in alerts["customer_id"])
    assert (alerts["as_of_date"] == "2024-12-31").all()
    assert (alerts["previous_as_of_date"] == "2024-11-30").all()
    order = alerts["severity"].map({"high": 0, "medium": 1, "low": 2})
    assert order.is_monotonic_increasing


def test_formula_names_come_out_inert_and_chinese_survives(staged, read_scored):
    scores = read_scored("scores").set_index("customer_id")
    assert scores.loc["C3", "name"] == '\'=HYPERLINK("http://x","y")'
    assert scores.loc["C5", "name"] == "'+cmd|' /C calc'!A0"
    assert scores.loc["C4", "name"] == "深圳华强电子有限公司"
    raw = staged["paths"].scores.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b'"=HYPERLINK' not in raw and b'"\'=HYPERLINK(""http://x"",""y"")"' in raw


def test_the_account_columns_follow_the_ledger_at_the_as_of_date(staged, read_scored):
    scores = read_scored("scores").set_index("customer_id")
    assert (scores["currency"] == "EUR").all()  # the ledger's currency
    # C1: its open invoice is not due yet; C2: 9,000 due 2024-11-10, open: 51 days past due
    assert scores.loc["C1", "days_past_due"] == "0" and scores.loc["C2", "days_past_due"] == "51"
    assert scores.loc["C3", "days_past_due"] == ""  # no invoice: empty, not 0
    assert (scores["disputed_open_amount"] == 0).all()  # nothing disputed, C3 has no invoice
    # the features as the model saw them, under their book names
    snaps = pd.read_parquet(staged["paths"].snapshots).query("as_of_date == @AS_OF")
    snaps = snaps.set_index("customer_id")
    for feature, column in (("dso_days", "dso_days"), ("days_late_wavg_12m", "days_late_avg_12m")):
        assert (scores[column] == snaps.loc[scores.index, feature].round()).all(), column
    defaulted = read_scored("defaulted").set_index("customer_id")
    assert defaulted.loc["C9", "days_past_due"] == "91"  # 4,000 due 2024-10-01, never paid
    assert defaulted.loc["C9", "exposure"] == 4000 and defaulted.loc["C7", "days_past_due"] == ""
    assert (defaulted["currency"] == "EUR").all()


def test_the_workbook_holds_the_tables_typed_and_the_names_inert(staged, read_scored):
    book = openpyxl.load_workbook(staged["paths"].workbook)
    assert book.sheetnames == ["scores", "alerts", "defaulted", "rejects", "dictionary"]
    for name in ("scores", "alerts", "defaulted", "rejects"):
        sheet, csv = book[name], read_scored(name)
        assert [c.value for c in sheet[1]] == list(csv.columns), name
        assert sheet.max_row == len(csv) + 1 and sheet.freeze_panes == "A2", name
    scores = book["scores"]
    headers = [c.value for c in scores[1]]
    rows = {r[0].value: dict(zip(headers, r, strict=True)) for r in scores.iter_rows(min_row=2)}
    assert rows["C3"]["name"].value == '=HYPERLINK("http://x","y")'
    assert rows["C3"]["name"].data_type == "s"
    assert rows["C5"]["name"].value == "+cmd|' /C calc'!A0"
    assert rows["C4"]["name"].value == "深圳华强电子有限公司"
    assert rows["C2"]["days_past_due"].value == 51 and rows["C2"]["pd_12m"].number_format == "0.00%"
    assert rows["C2"]["exposure"].number_format == '#,##0 "EUR"'
    sheets = ("scores", "alerts", "defaulted", "rejects")
    assert book["dictionary"].max_row - 1 == sum(len(read_scored(n).columns) for n in sheets)


def test_without_a_ledger_the_account_columns_are_empty(staged_copy, monkeypatch):
    paths = staged_copy
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    paths.validated_table("invoices").unlink()
    score.run(Config(), paths)
    scores = pd.read_csv(paths.scores, encoding="utf-8-sig", keep_default_na=False)
    account = ["currency", "exposure", "days_past_due", "disputed_open_amount"]
    assert (scores[account] == "").all().all()
    sheet = openpyxl.load_workbook(paths.workbook)["scores"]
    headers = [c.value for c in sheet[1]]
    assert sheet.cell(2, headers.index("days_past_due") + 1).value is None
    assert sheet.cell(2, headers.index("pd_12m") + 1).number_format == "0.00%"


def test_chunks_give_the_same_result(staged):
    record = staged["record"]
    pyfunc = load_model(record["model_uri"], record["tracking_uri"])
    snaps = pd.read_parquet(staged["paths"].snapshots)
    whole = rows.score_rows(snaps, pyfunc)
    pd.testing.assert_frame_equal(rows.score_rows(snaps, pyfunc, chunk_rows=5), whole)
    with pytest.raises(StageError, match="lacks columns.*dso_days"):
        rows.score_rows(snaps.drop(columns="dso_days"), pyfunc)
    # the sector medians are taken over all rows before chunking
    worded = rows.score_rows(snaps, pyfunc, language="zh", with_medians=True)
    chunked = rows.score_rows(snaps, pyfunc, chunk_rows=5, language="zh", with_medians=True)
    pd.testing.assert_frame_equal(chunked, worded)
    assert worded["reason_1"].str.contains("行业中位数").any()
    with pytest.raises(StageError, match="lacks columns.*industry"):
        rows.score_rows(snaps.drop(columns="industry"), pyfunc, with_medians=True)


def test_a_second_month_compares_with_the_stored_run(staged_copy, monkeypatch):
    """Score November, then December: December is compared with the November run."""
    paths = staged_copy
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    shutil.rmtree(paths.history)
    november_cfg = Config.model_validate({"score": {"as_of_date": "2024-11-30", "language": "zh"}})
    score.run(november_cfg, paths)
    november = json.loads(paths.scored_summary.read_text())
    assert november["previous_as_of_date"] is None  # nothing earlier to back-fill from
    score.run(Config.model_validate({"score": {"language": "zh"}}), paths)
    book = history.read_book(AS_OF, paths.history)
    assert set(history.read_book(pd.Timestamp("2024-11-30"), paths.history)["source"]) == {"run"}
    assert book["previous_grade"].notna().sum() == 6
    alerts = pd.read_csv(paths.alerts, encoding="utf-8-sig", keep_default_na=False)
    dispute = alerts.loc[alerts["rule"] == "EVENT_LEGAL_DISPUTE", "message"].item()
    assert dispute == "新增法律纠纷（2024-12-05）"
    scores = pd.read_csv(paths.scores, encoding="utf-8-sig", keep_default_na=False)
    worded = scores.loc[scores["reason_1_code"] != "", "reason_1"]
    assert worded.str.contains("行业中位数|没有可用的财务报表").all()


def no_defaults() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [], "default_date": [], "default_trigger": []})


def customers() -> pd.DataFrame:
    ids = [f"C{i}" for i in range(1, 9)]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": ids,
            "relationship_start": pd.to_datetime(["2020-01-01"] * 7 + ["2025-02-01"]),
        }
    )


def test_an_unexplained_customer_is_an_error():
    with pytest.raises(StageError, match=r"neither scored nor explained.*\['C3'\]"):
        rows.explain_unscored(
            customers(), pd.Series(["C1", "C2", "C4", "C5", "C6", "C7"]), no_defaults(), AS_OF
        )


def test_a_customer_set_aside_by_validation_is_a_reject_with_the_rule():
    rejected = pd.DataFrame(
        {"customer_id": ["C3"], "reason": ["rejected by validation: credit_limit range (row 3)"]}
    )
    scored = pd.Series(["C1", "C2", "C4", "C5", "C6", "C7"])
    out = rows.explain_unscored(customers(), scored, no_defaults(), AS_OF, rejected)
    reasons = out.set_index("customer_id")["reason"]
    assert reasons["C3"] == "rejected by validation: credit_limit range (row 3)"
    assert reasons["C8"].startswith("relationship starts 2025-02-01")


def test_a_scored_customer_in_default_is_an_error():
    defaults = pd.DataFrame(
        {"customer_id": ["C1"], "default_date": [AS_OF], "default_trigger": ["insolvency"]}
    )
    with pytest.raises(StageError, match="scored although in default"):
        rows.explain_unscored(customers(), pd.Series(customers()["customer_id"]), defaults, AS_OF)


def test_a_default_after_the_as_of_date_does_not_explain():
    defaults = pd.DataFrame(
        {
            "customer_id": ["C2"],
            "default_date": [AS_OF + pd.Timedelta(days=1)],
            "default_trigger": ["x"],
        }
    )
    scored = pd.Series(["C1", "C3", "C4", "C5", "C6", "C7"])
    with pytest.raises(StageError, match=r"\['C2'\]"):
        rows.explain_unscored(customers(), scored, defaults, AS_OF)


def snapshot_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C1"],
            "as_of_date": [AS_OF, AS_OF, AS_OF - pd.offsets.MonthEnd(1)],
        }
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, b: (s, pd.concat([b, b.head(1)])), "twice in the book"),
        (lambda s, b: (pd.concat([s, s.head(1)]), b), "twice in the snapshots of 2024-12-31"),
        (lambda s, b: (s, b.iloc[1:]), "not in the book"),
    ],
)
def test_rows_at_checks(change, message):
    snaps, book = change(snapshot_rows(), customers())
    with pytest.raises(StageError, match=message):
        rows.rows_at(snaps, book, AS_OF)


def test_rows_at_takes_the_date_and_the_name():
    got = rows.rows_at(snapshot_rows(), customers(), AS_OF)
    assert got["customer_id"].tolist() == ["C1", "C2"] and got["name"].tolist() == ["C1", "C2"]


@pytest.mark.parametrize(
    ("requested", "manifest", "expected"),
    [(None, {"as_of_date": "2024-12-31"}, "2024-12-31"), ("2024-11-30", {}, "2024-11-30")],
)
def test_choose_as_of(requested, manifest, expected):
    assert scoring.choose_as_of(snapshot_rows(), requested, manifest) == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("requested", "manifest", "message"),
    [
        ("2024-10-31", {}, "has no snapshots; snapshot dates run from 2024-11-30 to 2024-12-31"),
        (None, {"as_of_date": "2024-12-30"}, "after the data as-of"),
    ],
)
def test_choose_as_of_refuses(requested, manifest, message):
    with pytest.raises(StageError, match=message):
        scoring.choose_as_of(snapshot_rows(), requested, manifest)


def test_choose_as_of_of_no_snapshots_is_an_error():
    with pytest.raises(StageError, match="empty"):
        scoring.choose_as_of(snapshot_rows().iloc[:0], None, {})


@pytest.mark.parametrize("missing", ["default_trigger", "customer_id"])
def test_run_requires_the_default_columns(staged_copy, missing):
    paths = staged_copy
    path = paths.default_dates
    pd.read_parquet(path).drop(columns=missing).to_parquet(path)
    with pytest.raises(StageError, match=f"lacks columns.*{missing}"):
        score.run(Config(), paths)


def test_a_broken_policy_is_a_stage_error(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("lgd: 2\ngrades: []\n")
    with pytest.raises(
        StageError, match=r"invalid credit policy.*\n  lgd: .*less than or equal to 1"
    ):
        load_policy(path)
    with pytest.raises(StageError, match="credit policy file not found"):
        load_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("language", "ended", "stale"),
    [
        ("en", "relationship ended 2024-06-30",
         "no data since 2022-03-31, more than 24 months before the as-of date"),
        ("zh", "合作关系已于 2024-06-30 结束", "自 2022-03-31 起无新数据，已超过 24 个月"),
    ],
)  # fmt: skip
def test_a_customer_that_left_or_went_quiet_is_listed_with_the_reason(language, ended, stale):
    book = customers().assign(relationship_end=pd.to_datetime([None] * 6 + ["2024-06-30", None]))
    last = pd.Series(
        pd.to_datetime(["2024-12-01"] * 5 + ["2022-03-31", None, None]), book["customer_id"]
    )
    scored = pd.Series(["C1", "C2", "C3", "C4", "C5"])
    out = rows.explain_unscored(book, scored, no_defaults(), AS_OF, None, language, last, 24)
    got = out.set_index("customer_id")
    assert got.loc["C6", ["status", "reason"]].tolist() == ["stale", stale]
    assert got.loc["C7", ["status", "reason"]].tolist() == ["ended", ended]
    assert got.loc["C8", "status"] == "not_started"
    with pytest.raises(StageError, match=r"neither scored nor explained.*\['C6'\]"):
        rows.explain_unscored(book, scored, no_defaults(), AS_OF, None, language, last, 36)
