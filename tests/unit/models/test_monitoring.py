import numpy as np
import pandas as pd
import pytest

from models.master_scale import MasterScale
from models.monitoring import (
    ALERT_COLUMNS,
    AlertRules,
    compare_books,
    events_between,
    find_alerts,
    grade_rule_hits,
    worst_severity,
)

NOV, DEC = pd.Timestamp("2025-11-30"), pd.Timestamp("2025-12-31")
NAN = np.nan
COLUMNS = [
    "customer_id", "status", "grade", "pd_12m", "exposure", "current_limit",
    "newly_overdue_amount", "late_45_quarters", "default_date", "default_trigger",
]  # fmt: skip


def frame(rows: list[tuple]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["grade"] = out["grade"].astype("Int64")
    return out


def previous() -> pd.DataFrame:
    return frame(
        [
            ("A", "scored", 4, 0.015, 10000.0, 20000.0, 0.0, 0.0, pd.NaT, None),
            ("B", "scored", 6, 0.05, 25000.0, 20000.0, 0.0, 2.0, pd.NaT, None),  # breached
            ("C", "scored", 7, 0.13, 5000.0, 20000.0, 0.0, 3.0, pd.NaT, None),
            ("D", "scored", 9, 0.40, 5000.0, 20000.0, 0.0, 0.0, pd.NaT, None),
            ("E", "scored", 3, 0.008, 5000.0, 20000.0, 0.0, 0.0, pd.NaT, None),
        ]
    )


def current() -> pd.DataFrame:
    book = frame(
        [
            ("A", "scored", 7, 0.12, 23000.0, 20000.0, 6000.0, 0.0, pd.NaT, None),
            ("B", "scored", 6, 0.06, 26000.0, 20000.0, 0.0, 3.0, pd.NaT, None),
            ("C", "scored", 8, 0.16, 5000.0, 20000.0, 100.0, 3.0, pd.NaT, None),
            ("D", "in_default", pd.NA, NAN, NAN, 20000.0, NAN, NAN, DEC, "days_past_due"),
            ("E", "scored", 3, 0.009, 5000.0, 20000.0, 0.0, 0.0, pd.NaT, None),
            ("F", "scored", 9, 0.45, 1000.0, 20000.0, 0.0, 4.0, pd.NaT, None),  # new
        ]
    )  # fmt: skip
    return compare_books(book, previous())


def new_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["E", "E", "D", "A"],
            "event_date": pd.to_datetime(["2025-12-03", "2025-12-05", "2025-12-04", "2025-12-06"]),
            "event_type": [
                "legal_dispute",
                "rating_downgrade",
                "legal_dispute",
                "ownership_change",
            ],
        }
    )


def alerts(**kwargs) -> pd.DataFrame:
    args = {"rules": AlertRules(), "high_risk_grade": 8, "language": "en"} | kwargs
    return find_alerts(current(), previous(), new_events(), **args)


def fired(got: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(got["customer_id"], got["rule"], strict=True))


def test_compare_books_adds_the_changes():
    got = current().set_index("customer_id")
    assert got.loc["A", "previous_grade"] == 4 and got.loc["A", "grade_change"] == 3
    assert got.loc["A", "pd_change"] == pytest.approx(0.105)
    assert pd.isna(got.loc["F", "previous_grade"]) and pd.isna(got.loc["F", "pd_change"])
    assert pd.isna(got.loc["D", "previous_grade"])  # not scored now


def test_compare_books_without_a_previous_book():
    got = compare_books(previous(), None)
    assert got["previous_grade"].isna().all() and got["pd_change"].isna().all()


def test_each_rule_fires_where_it_should():
    assert fired(alerts()) == {
        ("A", "DOWNGRADE"),  # 4 -> 7
        ("A", "PD_INCREASE"),  # +10.5 points
        ("A", "LIMIT_BREACH"),  # 23,000 > 110% of 20,000, was within
        ("A", "NEW_OVERDUE"),  # 6,000 >= 5,000
        ("A", "EVENT_OWNERSHIP_CHANGE"),
        ("B", "LATE_45_CONSECUTIVE"),  # 2 -> 3 quarters
        ("C", "ENTER_HIGH_RISK"),  # 7 -> 8
        ("D", "DEFAULTED"),
        ("E", "EVENT_LEGAL_DISPUTE"),  # the rating downgrade is not a listed event type
        ("F", "ENTER_HIGH_RISK"),  # new, straight into grade 9
        ("F", "LATE_45_CONSECUTIVE"),  # new, already 4 quarters
    }


