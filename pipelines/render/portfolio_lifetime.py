"""The portfolio report's lifetime expected loss and provision matrix (``summary.json``'s blocks).

The headline puts the book's lifetime expected credit loss beside its 12-month expected loss;
the table, one row per ageing bucket, the historical loss rate with its interval, the provision
it gives on the performing customers' open invoices, and the model's lifetime ECL of the same
invoices (``pipelines.book.ecl``).
"""

from __future__ import annotations

from typing import Any


def lifetime_context(life: dict | None, matrix: dict | None) -> dict[str, Any] | None:
    """What the template shows; None without a provision matrix (no ledger, an older summary).

    ``life`` is None where the model has no term structure (no lifetime ECL). Each bucket row
    and the total gain ``ecl_share`` (the model's lifetime ECL over the open amount); the total
    gains ``rate`` (the provision over the open amount).
    """
    if not matrix:
        return None
    total = matrix["total"]
    return {
        "life": life,
        "matrix": matrix,
        "rows": [
            {**b, "ecl_share": _share(b["model_ecl"], b["amount"])} for b in matrix["buckets"]
        ],
        "total": {
            **total,
            "rate": _share(total["provision"], total["amount"]),
            "ecl_share": _share(total["model_ecl"], total["amount"]),
        },
    }


def _share(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else part / whole
