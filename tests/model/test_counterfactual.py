"""What it would take, on the default run: every stated change reaches the stated grade.

Reads the default run's outputs (``make run``): ``data/scored/scores.csv``, the feature
snapshots and the registered model that scored the book (its ``model_version``). For every
customer with a ``what_it_would_take_code``, the stated change is made to its features at the
as-of date and the row is re-scored through the registered pyfunc: it must reach the grade one
better than its own. Skipped, with the reason, where those outputs are absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.attributes import as_model_input
from features.catalogue import FEATURES
from models.counterfactual import Change, apply_changes, plausible_ranges
from pipelines.io.paths import Paths
from pipelines.runtime.config import load_config


def parse(code: str) -> tuple[Change, ...]:
    """``feature:before->after;...`` as changes."""
    changes = []
    for part in code.split(";"):
        feature, values = part.split(":")
        before, after = values.split("->")
        changes.append(Change(feature, float(before), float(after)))
    return tuple(changes)


@pytest.fixture(scope="module")
def default_run():
    paths = Paths()
    needed = [paths.scores, paths.snapshots, paths.root / "mlflow.db"]
    absent = [str(p) for p in needed if not p.exists()]
    if absent:
        pytest.skip(f"the default run's outputs are absent ({', '.join(absent)}): make run")
    scores = pd.read_csv(paths.scores, dtype={"customer_id": str}, keep_default_na=False)
    if "what_it_would_take_code" not in scores.columns:
        pytest.skip("scores.csv predates the what_it_would_take column: rerun the score stage")
    from pipelines.modelstore.registry import load_model

    cfg = load_config(paths.root / "configs/params.yaml")
    version = int(scores["model_version"].iloc[0])
    uri = paths.tracking_uri(cfg.register_.tracking_uri)
    model = load_model(f"models:/{cfg.register_.model_name}/{version}", uri)
    snapshots = pd.read_parquet(paths.snapshots)
    as_of = pd.Timestamp(scores["as_of_date"].iloc[0])
    rows = snapshots[pd.to_datetime(snapshots["as_of_date"]) == as_of]
    rows = rows.assign(customer_id=rows["customer_id"].astype(str)).set_index("customer_id")
    return scores, rows, model


def test_every_stated_change_reaches_the_stated_grade(default_run):
    from pipelines.modelstore.registry import input_names, predict

    scores, rows, model = default_run
    stated = scores[scores["what_it_would_take_code"] != ""]
    assert len(stated) > len(scores) / 2, "most customers above grade 1 should have an answer"
    assert (stated["what_it_would_take"] != "").all()
    assert (scores.loc[scores["grade"].astype(int) == 1, "what_it_would_take"] == "").all()
    changes = [parse(code) for code in stated["what_it_would_take_code"]]
    features = rows.loc[stated["customer_id"], input_names(model)].reset_index(drop=True)
    for feature_row, row_changes in zip(features.itertuples(index=False), changes, strict=True):
        for c in row_changes:  # the stated "from" is the customer's value at the as-of date
            assert getattr(feature_row, c.feature) == pytest.approx(c.before, rel=1e-9)
    changed = apply_changes(features, changes)
    rescored = pd.DataFrame(predict(model, as_model_input(changed), {"language": "en"}))
    target = stated["grade"].astype(int).to_numpy() - 1
    missed = np.flatnonzero(rescored["grade"].to_numpy() > target)
    assert missed.size == 0, stated.iloc[missed][["customer_id", "grade", "what_it_would_take"]]


def test_stated_changes_are_actionable_safe_and_within_the_book(default_run):
    scores, rows, _ = default_run
    stated = scores[scores["what_it_would_take_code"] != ""]
    names = sorted({c.feature for code in stated["what_it_would_take_code"] for c in parse(code)})
    ranges = plausible_ranges(rows.loc[scores["customer_id"], names])
    for code in stated["what_it_would_take_code"]:
        for c in parse(code):
            spec = FEATURES[c.feature]
            assert spec.actionable, c.feature
            assert spec.direction * (c.after - c.before) < 0, c
            lo, hi = ranges.loc[c.feature, ["lo", "hi"]]
            assert lo - 1e-9 <= c.after <= hi + 1e-9, (c, lo, hi)
