import numpy as np
import pandas as pd
import pytest

from features.events import add_event_features
from features.timeline import month_index

COUNTS = ["legal_disputes_12m", "ownership_changes_12m", "management_changes_12m"]
SINCE = ["months_since_legal_dispute", "months_since_ownership_change"]


def month(date: str) -> int:
    return int(month_index(pd.DatetimeIndex([date]))[0])


def events(*rows: tuple[str, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "event_date", "event_type"])
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame


EVENTS = events(
    ("A", "2023-03-10", "legal_dispute"),
    ("A", "2024-01-05", "legal_dispute"),
    ("A", "2024-02-20", "ownership_change"),
    ("A", "2024-06-01", "management_change"),  # after every snapshot below but the last
    ("A", "2024-01-10", "rating_downgrade"),  # not a counted kind
    ("Z", "2024-01-10", "legal_dispute"),  # not in the snapshots
)


def snaps(*keys: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [c for c, _ in keys], "month": [month(d) for _, d in keys]},
        index=[f"s{i}" for i in range(len(keys))],
    )


def values(frame: pd.DataFrame, i: int) -> dict:
    return {c: (None if np.isnan(v) else v) for c, v in frame[COUNTS + SINCE].iloc[i].items()}


@pytest.fixture
def features() -> pd.DataFrame:
    return add_event_features(
        snaps(
            ("A", "2022-12-31"),
            ("A", "2024-02-29"),
            ("A", "2024-03-31"),
            ("B", "2024-03-31"),
            ("A", "2024-06-30"),
        ),
        EVENTS,
    )


def test_before_any_event(features):
    assert values(features, 0) == {
        "legal_disputes_12m": 0.0,
        "ownership_changes_12m": 0.0,
        "management_changes_12m": 0.0,
        "months_since_legal_dispute": None,
        "months_since_ownership_change": None,
    }


def test_counts_over_twelve_months_and_months_since(features):
    # Feb 2024: the window Mar 2023..Feb 2024 holds both disputes; the ownership change is
    # in the snapshot's own month; the June management change is not known yet
    assert values(features, 1) == {
        "legal_disputes_12m": 2.0,
        "ownership_changes_12m": 1.0,
        "management_changes_12m": 0.0,
        "months_since_legal_dispute": 1.0,
        "months_since_ownership_change": 0.0,
    }
    # Mar 2024: the Mar 2023 dispute drops out of Apr 2023..Mar 2024
    assert values(features, 2) == {
        "legal_disputes_12m": 1.0,
        "ownership_changes_12m": 1.0,
        "management_changes_12m": 0.0,
        "months_since_legal_dispute": 2.0,
        "months_since_ownership_change": 1.0,
    }


def test_an_event_is_counted_from_its_month_end(features):
    assert features["management_changes_12m"].iloc[4] == 1.0
    assert features["months_since_legal_dispute"].iloc[4] == 5.0


def test_a_customer_without_events(features):
    assert values(features, 3) == {
        "legal_disputes_12m": 0.0,
        "ownership_changes_12m": 0.0,
        "management_changes_12m": 0.0,
        "months_since_legal_dispute": None,
        "months_since_ownership_change": None,
    }


def test_events_after_t_are_ignored():
    keys = snaps(("A", "2024-03-31"))
    known = EVENTS[EVENTS["event_date"] <= "2024-03-31"]
    later = events(("A", "2024-04-01", "legal_dispute"), ("A", "2025-01-01", "ownership_change"))
    with_future = pd.concat([EVENTS, later], ignore_index=True)
    pd.testing.assert_frame_equal(
        add_event_features(keys, with_future), add_event_features(keys, known)
    )


def test_the_input_is_kept():
    keys = snaps(("A", "2024-03-31"), ("B", "2024-03-31"))
    before = keys.copy()
    got = add_event_features(keys, EVENTS)
    pd.testing.assert_frame_equal(keys, before)
    assert list(got.index) == ["s0", "s1"]
    assert list(got.columns) == [
        "customer_id",
        "month",
        *sorted(COUNTS + SINCE, key=list(got).index),
    ]


def test_no_events_at_all():
    got = add_event_features(snaps(("A", "2024-03-31")), EVENTS.iloc[:0])
    assert got[COUNTS].iloc[0].tolist() == [0.0, 0.0, 0.0]
    assert got[SINCE].isna().all().all()


@pytest.mark.parametrize("name", ["customer_id", "month"])
def test_snapshots_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_event_features(snaps(("A", "2024-03-31")).drop(columns=name), EVENTS)


@pytest.mark.parametrize("name", ["customer_id", "event_date", "event_type"])
def test_events_require_columns(name):
    with pytest.raises(KeyError, match=name):
        add_event_features(snaps(("A", "2024-03-31")), EVENTS.drop(columns=name))
