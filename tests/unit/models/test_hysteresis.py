import numpy as np
import pytest

from models.hysteresis import settle_grades
from models.master_scale import MasterScale

NAN = np.nan
# grade 7 is (0.08, 0.15], grade 8 (0.15, 0.30], grade 9 (0.30, 0.60]
SCALE = MasterScale.from_records(
    [
        {"grade": g, "label": str(g), "max_pd": b}
        for g, b in enumerate([0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.0], 1)
    ]
)


def settle(p, before, settled, margin=0.25):
    p = np.asarray(p, dtype=float)
    return settle_grades(p, SCALE.assign(p), np.asarray(before), np.asarray(settled), SCALE, margin)


@pytest.mark.parametrize(
    ("pd_now", "before", "settled", "expected", "why"),
    [
        (0.16, 7, 7, 7, "just past the boundary, one month: stays"),
        (0.19, 7, 7, 8, "25% past the 0.15 boundary: moves at once"),
        (0.16, 8, 7, 8, "in grade 8 two months running: moves"),
        (0.14, 8, 8, 8, "just below the boundary, one month: stays"),
        (0.11, 8, 8, 7, "25% below the boundary: back at once"),
        (0.14, 7, 8, 7, "in grade 7 two months running: back"),
        (0.35, 8, 7, 8, "grade 9 without the margin, 8 held both months: to 8"),
        (0.50, 6, 6, 9, "far past two boundaries: to the farthest crossed by the margin"),
        (0.16, NAN, NAN, 8, "new customer: its model grade"),
        (0.16, 9, 7, 8, "last month 9, now 8: the grade held both months"),
    ],
)
def test_the_settled_grade_moves_on_a_margin_or_two_months(pd_now, before, settled, expected, why):
    assert settle([pd_now], [before], [settled]).tolist() == [expected], why


def test_a_pd_oscillating_around_a_boundary_does_not_flip():
    path = [0.14, 0.16, 0.14, 0.16, 0.14, 0.16]
    grades, settled, before = [], NAN, NAN
    for p in path:
        settled = settle([p], [before], [settled])[0]
        before = SCALE.assign(np.array([p]))[0]
        grades.append(settled)
    assert grades == [7] * len(path)


def test_margin_zero_is_the_model_grade():
    p = np.array([0.16, 0.14, 0.5, 0.001])
    got = settle(p, [7, 8, 6, 3], [7, 8, 6, 3], margin=0.0)
    assert got.tolist() == SCALE.assign(p).tolist()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="margin"):
        settle([0.1], [7], [7], margin=-0.1)
    with pytest.raises(ValueError, match="one value per customer"):
        settle_grades(np.array([0.1]), np.array([7]), np.array([7, 7]), np.array([7]), SCALE, 0.2)
