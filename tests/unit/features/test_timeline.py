import numpy as np
import pandas as pd
import pytest

from features.timeline import Grid, month_end, month_index, trailing_sum

JAN_2024 = 2024 * 12  # month index of January 2024


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-01-01", JAN_2024),
        ("2024-01-31", JAN_2024),
        ("2023-12-31", JAN_2024 - 1),
        ("2024-12-15", JAN_2024 + 11),
        ("2000-03-15", 2000 * 12 + 2),
    ],
)
def test_month_index(date, expected):
    assert month_index(pd.Series(pd.to_datetime([date])))[0] == expected


def test_month_index_of_nat_is_minus_one_and_dtype_is_int64():
    got = month_index(pd.Series(pd.to_datetime(["2024-02-29", None])))
    assert got.dtype == np.int64
    assert got.tolist() == [JAN_2024 + 1, -1]


def test_month_index_accepts_a_datetime_index():
    got = month_index(pd.DatetimeIndex(["2024-03-01", "2025-01-31"]))
    assert got.tolist() == [JAN_2024 + 2, JAN_2024 + 12]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (JAN_2024, "2024-01-31"),
        (JAN_2024 + 1, "2024-02-29"),  # leap year
        (JAN_2024 - 11, "2023-02-28"),
        (JAN_2024 + 3, "2024-04-30"),
        (JAN_2024 - 1, "2023-12-31"),
    ],
)
def test_month_end(index, expected):
    got = month_end(index)
    assert isinstance(got, pd.DatetimeIndex)
    assert list(got) == [pd.Timestamp(expected)]


def test_month_end_of_an_array_and_round_trip():
    months = np.array([JAN_2024 - 13, JAN_2024, JAN_2024 + 25])
    ends = month_end(months)
    assert list(ends) == list(pd.to_datetime(["2022-12-31", "2024-01-31", "2026-02-28"]))
    assert month_index(ends).tolist() == months.tolist()


@pytest.fixture
def grid():
    return Grid(["A", "B"], first_month=10, last_month=12)


def test_grid_shape_and_attributes(grid):
    assert grid.shape == (2, 3)
    assert grid.first == 10 and grid.n_months == 3
    assert list(grid.customers) == ["A", "B"]


def test_a_single_month_grid_is_allowed():
    assert Grid(["A"], 5, 5).shape == (1, 1)


def test_grid_rejects_an_empty_month_range():
    with pytest.raises(ValueError, match="empty month range 5..4"):
        Grid(["A"], 5, 4)


@pytest.mark.parametrize(
    ("customer", "month", "cell"),
    [
        ("A", 10, 0),
        ("A", 12, 2),
        ("B", 10, 3),
        ("B", 12, 5),
        ("A", 9, -1),  # before the first month
        ("B", 13, -1),  # after the last month
        ("Z", 11, -1),  # not a grid customer
    ],
)
def test_grid_position(grid, customer, month, cell):
    assert grid.position(np.array([customer]), np.array([month])).tolist() == [cell]


def test_grid_total_counts_and_weights_ignoring_outside_cells(grid):
    cells = np.array([0, 0, 5, -1])
    assert grid.total(cells).tolist() == [[2, 0, 0], [0, 0, 1]]
    weighted = grid.total(cells, np.array([1.5, 2.0, 3.0, 100.0]))
    assert weighted.tolist() == [[3.5, 0, 0], [0, 0, 3.0]]
    assert weighted.dtype == float


def test_grid_total_of_no_cells_is_zero(grid):
    assert grid.total(np.array([], dtype=np.int64)).tolist() == [[0, 0, 0], [0, 0, 0]]


def test_grid_maximum(grid):
    cells = np.array([0, 0, 5, -1])
    got = grid.maximum(cells, np.array([3.0, 7.0, -2.0, 100.0]))
    np.testing.assert_array_equal(got, [[7, np.nan, np.nan], [np.nan, np.nan, -2]])
    filled = grid.maximum(cells, np.array([3.0, 7.0, -2.0, 100.0]), empty=0.0)
    assert filled.tolist() == [[7, 0, 0], [0, 0, -2]]


def test_grid_gather(grid):
    values = np.arange(6, dtype=float).reshape(2, 3)  # A: 0 1 2, B: 3 4 5
    cells = grid.position(pd.Series(["B", "A", "Z", "A"]), np.array([11, 10, 10, 13]))
    got = grid.gather(values, cells)
    np.testing.assert_array_equal(got, [4.0, 0.0, np.nan, np.nan])


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (1, [1, 2, 3, 4, 5]),
        (2, [1, 3, 5, 7, 9]),
        (3, [1, 3, 6, 9, 12]),
        (5, [1, 3, 6, 10, 15]),
        (7, [1, 3, 6, 10, 15]),  # longer than the grid: the running total
    ],
)
def test_trailing_sum(window, expected):
    grid = np.array([[1, 2, 3, 4, 5], [0, 0, 0, 0, 0]], dtype=float)
    got = trailing_sum(grid, window)
    assert got[0].tolist() == expected
    assert got[1].tolist() == [0, 0, 0, 0, 0]


def test_trailing_sum_does_not_modify_its_input():
    grid = np.array([[1.0, 2.0, 3.0]])
    trailing_sum(grid, 2)
    assert grid.tolist() == [[1.0, 2.0, 3.0]]


def test_month_end_of_repeated_unordered_and_no_months():
    index = np.array([24299, 24289, 24299, 24300, 24289])  # Dec 2024, Feb 2024, Dec, Jan 2025, Feb
    got = month_end(index)
    assert [str(d.date()) for d in got] == [
        "2024-12-31", "2024-02-29", "2024-12-31", "2025-01-31", "2024-02-29",
    ]  # fmt: skip
    assert len(month_end(np.array([], dtype=np.int64))) == 0
