"""Master scale: maps a 12-month PD to a grade."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grade:
    """One grade of the master scale: PDs up to ``max_pd`` (inclusive) above the grade below."""

    grade: int
    label: str
    max_pd: float


@dataclass(frozen=True)
class MasterScale:
    """An ordered list of grades, safest first, covering PDs from 0 to 1."""

    grades: tuple[Grade, ...]

    def __post_init__(self) -> None:
        bounds = [g.max_pd for g in self.grades]
        if not self.grades:
            raise ValueError("master scale has no grades")
        if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
            raise ValueError(f"master scale bounds must increase strictly, got {bounds}")
        if bounds[-1] < 1.0:
            raise ValueError(f"the last grade must reach PD 1.0, got max_pd {bounds[-1]}")
        numbers = [g.grade for g in self.grades]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise ValueError(f"grade numbers must be unique and increasing, got {numbers}")

    @classmethod
    def from_records(cls, records: list[dict]) -> MasterScale:
        """Build from a list of ``{grade, label, max_pd}`` mappings (the YAML's ``grades``)."""
        return cls(
            tuple(Grade(int(r["grade"]), str(r["label"]), float(r["max_pd"])) for r in records)
        )

    def assign(self, pd_values: np.ndarray) -> np.ndarray:
        """Return the grade number of each PD."""
        pd_values = np.asarray(pd_values, dtype=float)
        if np.isnan(pd_values).any() or (pd_values < 0).any() or (pd_values > 1).any():
            raise ValueError("PDs must lie in [0, 1] without missing values")
        bounds = np.array([g.max_pd for g in self.grades])
        idx = np.searchsorted(bounds, pd_values, side="left")
        numbers = np.array([g.grade for g in self.grades])
        return numbers[np.minimum(idx, len(bounds) - 1)]

    def bounds(self, grade: int) -> tuple[float, float]:
        """Return the ``(lower, upper]`` PD band of a grade."""
        lower = 0.0
        for g in self.grades:
            if g.grade == grade:
                return lower, g.max_pd
            lower = g.max_pd
        raise KeyError(f"grade {grade} is not on the master scale")


def grade_usage(scale: MasterScale, pd_values: np.ndarray, customers: np.ndarray) -> dict:
    """How many rows and customers each grade holds, and which grades the PDs leave empty.

    Args:
        scale: The master scale.
        pd_values: PDs, one per row.
        customers: Customer id of each row.

    Returns:
        ``rows`` and ``customers`` per grade number (every grade of the scale, as strings: JSON
        keys), ``covered`` (the grades from the lowest PD's to the highest PD's) and ``unused``
        (the covered grades holding no row).
    """
    pd_values, customers = np.asarray(pd_values, dtype=float), np.asarray(customers)
    if pd_values.ndim != 1 or len(pd_values) == 0 or customers.shape != pd_values.shape:
        raise ValueError(
            f"need one customer per PD and at least one PD, got {pd_values.shape} PDs and "
            f"{customers.shape} customers"
        )
    grades = scale.assign(pd_values)
    numbers = [g.grade for g in scale.grades]
    covered = [n for n in numbers if grades.min() <= n <= grades.max()]
    rows = {str(n): int((grades == n).sum()) for n in numbers}
    distinct = {str(n): len(np.unique(customers[grades == n])) for n in numbers}
    return {
        "rows": rows,
        "customers": distinct,
        "covered": covered,
        "unused": [n for n in covered if rows[str(n)] == 0],
    }
