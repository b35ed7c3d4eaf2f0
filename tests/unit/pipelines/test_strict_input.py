"""The served model's request contract: what passes, and each refusal's message."""

import json

import pytest

from pipelines.modelstore.strict_input import BadRequest, check_body

REQUIRED = ["a", "b"]
OPTIONAL = ["median__a", "median__b"]


def body(payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, None], [2.5, 3]]}},
        {"dataframe_split": {"columns": ["b", "a", "median__a"], "data": [[1, 2, 3]]},
         "params": {"language": "zh"}},
        {"dataframe_records": [{"a": 1, "b": None}, {"b": 2, "a": -1e9, "median__b": 0}]},
    ],
    ids=["split with a null", "another order and a median", "records"],
)  # fmt: skip
def test_a_well_formed_request_passes(payload):
    check_body(body(payload), REQUIRED, OPTIONAL)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (body({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [1]]}}),
         "row 1 has 1 values for 2 columns"),
        (body({"dataframe_records": [{"a": 1, "b": 2}, {"a": 1}]}), "row 1 lacks required"),
        (body({"dataframe_split": {"columns": ["a", "b"], "data": [[1, False]]}}),
         "row 0, column 'b': false is not a number"),
        (b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1, Infinity]]}}',
         "Infinity is not a JSON number"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (body({"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3]]}}),
         "unknown columns ['c']"),
        (body({"dataframe_split": {"columns": ["a", "b"], "data": []}}), "non-empty list"),
        (body({"inputs": [[1, 2]]}), "exactly one of"),
    ],
    ids=["short row", "record without a column", "boolean", "Infinity", "deep", "unknown column",
         "no rows", "other format"],
)  # fmt: skip
def test_a_broken_request_is_refused_with_what_to_send(raw, message):
    with pytest.raises(BadRequest) as err:
        check_body(raw, REQUIRED, OPTIONAL)
    assert message in str(err.value)


def test_a_categorical_attribute_takes_text_and_only_text():
    split = {"columns": ["a", "b"], "data": [[1, "gold"], [2, None]]}
    check_body(body({"dataframe_split": split}), REQUIRED, OPTIONAL, text=["b"])
    check_body(body({"dataframe_records": [{"a": 1, "b": "silver"}]}), REQUIRED, OPTIONAL, ["b"])
    for value in (3, 2.5, True, ["gold"]):
        split = {"columns": ["a", "b"], "data": [[1, value]]}
        with pytest.raises(BadRequest, match=r"row 0, column 'b': .* is not text: the attrib"):
            check_body(body({"dataframe_split": split}), REQUIRED, OPTIONAL, text=["b"])
    with pytest.raises(BadRequest, match=r"row 0, column 'a': \"x\" is not a number"):
        check_body(
            body({"dataframe_records": [{"a": "x", "b": "gold"}]}), REQUIRED, OPTIONAL, ["b"]
        )
