"""The customers validation set aside, as the score stage explains them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def rejected_customers(path: Path) -> pd.DataFrame:
    """``customer_id, reason`` of each customer validation rejected, for the score's rejects.

    Empty when none was rejected or when ``path`` (the customers' rejects file) does not
    exist (outputs of a validation older than quarantine). A duplicated id is listed once.
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame({"customer_id": pd.Series(dtype=str), "reason": pd.Series(dtype=str)})
    rejects = pd.read_csv(path, dtype=str, keep_default_na=False)
    reason = "rejected by validation: " + rejects["column"] + " " + rejects["rule"]
    reason += " (" + rejects["detail"] + "; row " + rejects["row"] + " of the customers file)"
    found = pd.DataFrame({"customer_id": rejects["customer_id"].str.strip(), "reason": reason})
    return found.drop_duplicates("customer_id").reset_index(drop=True)
