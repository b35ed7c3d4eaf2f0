"""Hysteresis on grades: the grade a customer has settled in, so that a boundary does not flip.

The model grade moves whenever the PD crosses a master-scale boundary, however slightly: a
customer whose PD sits on a boundary would enter and leave a grade month after month, and every
entry would raise an alert. The *settled grade* moves only on a real change:

* at once when the PD is beyond a boundary by ``margin`` (relative to the boundary: with 0.25 a
  PD must be 25% above a grade's lower bound to settle in that grade or a worse one, and 25%
  below a grade's upper bound to settle back in it or a better one), to the farthest grade so
  crossed;
* or when the model grade has been beyond the settled grade on the same side this month and
  last month, to the nearer of those two grades (the grade held both months).

A customer with no settled grade yet (new, or scored again after a month unscored) settles in
its model grade. With ``margin`` 0 the settled grade is the model grade.
"""

from __future__ import annotations

import numpy as np

from models.master_scale import MasterScale


def settle_grades(
    pd_12m: np.ndarray,
    grade: np.ndarray,
    previous_grade: np.ndarray,
    previous_settled: np.ndarray,
    scale: MasterScale,
    margin: float,
) -> np.ndarray:
    """Return each customer's settled grade this month.

    Args:
        pd_12m: PD now.
        grade: Model grade now (``scale.assign(pd_12m)``).
        previous_grade: Model grade last month (NaN: not scored last month).
        previous_settled: Settled grade last month (NaN: none, the customer settles in ``grade``).
        scale: The master scale of the grades.
        margin: How far beyond a boundary (relative) the PD must be to move the grade at once.

    Returns:
        Integer grades, aligned to ``pd_12m``.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    p = np.asarray(pd_12m, dtype=float)
    g = np.asarray(grade, dtype=float)
    before, settled = (np.asarray(a, dtype=float) for a in (previous_grade, previous_settled))
    if not p.shape == g.shape == before.shape == settled.shape:
        raise ValueError(
            f"need one value per customer, got shapes {p.shape}, {g.shape}, {before.shape}, "
            f"{settled.shape}"
        )
    # farthest grade entered by the margin, each way (never past the model grade)
    worse = scale.assign(p / (1 + margin)).astype(float)
    better = scale.assign(np.minimum(p * (1 + margin), 1.0)).astype(float)
    known = ~np.isnan(before)
    # the grade held both months: the nearer of last month's and this month's
    held_worse = np.where(known, np.minimum(g, np.where(known, before, 0)), -np.inf)
    held_better = np.where(known, np.maximum(g, np.where(known, before, 0)), np.inf)
    down, up = np.maximum(worse, held_worse), np.minimum(better, held_better)
    moved = np.where(down > settled, down, np.where(up < settled, up, settled))
    return np.where(np.isnan(settled), g, moved).astype(int)