def test_alerts_are_ordered_by_severity_and_worded():
    got = alerts()
    assert list(got.columns) == ALERT_COLUMNS
    assert got["severity"].map({"high": 0, "medium": 1, "low": 2}).is_monotonic_increasing
    text = dict(zip(zip(got["customer_id"], got["rule"], strict=True), got["message"], strict=True))
    assert text[("A", "DOWNGRADE")] == "Downgraded 3 grades, from 4 to 7 (PD 1.50% to 12.00%)"
    assert text[("C", "ENTER_HIGH_RISK")] == "Entered the high-risk grades: grade 8, was 7"
    assert text[("F", "ENTER_HIGH_RISK")] == "Entered the high-risk grades: grade 9, was new"
    assert text[("A", "LIMIT_BREACH")] == (
        "Open receivables 23,000 exceed the credit limit 20,000 (115% used)"
    )
    assert text[("A", "NEW_OVERDUE")] == "6,000 newly more than 30 days past due"
    assert (
        text[("D", "DEFAULTED")] == "In default since 2025-12-31 (90+ days past due); was grade 9"
    )
    assert text[("E", "EVENT_LEGAL_DISPUTE")] == "New legal dispute on 2025-12-03"


def test_messages_in_chinese():
    got = alerts(language="zh")
    text = dict(zip(zip(got["customer_id"], got["rule"], strict=True), got["message"], strict=True))
    assert text[("A", "DOWNGRADE")] == "评级下调 3 级：由 4 级降至 7 级（违约概率 1.50% → 12.00%）"
    assert text[("D", "DEFAULTED")] == "已于 2025-12-31 违约（逾期 90 天以上），上期 9 级"
    assert text[("E", "EVENT_LEGAL_DISPUTE")] == "新增法律纠纷（2025-12-03）"
    assert text[("B", "LATE_45_CONSECUTIVE")] == "连续 3 个季度付款逾期超过 45 天"


def test_a_rule_set_to_null_is_off_and_thresholds_apply():
    rules = AlertRules.model_validate(
        {"downgrade": None, "pd_increase": {"points": 0.2, "severity": "low"}, "events": {}}
    )
    got = fired(alerts(rules=rules))
    assert ("A", "DOWNGRADE") not in got and ("A", "PD_INCREASE") not in got
    assert not any(rule.startswith("EVENT_") for _, rule in got)
    assert ("C", "ENTER_HIGH_RISK") in got


def test_without_a_previous_book_states_fire_and_changes_do_not():
    got = find_alerts(compare_books(current(), None), None, None, AlertRules(), 8)
    assert fired(got) == {
        ("A", "LIMIT_BREACH"), ("A", "NEW_OVERDUE"), ("B", "LIMIT_BREACH"),
        ("B", "LATE_45_CONSECUTIVE"), ("C", "ENTER_HIGH_RISK"), ("C", "LATE_45_CONSECUTIVE"),
        ("F", "ENTER_HIGH_RISK"), ("F", "LATE_45_CONSECUTIVE"),
    }  # fmt: skip


def test_no_alert_gives_an_empty_frame():
    quiet = previous()
    got = find_alerts(compare_books(quiet, quiet), quiet, None, AlertRules(), 8)
    assert got.empty and list(got.columns) == ALERT_COLUMNS


def test_worst_severity():
    got = worst_severity(alerts())
    assert got["A"] == "high" and got["E"] == "high" and got["B"] == "high"
    assert worst_severity(alerts().iloc[:0]).empty


def test_events_between_takes_the_period():
    events = new_events().assign(description="x")
    got = events_between(events, pd.Timestamp("2025-12-03"), pd.Timestamp("2025-12-05"))
    assert got["event_date"].dt.day.tolist() == [5, 4]
    assert events_between(None, NOV, DEC).empty


