"""Attributes: the user's own fields (bureau scores, ratios, categories) joined point in time.

An attribute is numeric or categorical. A schema (``attributes.yaml`` beside the files, read at
ingest) gives each a readable label, its type, unit, risk direction and, optionally, its reason
sentences in English and Chinese; what it leaves out has a default (:func:`resolve_schema`):
text columns are categorical, the label is the column name in words. :func:`attribute_specs`
turns the resolved schema into catalogue entries, so that reasons read in the user's words.

A categorical attribute stays text in the snapshots; the model learns its levels from the
training rows (:func:`categorical_levels`) and LightGBM splits on them natively.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import ATTRIBUTE_PREFIX as PREFIX
from features.catalogue import FeatureSpec
from features.timeline import latest_known

KEYS = ("customer_id", "known_date")
TYPES = ("numeric", "categorical")
SCHEMA_KEYS = ("label", "type", "unit", "direction", "sentence", "missing")
LANGUAGE_KEYS = ("en", "zh")
FAMILY = "attributes"


def attribute_columns(attributes: pd.DataFrame) -> list[str]:
    """The value columns of an attributes table."""
    return [c for c in attributes.columns if c not in KEYS]


def is_text(values: pd.Series) -> bool:
    """Whether a column holds text (a categorical attribute), not numbers."""
    types = pd.api.types
    return not (types.is_numeric_dtype(values) or types.is_bool_dtype(values)) or isinstance(
        values.dtype, pd.CategoricalDtype
    )


def check_schema(schema: Any, columns: list[str]) -> dict[str, dict]:
    """The declared schema, checked: one entry per attribute column, known keys and values.

    Args:
        schema: The parsed ``attributes.yaml``: ``{"attributes": {column: entry}}``.
        columns: The attribute columns of the data (after safe renaming).

    Returns:
        ``{column: entry}``.

    Raises:
        ValueError: One line naming the attribute, the key and what is allowed.
    """
    if not isinstance(schema, dict) or set(schema) != {"attributes"}:
        raise ValueError("the schema must be a mapping with one key, 'attributes'")
    entries = schema["attributes"] or {}
    if not isinstance(entries, dict):
        raise ValueError("'attributes' must map each column to its entry")
    for name, entry in entries.items():
        where = f"attributes.{name}"
        if name not in columns:
            raise ValueError(f"{where}: no such column in the attributes table ({columns})")
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a mapping of {list(SCHEMA_KEYS)}")
        unknown = sorted(set(entry) - set(SCHEMA_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}; known: {list(SCHEMA_KEYS)}")
        kind = entry.get("type", "numeric")
        if kind not in TYPES:
            raise ValueError(f"{where}.type: {kind!r} is not one of {list(TYPES)}")
        direction = entry.get("direction", 0)
        if direction not in (-1, 0, 1) or isinstance(direction, bool):
            raise ValueError(
                f"{where}.direction: {direction!r}; use 1 (higher is riskier), -1 (higher is "
                "safer) or 0 (not known)"
            )
        if kind == "categorical" and direction:
            raise ValueError(f"{where}: a categorical attribute has no direction")
        for key in ("label", "sentence", "missing"):
            _check_words(where, key, entry.get(key), kind)
        if not isinstance(entry.get("unit", ""), str):
            raise ValueError(f"{where}.unit: must be text, e.g. 'months' or 'EUR'")
    return entries


def _check_words(where: str, key: str, words: Any, kind: str) -> None:
    if words is None:
        return
    texts = words if isinstance(words, dict) else {"en": words}
    unknown = sorted(set(texts) - set(LANGUAGE_KEYS))
    if unknown or not all(isinstance(t, str) and t.strip() for t in texts.values()):
        raise ValueError(
            f"{where}.{key}: text, or a mapping of {list(LANGUAGE_KEYS)} to text; found {words!r}"
        )
    if key != "sentence":
        return
    for text in texts.values():
        try:
            text.format(value="A" if kind == "categorical" else 1.0)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"{where}.sentence: {text!r} does not format with a {kind} value "
                f"({err!r}); write {{value}} where the value goes"
            ) from None


def resolve_schema(declared: Mapping[str, dict], attributes: pd.DataFrame) -> dict[str, dict]:
    """Every attribute column's full entry: what ``declared`` says, defaults for the rest.

    The type is declared, else ``categorical`` for a text column and ``numeric`` otherwise;
    the label is the column name in words; no unit; direction 0 (unconstrained); sentences
    from the label (:func:`attribute_specs`).

    Returns:
        ``{column: {"label": {"en", "zh"}, "type", "unit", "direction", "sentence": {...},
        "missing": {...}}}`` in column order, ``sentence``/``missing`` empty where defaulted.

    Raises:
        ValueError: A text column is given a direction.
    """
    out = {}
    for name in attribute_columns(attributes):
        entry = declared.get(name, {})
        kind = entry.get("type") or ("categorical" if is_text(attributes[name]) else "numeric")
        if kind == "categorical" and entry.get("direction"):
            raise ValueError(f"attributes.{name}: text, so categorical: it has no direction")
        label = _words(entry.get("label")) or {"en": name.replace("_", " ").strip().capitalize()}
        out[name] = {
            "label": {"en": label.get("en", name), "zh": label.get("zh", label.get("en", name))},
            "type": kind,
            "unit": entry.get("unit", ""),
            "direction": int(entry.get("direction", 0)),
            "sentence": _words(entry.get("sentence")),
            "missing": _words(entry.get("missing")),
        }
    return out


def _words(words: Any) -> dict[str, str]:
    if words is None:
        return {}
    return dict(words) if isinstance(words, dict) else {"en": str(words)}


def attribute_specs(schema: Mapping[str, dict]) -> dict[str, FeatureSpec]:
    """Catalogue entries of the attributes of a resolved schema, keyed by feature name.

    Default sentences: ``"<label>: <value>"`` (with the unit), ``"<label>: not available"``.
    """
    specs = {}
    for field, entry in schema.items():
        en, zh = entry["label"]["en"], entry["label"]["zh"]
        unit = f" {entry['unit']}" if entry["unit"] else ""
        value = "{value}" if entry["type"] == "categorical" else "{value:,.4g}"
        sentence, missing = entry["sentence"], entry["missing"]
        specs[PREFIX + field] = FeatureSpec(
            name=PREFIX + field,
            family=FAMILY,
            description=en,
            unit=entry["unit"] or ("category" if entry["type"] == "categorical" else "as supplied"),
            direction=entry["direction"],
            reason_code=f"ATTR_{field.upper()}",
            template=sentence.get("en") or f"{en}: {value}{unit}",
            missing_text=missing.get("en") or f"{en}: not available",
            template_zh=sentence.get("zh") or f"{zh}：{value}{unit}",
            missing_text_zh=missing.get("zh") or f"{zh}：暂无数据",
            categorical=entry["type"] == "categorical",
        )
    return specs


def add_attribute_features(snapshots: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Add each attribute's latest value with ``known_date <= as_of_date``, as ``attr_<name>``.

    Args:
        snapshots: ``customer_id`` and ``as_of_date``.
        attributes: ``customer_id``, ``known_date`` and value columns (numbers, or text for a
            categorical attribute, kept as text).
    """
    return snapshots.assign(**attribute_feature_columns(snapshots, attributes))


