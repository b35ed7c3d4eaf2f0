"""The PD model as used everywhere after training: booster + calibrator + master scale + reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.attributes import level_codes
from features.catalogue import FeatureSpec, default_attribute_spec, spec_for, valid_range
from features.wording import check_language
from models.calibration import PDCalibrator
from models.hazard import HazardModel, term_columns
from models.master_scale import MasterScale
from models.reasons import MEDIAN_PREFIX, MIN_REASON_LOGODDS, reason_columns, top_reasons
from models.train import booster_levels
from models.treeshap import TreeTables, contributions, tabulate


class PDModel:
    """Maps feature rows to a 12-month PD, a master-scale grade and reason codes.

    Args:
        booster: The trained LightGBM booster (raw score = log-odds).
        calibrator: Fitted calibrator from raw score to probability.
        scale: The master scale.
        n_reasons: Reason codes per row, at most.
        min_reason_logodds: A reason must raise the log-odds by more than this
            (:func:`models.reasons.top_reasons`); stored with the model, so that the served
            model and the batch give the same reasons.
        attributes: The user's attribute entries (``features.attributes.attribute_specs``):
            their labels and sentences word the reasons; stored with the model.
        term_structure: The hazard model giving the PD's timing over 1..12 months
            (:class:`models.hazard.HazardModel`, on the same features), served with the
            12-month PD (:func:`models.term_curve.served_curve`); ``None``: the 12-month PD only.

    Attributes:
        reference_: Each feature's population reference (its median over the training rows,
            :meth:`fit_reference`), what a reason sentence that quotes no median is judged
            against; ``None`` until fitted (such sentences then never speak).
    """

    def __init__(
        self,
        booster: lgb.Booster,
        calibrator: PDCalibrator,
        scale: MasterScale,
        n_reasons: int = 3,
        min_reason_logodds: float = MIN_REASON_LOGODDS,
        attributes: Mapping[str, FeatureSpec] | None = None,
        term_structure: HazardModel | None = None,
    ) -> None:
        self.booster = booster
        self.calibrator = calibrator
        self.scale = scale
        self.n_reasons = n_reasons
        if not (np.isfinite(min_reason_logodds) and min_reason_logodds >= 0):
            raise ValueError(f"min_reason_logodds must be >= 0, found {min_reason_logodds}")
        self.min_reason_logodds = min_reason_logodds
        self.feature_names: list[str] = booster.feature_name()
        # a categorical attribute's levels, as the booster codes them (learned in training)
        self.levels: dict[str, list[str]] = booster_levels(booster)
        self.specs = feature_specs(self.feature_names, attributes or {}, self.levels)
        self.reference_: dict[str, float] | None = None
        self._tables: TreeTables | None | bool = False  # False: not tabulated yet
        if term_structure is not None and list(term_structure.features) != self.feature_names:
            raise ValueError("the term structure must use the 12-month model's features")
        self.term_structure = term_structure

    def __getstate__(self) -> dict:
        # the TreeSHAP tables are rebuilt from the booster where the model is loaded
        return {**self.__dict__, "_tables": False}

    def __setstate__(self, state: dict) -> None:
        # a model pickled before reasons had a minimum and a reference gets the defaults
        defaults = {
            "min_reason_logodds": MIN_REASON_LOGODDS,
            "reference_": None,
            "term_structure": None,
        }
        self.__dict__.update({"_tables": False, **defaults, **state})
        if "specs" not in state:  # pickled before attributes had a schema
            self.levels = booster_levels(self.booster)
            self.specs = feature_specs(self.feature_names, {}, self.levels)

    def fit_reference(self, X: pd.DataFrame) -> PDModel:
        """Learn each feature's population reference: its median over ``X``, missing left out.

        Args:
            X: The training rows (feature columns; other columns are ignored).

        Returns:
            The model itself.
        """
        medians = self.feature_frame(X).median()
        self.reference_ = {name: float(medians[name]) for name in self.feature_names}
        return self

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """Exact SHAP values of ``X`` (feature columns), shaped as LightGBM's ``pred_contrib``.

        Fast TreeSHAP tables (``models.treeshap``) are built on the first call.
        """
        if self._tables is False:
            self._tables = tabulate(self.booster)
        return contributions(self.booster, X.to_numpy(dtype=np.float64), self._tables)

    @property
    def output_columns(self) -> list[str]:
        """Columns of :meth:`predict`'s result."""
        return ["pd_12m", "grade", *self.term_columns, *reason_columns(self.n_reasons)]

    @property
    def term_columns(self) -> list[str]:
        """The term structure's columns: ``pd_1m`` .. ``pd_11m`` and ``pd_terms`` (or none)."""
        if self.term_structure is None:
            return []
        return [*term_columns(self.term_structure.settings.horizon)[:-1], "pd_terms"]

    @property
    def optional_inputs(self) -> list[str]:
        """Optional inputs: the sector medians, and the terms where ``pd_terms`` needs them.

        The payment terms are an optional input where the model has a term structure and the
        terms are not one of its features.
        """
        terms = ["payment_terms_days"] if self.term_structure is not None else []
        return self.median_columns + [c for c in terms if c not in self.feature_names]

    @property
    def median_columns(self) -> list[str]:
        """Optional input columns of :meth:`predict`: each numeric feature's sector median."""
        return [MEDIAN_PREFIX + name for name in self.feature_names if name not in self.levels]

    def feature_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the model's feature columns of ``frame`` as floats, in training order.

        A categorical attribute becomes its level's code (:attr:`levels`); a level the model
        never saw, like a missing value, takes the missing-value branch.

        Raises:
            ValueError: A feature column is missing or not numeric, or a value is infinite or
                outside the range of its unit (:func:`features.catalogue.valid_range`); the
                message names the column, the rule and the first rows (positions) that break
                it. A missing value (NaN) is allowed: the model was trained with gaps.
        """
        missing = [c for c in self.feature_names if c not in frame.columns]
        if missing:
            raise ValueError(f"input lacks model feature columns: {missing}")
        X = level_codes(frame, self.feature_names, self.levels)
        _check_ranges(X)
        return X

    def median_frame(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """Return the sector medians ``frame`` carries, named as the features; ``None``: none."""
        present = [c for c in self.median_columns if c in frame.columns]
        if not present:
            return None
        try:
            medians = frame[present].astype(float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"sector median columns must be numeric: {err}") from err
        return medians.set_axis([c.removeprefix(MEDIAN_PREFIX) for c in present], axis=1)

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """Return calibrated 12-month PDs."""
        X = self.feature_frame(frame)
        return self.calibrator.predict(self.booster.predict(X.to_numpy(), raw_score=True))

    def predict(self, frame: pd.DataFrame, language: str = "en") -> pd.DataFrame:
        """Return PD, grade and reasons for each row of ``frame``.

        Args:
            frame: Feature rows, optionally with :attr:`median_columns` (``median__<feature>``:
                the row's sector median of the feature, worded into its reason sentence; a
                missing column or value: no median clause); other columns are ignored.
            language: Language of the reason sentences (``en`` or ``zh``).

        Returns:
            ``pd_12m``, ``grade``, with a term structure ``pd_1m`` .. ``pd_11m`` (the PD
            within k months, non-decreasing up to ``pd_12m``) and ``pd_terms`` (within the
            row's ``payment_terms_days`` plus the grace days), and, per reason k,
            ``reason_k_code``, ``reason_k`` (sentence
            with the customer's value and sector median, worded by
            :func:`models.reasons.render_reasons`) and ``reason_k_feature`` (the feature that
            speaks for the reason); only material adverse reasons
            (:func:`models.reasons.top_reasons`), all empty: no adverse factor.
        """
        check_language(language)  # a request with no adverse factor words nothing: check first
        X = self.feature_frame(frame)
        contrib = self.contributions(X)
        raw = contrib.sum(axis=1)  # contributions plus the bias term add up to the raw score
        pd_12m = self.calibrator.predict(raw)
        result = pd.DataFrame(
            {"pd_12m": pd_12m, "grade": self.scale.assign(pd_12m)}, index=frame.index
        )
        if self.term_structure is not None:
            terms = self.term_frame(frame, X, pd_12m)[self.term_columns]
            result = pd.concat([result, terms], axis=1)
        medians = self.median_frame(frame)
        # the minimum is on the log-odds of the PD the customer is shown, not the booster's
        scale = self.pd_logodds_scale(raw, contrib[0, -1] if len(raw) else 0.0)
        reasons = top_reasons(
            contrib[:, :-1] * scale[:, None], X, self.n_reasons, language, medians,
            self.reference_, self.min_reason_logodds, self.specs,
        )  # fmt: skip
        return pd.concat([result, reasons], axis=1)

    def term_frame(
        self, frame: pd.DataFrame, X: pd.DataFrame | None = None, pd_12m: np.ndarray | None = None
    ) -> pd.DataFrame:
        """``pd_1m`` .. ``pd_12m`` and ``pd_terms`` of ``frame``'s rows, ending at ``pd_12m``.

        ``X`` and ``pd_12m``: the rows' features and 12-month PDs where already computed.

        Raises:
            ValueError: The model has no term structure.
        """
        if self.term_structure is None:
            raise ValueError("this model has no term structure (the 12-month PD only)")
        X = self.feature_frame(frame) if X is None else X
        pd_12m = self.predict_pd(frame) if pd_12m is None else pd_12m
        if "payment_terms_days" in frame:
            X = X.assign(payment_terms_days=frame["payment_terms_days"].astype(float))
        return self.term_structure.predict_frame(X, pd_12m).set_axis(frame.index)

    def pd_logodds_scale(self, raw: np.ndarray, base: float) -> np.ndarray:
        """Per row, what one unit of the booster's log-odds is worth in the PD's log-odds.

        The calibrator maps the raw score to the PD; its slope from the average customer's
        raw score ``base`` (the SHAP bias term) to the row's, so that the scaled contributions
        add up to the PD's log-odds minus the average customer's, exactly. A row at ``base``
        takes the calibrator's slope there.

        Args:
            raw: Raw scores (booster log-odds) of the rows.
            base: The expected raw score, where the contributions start.
        """
        h = 1e-4
        ends = self.calibrator.predict(np.array([base - h, base, base + h]))
        at_base = (_logit(ends[2]) - _logit(ends[0])) / (2 * h)
        step = raw - base
        near = np.abs(step) < 1e-6
        rise = _logit(self.calibrator.predict(raw)) - _logit(ends[1])
        return np.where(near, at_base, rise / np.where(near, 1.0, step))


def feature_specs(
    names: list[str], attributes: Mapping[str, FeatureSpec], levels: Mapping[str, list[str]]
) -> dict[str, FeatureSpec]:
    """The catalogue entry of each feature; a categorical one with its levels."""
    specs = {}
    for name in names:
        if name in levels:  # a sentence without a schema shows the level as it is
            given = attributes.get(name) or default_attribute_spec(name, categorical=True)
            specs[name] = replace(given, categorical=True, levels=tuple(levels[name]))
        else:
            specs[name] = spec_for(name, attributes)
    return specs


def _check_ranges(X: pd.DataFrame) -> None:
    """Refuse infinite values and values beyond their unit's range (NaN passes)."""
    values = X.to_numpy()
    lo, hi = np.array([valid_range(c) for c in X.columns], dtype=float).T.reshape(2, 1, -1)
    bad = (values < lo) | (values > hi) | np.isinf(values)
    if not bad.any():
        return
    col = int(np.flatnonzero(bad.any(axis=0))[0])
    rows = np.flatnonzero(bad[:, col])
    shown = ", ".join(f"row {r}: {values[r, col]:g}" for r in rows[:3])
    raise ValueError(
        f"feature {X.columns[col]!r} must be finite and within [{lo[0, col]:g}, "
        f"{hi[0, col]:g}] (null for a missing value); {len(rows)} row(s) break it ({shown})"
    )


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))