@pytest.mark.parametrize("language", ["fr", "EN"])
def test_an_unknown_language_is_an_error(language):
    with pytest.raises(ValueError, match="unknown language"):
        alerts(language=language)


def test_a_missing_column_is_an_error():
    with pytest.raises(KeyError, match="late_45_quarters"):
        find_alerts(current().drop(columns="late_45_quarters"), previous(), None, AlertRules(), 8)


SCALE = MasterScale.from_records(
    [
        {"grade": g, "label": str(g), "max_pd": b}
        for g, b in enumerate([0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.0], 1)
    ]
)


def replay(pds: list[float], rules: AlertRules) -> list[list[str]]:
    """The alert rules fired each month for one customer whose PD follows ``pds``."""
    previous, fired_each = None, []
    for p in pds:
        grade = int(SCALE.assign(np.array([p]))[0])
        book = frame([("X", "scored", grade, p, 1000.0, 20000.0, 0.0, 0.0, pd.NaT, None)])
        book = compare_books(book, previous, SCALE, rules.hysteresis)
        got = find_alerts(book, previous, None, rules, 8)
        fired_each.append(sorted(got["rule"]))
        previous = book
    return fired_each


def test_a_customer_oscillating_around_a_boundary_is_alerted_once():
    pds = [0.03, 0.20, 0.14, 0.20, 0.14, 0.20]  # grade 5, then 8 / 7 / 8 / 7 / 8
    with_hysteresis = replay(pds, AlertRules())
    assert with_hysteresis == [[], ["DOWNGRADE", "ENTER_HIGH_RISK", "PD_INCREASE"], [], [], [], []]
    without = replay(pds, AlertRules(hysteresis=None))
    assert without[3] == without[5] == ["ENTER_HIGH_RISK", "PD_INCREASE"]  # every other month


def test_a_grade_entered_without_the_margin_alerts_when_it_holds_two_months():
    got = replay([0.14, 0.16, 0.16, 0.16], AlertRules())
    assert got == [[], [], ["ENTER_HIGH_RISK"], []]
    assert replay([0.14, 0.16, 0.14, 0.16], AlertRules()) == [[], [], [], []]


def test_the_grade_alerts_word_the_move_from_the_settled_grade():
    previous = compare_books(
        frame([("X", "scored", 8, 0.16, 0.0, 1.0, 0.0, 0.0, pd.NaT, None)]), None
    ).assign(settled_grade=7)  # in grade 8 for one month, settled in 7
    book = frame([("X", "scored", 8, 0.17, 0.0, 1.0, 0.0, 0.0, pd.NaT, None)])
    book = compare_books(book, previous, SCALE, AlertRules().hysteresis)
    assert book[["previous_settled_grade", "settled_grade"]].iloc[0].tolist() == [7, 8]
    got = find_alerts(book, previous, None, AlertRules(), 8)
    assert got["message"].tolist() == ["Entered the high-risk grades: grade 8, was 7"]


def test_compare_books_carries_the_pd_two_months_back():
    first = compare_books(previous(), None)
    second = compare_books(previous().assign(pd_12m=lambda f: f["pd_12m"] + 0.01), first)
    third = compare_books(current(), second).set_index("customer_id")
    assert third.loc["A", "earlier_pd_12m"] == pytest.approx(0.015)
    assert third.loc["A", "previous_pd_12m"] == pytest.approx(0.025)
    assert pd.isna(third.loc["F", "earlier_pd_12m"])


def test_a_pd_increase_back_to_two_months_ago_is_no_news():
    rules = AlertRules()
    assert replay([0.12, 0.06, 0.12], rules)[2] == []
    assert replay([0.12, 0.06, 0.12], AlertRules(hysteresis=None))[2] == ["PD_INCREASE"]
    assert replay([0.05, 0.06, 0.12], rules)[2] == ["PD_INCREASE"]


def test_grade_rule_hits_only_the_rules_that_are_on():
    rules = AlertRules.model_validate({"downgrade": None})
    hits = grade_rule_hits(current()[current()["status"] == "scored"], rules, 8)
    assert list(hits.columns) == ["ENTER_HIGH_RISK", "PD_INCREASE"]
    assert hits.dtypes.eq(bool).all()
