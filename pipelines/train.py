"""Train stage: LightGBM on the training window, tuned and early-stopped on its latest months.

Only the training window is used. Its latest ``validation_months`` stop each booster early (a
window of one as-of date holds out ``validation_share`` of its customers instead);
features whose distribution shifts between the earlier and those latest months (PSI above
``max_feature_psi``) are left out, and every combination of ``search`` is trained and scored by
its early-stopping AUC. The shallowest trial within ``search_auc_tolerance`` of the best wins.

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet
Outputs:
    data/models/booster.txt: the LightGBM model (raw score = log-odds).
    data/models/train.json: features, the features left out with their PSI, parameters, best
        iteration, early-stopping scores, and the search (grid, every trial, the choice).
    data/models/importance.csv: gain importance per feature.
Params:
    train
"""

from __future__ import annotations

import json
import logging
import math
from typing import get_args

import pandas as pd

from features.catalogue import ATTRIBUTE_PREFIX, FEATURE_NAMES, spec_for
from models.train import early_stopping_split, lgb_params, tune_booster, unstable_features
from pipelines.io.files import StageError, atomic_path, run_stage, write_csv, write_json
from pipelines.io.paths import Paths
from pipelines.io.windows import window_rows
from pipelines.runtime.config import TUNABLE, Config, TrainConfig, load_config, parse_args

log = logging.getLogger("pipelines")
SMALL_FIT_ROWS = 20_000
LGB_SETTINGS = {"seed", *get_args(TUNABLE)}  # the TrainConfig keys lgb_params takes


def model_features(frame: pd.DataFrame) -> list[str]:
    """Catalogue features present in the snapshot table (catalogue order), then attributes."""
    present = [name for name in FEATURE_NAMES if name in frame.columns]
    return present + sorted(c for c in frame.columns if c.startswith(ATTRIBUTE_PREFIX))


def run(cfg: Config, paths: Paths) -> None:
    """Screen, tune, train and write the booster."""
    t = cfg.train
    rows = window_rows(paths, ["train"])
    fit, valid = early_stopping_split(rows, t.validation_months, t.validation_share, t.seed)
    if fit.empty or valid.empty:
        raise StageError(
            f"the training window leaves {len(fit)} rows to fit and {len(valid)} to stop early; "
            "it needs both (train.validation_months, train.validation_share)"
        )
    names, excluded = screen_features(fit, valid, model_features(rows), t)
    log.info(
        "training on %d rows, early stopping on %d, %d features, %d trials",
        *(len(fit), len(valid), len(names), math.prod(len(v) for v in t.search.values())),
    )
    settings = t.model_dump(include=LGB_SETTINGS)
    # on small data, starting and synchronising threads costs more than the work (and a busy
    # machine makes OpenMP threads spin); the trees are the same either way
    settings["num_threads"] = 1 if len(fit) < SMALL_FIT_ROWS else 0
    fit_args = (t.num_boost_round, t.early_stopping_rounds, t.search_auc_tolerance)
    try:
        booster, record, trials = tune_booster(fit, valid, names, settings, t.search, *fit_args)
    except ValueError as err:
        raise StageError(f"cannot train: {err}") from None
    chosen = record.pop("settings")
    log.info(
        "chose %s: best iteration %d, early-stopping AUC %.4f",
        *({k: chosen[k] for k in t.search}, record["best_iteration"], record["valid_auc"]),
    )
    with atomic_path(paths.booster) as tmp:
        booster.save_model(str(tmp))
    importance = pd.DataFrame(
        {
            "feature": names,
            "family": [spec_for(n).family for n in names],
            "gain": booster.feature_importance("gain"),
            "splits": booster.feature_importance("split"),
        }
    ).sort_values("gain", ascending=False)
    write_csv(importance, paths.importance)
    search = {
        "grid": dict(t.search),
        "auc_tolerance": t.search_auc_tolerance,
        "rule": "highest early-stopping AUC; within the tolerance, the shallowest trees",
        "trials": json.loads(trials.to_json(orient="records")),  # plain Python numbers
    }
    params = lgb_params(**chosen, feature_names=names)
    extra = {"features": names, "excluded_features": excluded, "params": params, "search": search}
    write_json(record | extra, paths.train_record)


def screen_features(
    fit: pd.DataFrame, valid: pd.DataFrame, names: list[str], t: TrainConfig
) -> tuple[list[str], dict[str, float]]:
    """Return the features kept by the stability screen and those left out with their PSI."""
    if t.max_feature_psi is None:
        return names, {}
    excluded = unstable_features(fit, valid, names, t.max_feature_psi, t.psi_bins)
    listed = ", ".join(f"{name} (PSI {psi:.2f})" for name, psi in excluded.items())
    log.info("stability screen: left out %s", listed or "nothing")
    return [n for n in names if n not in excluded], excluded


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.train --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