def attribute_feature_columns(
    snapshots: pd.DataFrame, attributes: pd.DataFrame
) -> dict[str, np.ndarray]:
    """The features of :func:`add_attribute_features`, aligned to ``snapshots``."""
    right = attributes.assign(known_date=attributes["known_date"].astype("datetime64[ns]"))
    joined = latest_known(snapshots, right.sort_values("known_date"), "known_date")
    out = {}
    for name in attribute_columns(attributes):
        column = joined[name]
        if is_text(attributes[name]):
            out[PREFIX + name] = column.astype(object).where(column.notna(), None).to_numpy()
        else:
            out[PREFIX + name] = column.astype(float).to_numpy()
    return out


def as_model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a model takes it: numbers as floats, a categorical attribute as text.

    (Counts may be stored as integers; a served model's signature wants doubles, and text
    for a categorical attribute, ``None`` where missing.)
    """
    text = [c for c in frame.columns if is_text(frame[c])]
    out = frame.astype({c: object if c in text else float for c in frame.columns})
    for c in text:
        out[c] = out[c].where(frame[c].notna(), None)
    return out


def categorical_levels(frame: pd.DataFrame, names: list[str]) -> dict[str, list[str]]:
    """The levels of each text column among ``names``: its distinct values, sorted."""
    return {
        name: sorted(frame[name].dropna().astype(str).unique())
        for name in names
        if is_text(frame[name])
    }


def as_categories(frame: pd.DataFrame, levels: Mapping[str, list[str]]) -> pd.DataFrame:
    """``frame`` with each column of ``levels`` as a categorical of those levels (others: NaN)."""
    if not levels:
        return frame
    return frame.assign(
        **{
            name: pd.Categorical(_text(frame[name]), categories=list(cats))
            for name, cats in levels.items()
        }
    )


def level_codes(frame: pd.DataFrame, names: list[str], levels: Mapping[str, list[str]]):
    """``frame[names]`` as floats, each column of ``levels`` as its level's position.

    A value that is not a level (unseen in training) or missing becomes NaN: the model's
    missing-value branch.

    Raises:
        ValueError: A numeric column holds something that is not a number (naming it).
    """
    out = {}
    for name in names:
        if name in levels:
            codes = pd.Categorical(_text(frame[name]), categories=list(levels[name])).codes
            out[name] = np.where(codes < 0, np.nan, codes.astype(float))
            continue
        try:
            out[name] = frame[name].astype(float).to_numpy()
        except (TypeError, ValueError) as err:
            raise ValueError(f"feature {name!r} must be numeric: {err}") from None
    return pd.DataFrame(out, index=frame.index, columns=names)


def _text(values: pd.Series) -> pd.Series:
    """Values as text, missing kept missing (a level sent as the number 2 is the level "2")."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.map(lambda v: format(v, "g"), na_action="ignore")
    return values.astype("string").astype(object).where(values.notna(), None)
