from pathlib import Path

import numpy as np
import pytest
import yaml

from models.master_scale import Grade, MasterScale, grade_usage

RECORDS = [
    {"grade": 1, "label": "low", "max_pd": 0.1},
    {"grade": 2, "label": "medium", "max_pd": 0.5},
    {"grade": 3, "label": "high", "max_pd": 1.0},
]
SCALE = MasterScale.from_records(RECORDS)


def test_from_records():
    assert SCALE.grades == (Grade(1, "low", 0.1), Grade(2, "medium", 0.5), Grade(3, "high", 1.0))
    text = MasterScale.from_records([{"grade": "1", "label": 5, "max_pd": "1"}])
    assert text.grades == (Grade(1, "5", 1.0),)


@pytest.mark.parametrize(
    ("pd_value", "grade"),
    [
        (0.0, 1),
        (0.1, 1),  # a PD equal to a grade's max_pd belongs to that grade
        (np.nextafter(0.1, 1), 2),
        (0.5, 2),
        (0.5000001, 3),
        (1.0, 3),
    ],
)
def test_assign_at_the_bounds(pd_value, grade):
    assert SCALE.assign(np.array([pd_value])).tolist() == [grade]


def test_assign_a_vector_and_a_list():
    got = SCALE.assign([0.05, 0.7, 0.3, 0.1])
    assert got.tolist() == [1, 3, 2, 1]
    assert np.issubdtype(got.dtype, np.integer)


def test_assign_uses_the_grade_numbers():
    scale = MasterScale((Grade(5, "a", 0.2), Grade(8, "b", 1.0)))
    assert scale.assign([0.2, 0.21]).tolist() == [5, 8]


@pytest.mark.parametrize("bad", [-0.01, 1.01, np.nan])
def test_assign_rejects_pds_outside_0_1_or_missing(bad):
    with pytest.raises(ValueError, match=r"PDs must lie in \[0, 1\] without missing values"):
        SCALE.assign(np.array([0.2, bad]))


def test_bounds():
    assert SCALE.bounds(1) == (0.0, 0.1)
    assert SCALE.bounds(2) == (0.1, 0.5)
    assert SCALE.bounds(3) == (0.5, 1.0)
    with pytest.raises(KeyError, match="grade 4 is not on the master scale"):
        SCALE.bounds(4)


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ([0.1, 0.1, 1.0], "must increase strictly"),
        ([0.5, 0.1, 1.0], "must increase strictly"),
        ([0.1, 0.5, 0.99], "must reach PD 1.0"),
    ],
)
def test_bad_bounds_are_an_error(bounds, message):
    records = [{"grade": i + 1, "label": str(i), "max_pd": b} for i, b in enumerate(bounds)]
    with pytest.raises(ValueError, match=message):
        MasterScale.from_records(records)


@pytest.mark.parametrize("numbers", [[1, 1, 2], [2, 1, 3]])
def test_bad_grade_numbers_are_an_error(numbers):
    bounds = [0.1, 0.5, 1.0]
    records = [
        {"grade": g, "label": "x", "max_pd": b} for g, b in zip(numbers, bounds, strict=True)
    ]
    with pytest.raises(ValueError, match="grade numbers must be unique and increasing"):
        MasterScale.from_records(records)


def test_a_scale_without_grades_is_an_error():
    with pytest.raises(ValueError, match="no grades"):
        MasterScale(())


def test_the_project_scale():
    text = (Path(__file__).resolve().parents[3] / "configs" / "master_scale.yaml").read_text()
    scale = MasterScale.from_records(yaml.safe_load(text)["grades"])
    assert scale.grades[-1].max_pd == 1.0
    assert scale.assign([0.0025, 0.0026, 1.0]).tolist() == [1, 2, scale.grades[-1].grade]


def test_grade_usage_counts_rows_and_customers_and_finds_empty_grades():
    scale = MasterScale.from_records(
        [*RECORDS[:2], {"grade": 3, "label": "x", "max_pd": 0.8}, {**RECORDS[2], "grade": 4}]
    )
    usage = grade_usage(scale, np.array([0.05, 0.06, 0.9, 0.02]), np.array(["a", "a", "b", "c"]))
    assert usage["rows"] == {"1": 3, "2": 0, "3": 0, "4": 1}
    assert usage["customers"] == {"1": 2, "2": 0, "3": 0, "4": 1}
    assert usage["covered"] == [1, 2, 3, 4] and usage["unused"] == [2, 3]


def test_grade_usage_covers_only_the_range_of_the_pds():
    usage = grade_usage(SCALE, np.array([0.2, 0.3]), np.array([1, 2]))
    assert usage["covered"] == [2] and usage["unused"] == []
    assert usage["rows"] == {"1": 0, "2": 2, "3": 0}


@pytest.mark.parametrize(
    ("pd_values", "customers"),
    [(np.array([]), np.array([])), (np.array([0.1, 0.2]), np.array(["a"]))],
)
def test_grade_usage_needs_one_customer_per_pd(pd_values, customers):
    with pytest.raises(ValueError, match="one customer per PD"):
        grade_usage(SCALE, pd_values, customers)
