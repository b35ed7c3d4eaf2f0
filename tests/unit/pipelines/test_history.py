import pandas as pd
import pytest

from pipelines.book.history import (
    book_path,
    history_dates,
    months_to_backfill,
    previous_date,
    read_book,
    write_book,
)
from pipelines.io.files import StageError

NOV, DEC = pd.Timestamp("2025-11-30"), pd.Timestamp("2025-12-31")
MONTHS = list(pd.date_range("2025-06-30", "2025-12-31", freq="ME"))


def test_books_are_stored_by_date(tmp_path):
    book = pd.DataFrame({"customer_id": ["C1"], "grade": [3]})
    write_book(book, DEC, tmp_path)
    write_book(book.assign(grade=4), NOV, tmp_path)
    (tmp_path / "notes.txt").write_text("not a book")
    assert history_dates(tmp_path) == [NOV, DEC]
    assert book_path(DEC, tmp_path).name == "2025-12-31.parquet"
    pd.testing.assert_frame_equal(read_book(DEC, tmp_path), book)
    assert previous_date(DEC, tmp_path) == NOV and previous_date(NOV, tmp_path) is None


def test_a_missing_folder_or_book(tmp_path):
    assert history_dates(tmp_path / "none") == []
    with pytest.raises(StageError, match="no scored book of 2025-12-31"):
        read_book(DEC, tmp_path)


@pytest.mark.parametrize(("months", "expected"), [(5, MONTHS[1:6]), (2, MONTHS[4:6]), (0, [])])
def test_an_empty_history_is_back_filled(tmp_path, months, expected):
    assert months_to_backfill(MONTHS, DEC, months, tmp_path) == expected


def test_a_stored_earlier_book_stops_the_back_fill(tmp_path):
    write_book(pd.DataFrame({"customer_id": ["C1"]}), MONTHS[0], tmp_path)
    assert months_to_backfill(MONTHS, DEC, 5, tmp_path) == []
    # a later stored book does not count: it is not before the as-of date
    assert months_to_backfill(MONTHS, MONTHS[0], 5, tmp_path) == []
