"""Train stage: LightGBM on the training window, tuned and early-stopped on its latest months.

Only the training window is used. Its latest ``validation_months`` stop each booster early
(with ``validation_customers``, only those of ``validation_share`` of its customers, held out
of fitting; a window of one as-of date holds out that share of its customers instead, or, split
by customer with ``split.cross_fit_folds``, each trial is cross-validated over folds of
customers and the chosen one refitted on every row at its best iteration);
features whose distribution shifts between the earlier and those latest months (PSI above
``max_feature_psi``) are left out, and every combination of ``search`` is trained and scored by
its early-stopping AUC. The shallowest trial within ``search_auc_tolerance`` of the best wins.
The recipe is :func:`models.recipe.fit_booster`.

Inputs:
    data/features/snapshots.parquet, data/splits/split.parquet, data/features/summary.json
    (the user's attributes: their declared risk directions constrain the trees),
    data/splits/windows.json (``cross_fit_folds``)
Outputs:
    data/models/booster.txt: the LightGBM model (raw score = log-odds).
    data/models/train.json: features, the features left out with their PSI, parameters, best
        iteration, early-stopping scores, and the search (grid, every trial, the choice).
    data/models/importance.csv: gain importance per feature.
Params:
    train
"""

from __future__ import annotations

import logging

from models.recipe import fit_booster, model_features
from models.train import gain_importance
from pipelines.io.artifacts import load_attribute_specs
from pipelines.io.files import StageError, atomic_path, run_stage, write_csv, write_json
from pipelines.io.paths import Paths
from pipelines.io.windows import cross_fit_folds, window_rows
from pipelines.runtime.config import Config, load_config, parse_args
from pipelines.runtime.recipe import booster_settings

log = logging.getLogger("pipelines")


def run(cfg: Config, paths: Paths) -> None:
    """Screen, tune, train and write the booster."""
    rows = window_rows(paths, ["train"])
    folds = cross_fit_folds(paths)
    try:
        booster, record = fit_booster(
            rows, model_features(rows), booster_settings(cfg), load_attribute_specs(paths), folds
        )
    except ValueError as err:
        raise StageError(f"cannot train: {err}") from None
    log_fit(record)
    with atomic_path(paths.booster) as tmp:
        booster.save_model(str(tmp))
    write_csv(gain_importance(booster), paths.importance)
    write_json(record, paths.train_record)


def log_fit(record: dict) -> None:
    """Log the screen, the data and the chosen trial of a :func:`fit_booster` record."""
    excluded = record["excluded_features"]
    listed = ", ".join(f"{name} (PSI {psi:.2f})" for name, psi in excluded.items())
    log.info("stability screen: left out %s", listed or "nothing")
    search = record["search"]
    if record.get("cross_fit_folds"):
        log.info(
            "trained on %d rows, %d features, %d trials, each cross-validated over %d folds of "
            "customers",
            *(record["n_train"], len(record["features"]), len(search["trials"])),
            record["cross_fit_folds"],
        )
    else:
        log.info(
            "trained on %d rows, early stopping on %d, %d features, %d trials",
            *(record["n_train"], record["n_valid"], len(record["features"]), len(search["trials"])),
        )
    chosen = next(trial for trial in search["trials"] if trial["chosen"])
    log.info(
        "chose %s: best iteration %d, %s AUC %.4f%s",
        {k: chosen[k] for k in search["grid"]},
        record["best_iteration"],
        "cross-validated" if record.get("cross_fit_folds") else "early-stopping",
        record["valid_auc"],
        "; refitted on every row" if record.get("cross_fit_folds") else "",
    )


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.train --config configs/params.yaml``."""
    args = parse_args(argv, __doc__.splitlines()[0])
    run_stage(lambda: run(load_config(args.config), Paths()))


if __name__ == "__main__":
    main()
