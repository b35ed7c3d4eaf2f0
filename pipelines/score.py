"""Score stage: the book as of the latest snapshot date through the registered pyfunc.

Inputs:
    data/features/snapshots.parquet (rows of the latest as_of_date are scored),
    data/features/default_dates.parquet (who is already in default),
    data/raw/customers.parquet (the book), data/raw/manifest.json (as_of_date, a check),
    data/reports/registry.json (model_uri and model_version of the registered model).
Outputs:
    data/scored/scores.csv: customer_id, name, industry, region, as_of_date, pd_12m, grade,
    reason_k_code / reason_k, model_version; riskiest first.
    data/scored/rejects.csv: customer_id, name, reason, for every customer of the book not scored.
Params:
    none (the model, its reasons included, comes from the registry).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.config import Config, load_config, parse_args
from pipelines.io import (
    FEATURES,
    RAW,
    REPORTS,
    SCORED,
    StageError,
    read_json,
    read_parquet,
    run_stage,
    write_csv,
)
from pipelines.registry import input_names, load_model

SNAPSHOTS = FEATURES / "snapshots.parquet"
DEFAULT_DATES = FEATURES / "default_dates.parquet"
CUSTOMERS = RAW / "customers.parquet"
CHUNK_ROWS = 50_000
ID_COLUMNS = ["customer_id", "name", "industry", "region", "as_of_date"]

log = logging.getLogger("pipelines.score")


def score_rows(rows: pd.DataFrame, model: Any, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Return the pyfunc ``model``'s output for ``rows``, predicted ``chunk_rows`` at a time."""
    names = input_names(model)
    _require(rows, names, SNAPSHOTS)
    parts = []
    for start in range(0, len(rows), chunk_rows):
        # counts may be stored as integers; the signature wants doubles
        chunk = rows.iloc[start : start + chunk_rows][names].astype(float)
        parts.append(pd.DataFrame(model.predict(chunk)).set_axis(chunk.index))
        log.info("scored %d of %d rows", min(start + chunk_rows, len(rows)), len(rows))
    return pd.concat(parts)


def explain_unscored(
    book: pd.DataFrame, scored_ids: pd.Series, defaults: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Return ``customer_id, name, reason`` for each customer of ``book`` not in ``scored_ids``.

    Raises:
        StageError: A customer is neither scored nor explained, or is scored while in default.
    """
    first = defaults.assign(default_date=pd.to_datetime(defaults["default_date"]))
    first = first.sort_values("default_date").drop_duplicates("customer_id")
    first = first[first["default_date"] <= as_of].set_index("customer_id")
    both = scored_ids[scored_ids.isin(first.index)]
    if not both.empty:
        raise StageError(f"customers scored although in default at {as_of:%Y-%m-%d}: {_few(both)}")
    rest = book.loc[~book["customer_id"].isin(scored_ids), ["customer_id", "name"]]
    starts = pd.to_datetime(
        rest["customer_id"].map(book.set_index("customer_id")["relationship_start"])
    )
    reasons = pd.Series(pd.NA, index=rest.index, dtype="object")
    for i, cid in rest["customer_id"].items():
        if cid in first.index:
            hit = first.loc[cid]
            reasons[i] = (
                f"in default since {hit['default_date']:%Y-%m-%d} ({hit['default_trigger']})"
            )
        elif starts[i] > as_of:
            reasons[i] = f"relationship starts {starts[i]:%Y-%m-%d}, after the as-of date"
    unexplained = rest.loc[reasons.isna(), "customer_id"]
    if not unexplained.empty:
        raise StageError(
            f"{len(unexplained)} customers of the book are neither scored nor explained (no "
            f"snapshot at {as_of:%Y-%m-%d}): {_few(unexplained)}"
        )
    return rest.assign(reason=reasons).sort_values("customer_id").reset_index(drop=True)


def latest_rows(snapshots: pd.DataFrame, book: pd.DataFrame, manifest: Any) -> pd.DataFrame:
    """Return the snapshot rows of the latest as-of date with the customer's name."""
    if snapshots.empty:
        raise StageError(f"{SNAPSHOTS} is empty: nothing to score")
    as_of = pd.Timestamp(snapshots["as_of_date"].max())
    data_as_of = manifest.get("as_of_date") if isinstance(manifest, dict) else None
    if data_as_of is not None and as_of > pd.Timestamp(data_as_of):
        raise StageError(f"latest snapshot {as_of:%Y-%m-%d} is after the data as-of {data_as_of}")
    rows = snapshots[pd.to_datetime(snapshots["as_of_date"]) == as_of]
    for frame, what in ((rows, "the latest snapshots"), (book, "the book")):
        twice = frame.loc[frame["customer_id"].duplicated(), "customer_id"]
        if not twice.empty:
            raise StageError(f"customers appear twice in {what}: {_few(twice)}")
    strangers = rows.loc[~rows["customer_id"].isin(book["customer_id"]), "customer_id"]
    if not strangers.empty:
        raise StageError(f"snapshot customers not in the book: {_few(strangers)}")
    names = book[["customer_id", "name"]]
    return rows.drop(columns="name", errors="ignore").merge(names, on="customer_id", how="left")


def build_scores(rows: pd.DataFrame, result: pd.DataFrame, model_version: Any) -> pd.DataFrame:
    """Assemble the scores table, riskiest first."""
    scores = pd.concat([rows[ID_COLUMNS], result], axis=1)
    scores["as_of_date"] = pd.to_datetime(scores["as_of_date"]).dt.strftime("%Y-%m-%d")
    scores["pd_12m"] = scores["pd_12m"].round(6)
    scores["model_version"] = model_version
    order = scores.sort_values(["pd_12m", "customer_id"], ascending=[False, True], kind="stable")
    return order.reset_index(drop=True)


def run(cfg: Config) -> None:
    """Score the latest snapshot rows; write scores and rejects."""
    snapshots = read_parquet(SNAPSHOTS)
    defaults = read_parquet(DEFAULT_DATES)
    book = read_parquet(CUSTOMERS)
    _require(snapshots, ["customer_id", "as_of_date", "industry", "region"], SNAPSHOTS)
    _require(defaults, ["customer_id", "default_date", "default_trigger"], DEFAULT_DATES)
    _require(book, ["customer_id", "name", "relationship_start"], CUSTOMERS)
    # one key dtype everywhere, so that isin and merges line up
    snapshots, defaults, book = (
        f.assign(customer_id=f["customer_id"].astype(str)) for f in (snapshots, defaults, book)
    )
    registry = read_json(REPORTS / "registry.json")
    rows = latest_rows(snapshots, book, read_json(RAW / "manifest.json"))
    as_of = pd.Timestamp(rows["as_of_date"].iloc[0])
    model = load_model(registry["model_uri"], registry["tracking_uri"])
    scores = build_scores(rows, score_rows(rows, model), registry["model_version"])
    rejects = explain_unscored(book, scores["customer_id"], defaults, as_of)
    if len(scores) + len(rejects) != len(book):
        raise StageError(f"{len(scores)} scored + {len(rejects)} rejected != {len(book)} in book")
    write_csv(scores, SCORED / "scores.csv")
    write_csv(rejects, SCORED / "rejects.csv")
    log.info("as of %s: %d scored, %d rejected", f"{as_of:%Y-%m-%d}", len(scores), len(rejects))


def _require(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise StageError(f"{path} lacks columns {missing}; found {list(frame.columns)}")


def _few(ids: pd.Series) -> str:
    return f"{ids.head(5).tolist()}" + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m pipelines.score --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
