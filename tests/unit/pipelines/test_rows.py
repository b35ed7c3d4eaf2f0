import pandas as pd

from features.attributes import as_model_input
from models.counterfactual import Change, apply_changes
from pipelines.book.rows import score_rows
from pipelines.modelstore.registry import input_names, pd_model, predict


def test_score_rows_adds_what_it_would_take_verified_through_the_pyfunc(tiny_pyfunc):
    model, rows = tiny_pyfunc["model"], tiny_pyfunc["X"].iloc[:120]
    plain = score_rows(rows, model, chunk_rows=50)
    assert "what_it_would_take" not in plain.columns  # only when asked
    got = score_rows(rows, model, chunk_rows=50, what_it_would_take=True)
    pd.testing.assert_frame_equal(got[plain.columns], plain)
    stated = got[got["what_it_would_take_code"] != ""]
    assert len(stated) > 10 and stated["what_it_would_take"].str.contains("to reach grade").all()
    changes = [
        tuple(Change(f, float(b), float(a)) for f, b, a in
              (p.replace("->", ":").split(":") for p in code.split(";")))
        for code in stated["what_it_would_take_code"]
    ]  # fmt: skip
    changed = apply_changes(rows.loc[stated.index, input_names(model)], changes)
    rescored = pd.DataFrame(predict(model, as_model_input(changed), {"language": "en"}))
    assert (rescored["grade"].to_numpy() <= stated["grade"].to_numpy() - 1).all()
    assert set(pd_model(model).feature_names) == set(input_names(model))
