"""Train stage: LightGBM on the training window, early stopping on its latest months.

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet
Outputs:
    data/models/booster.txt: the LightGBM model (raw score = log-odds).
    data/models/train.json: features, parameters, best iteration, early-stopping scores.
    data/models/importance.csv: gain importance per feature.
Params:
    train
"""

from __future__ import annotations

import logging

import pandas as pd

from features.catalogue import FEATURE_NAMES, FEATURES
from models.train import lgb_params, train_booster
from pipelines.artifacts import BOOSTER
from pipelines.config import Config, load_config, parse_args
from pipelines.io import FEATURES as FEATURES_DIR
from pipelines.io import (
    MODELS,
    SPLITS,
    StageError,
    atomic_path,
    read_parquet,
    run_stage,
    write_csv,
    write_json,
)

log = logging.getLogger("pipelines")


def window_rows(name: str) -> pd.DataFrame:
    """Snapshots of one window of the persisted split."""
    snapshots = read_parquet(FEATURES_DIR / "snapshots.parquet")
    split = read_parquet(SPLITS / "split.parquet")
    if (
        len(split) != len(snapshots)
        or not (split["customer_id"].to_numpy() == snapshots["customer_id"].to_numpy()).all()
    ):
        raise StageError("split.parquet does not match snapshots.parquet: re-run the split stage")
    rows = snapshots[(split["window"] == name).to_numpy()]
    if rows.empty:
        raise StageError(f"the {name} window is empty")
    return rows


def model_features(frame: pd.DataFrame) -> list[str]:
    """Catalogue features present in the snapshot table, in catalogue order."""
    return [name for name in FEATURE_NAMES if name in frame.columns]


def run(cfg: Config) -> None:
    """Train and write the booster."""
    t = cfg.train
    rows = window_rows("train")
    names = model_features(rows)
    cut = rows["month"].max() - t.validation_months
    fit, valid = rows[rows["month"] <= cut], rows[rows["month"] > cut]
    fit_settings = {"num_boost_round", "early_stopping_rounds", "validation_months"}
    params = lgb_params(**t.model_dump(exclude=fit_settings), feature_names=names)
    log.info(
        "training on %d rows, early stopping on %d, %d features", len(fit), len(valid), len(names)
    )
    try:
        booster, record = train_booster(
            fit, valid, names, params, t.num_boost_round, t.early_stopping_rounds
        )
    except ValueError as err:
        raise StageError(f"cannot train: {err}") from None
    log.info(
        "best iteration %d, early-stopping AUC %.4f", record["best_iteration"], record["valid_auc"]
    )
    with atomic_path(BOOSTER) as tmp:
        booster.save_model(str(tmp))
    importance = pd.DataFrame(
        {
            "feature": names,
            "family": [FEATURES[n].family for n in names],
            "gain": booster.feature_importance("gain"),
            "splits": booster.feature_importance("split"),
        }
    ).sort_values("gain", ascending=False)
    write_csv(importance, MODELS / "importance.csv")
    write_json({**record, "features": names, "params": params}, MODELS / "train.json")


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.train --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config)))


if __name__ == "__main__":
    main()
