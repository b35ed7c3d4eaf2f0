"""The snapshot rows the score stage scores, scoring them through the pyfunc, and the rest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from features.attributes import as_model_input
from features.build import is_stale
from features.peers import sector_medians
from models.alert_text import word_trigger
from models.counterfactual import plausible_ranges, up_one_grade
from models.monitoring import IN_DEFAULT
from models.reasons import MEDIAN_PREFIX
from pipelines.io.files import StageError
from pipelines.modelstore.registry import (
    input_names,
    optional_input_names,
    output_names,
    pd_model,
    predict,
)

CHUNK_ROWS = 50_000

log = logging.getLogger("pipelines.score")


def rows_at(snapshots: pd.DataFrame, book: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Return the snapshot rows of ``as_of`` with the customer's name, checked against the book.

    Raises:
        StageError: A customer appears twice, or a snapshot customer is not in the book.
    """
    rows = snapshots[pd.to_datetime(snapshots["as_of_date"]) == as_of]
    for frame, what in ((rows, f"the snapshots of {as_of:%Y-%m-%d}"), (book, "the book")):
        twice = frame.loc[frame["customer_id"].duplicated(), "customer_id"]
        if not twice.empty:
            raise StageError(f"customers appear twice in {what}: {few(twice)}")
    strangers = rows.loc[~rows["customer_id"].isin(book["customer_id"]), "customer_id"]
    if not strangers.empty:
        raise StageError(f"snapshot customers not in the book: {few(strangers)}")
    names = book[["customer_id", "name"]]
    return rows.drop(columns="name", errors="ignore").merge(names, on="customer_id", how="left")


def score_rows(
    rows: pd.DataFrame,
    model: Any,
    chunk_rows: int = CHUNK_ROWS,
    client: Any = None,
    language: str = "en",
    with_medians: bool = False,
    what_it_would_take: bool = False,
) -> pd.DataFrame:
    """Return the pyfunc ``model``'s output for ``rows``, predicted ``chunk_rows`` at a time.

    Args:
        rows: Feature rows; the model's optional inputs (``median__<feature>``) among them are
            sent too, other extra columns are ignored.
        model: The loaded pyfunc.
        chunk_rows: Rows per prediction call (and per Dask task).
        client: A ``distributed.Client``: the chunks are predicted on its workers; ``None``:
            here.
        language: Language of the reason sentences (the pyfunc's ``language`` param).
        with_medians: Send each row's sector median of the model's features, taken over
            ``rows`` (by ``industry`` and ``as_of_date``, :func:`features.peers.sector_medians`)
            before chunking: pass a whole month's book.
        what_it_would_take: Add ``what_it_would_take`` and ``what_it_would_take_code``: the
            cheapest plausible change that moves each row up one grade
            (:func:`models.counterfactual.up_one_grade`), plausible within ``rows``' own ranges:
            pass a whole month's book.
    """
    names = input_names(model)
    require(rows, names, Path("the snapshot rows"))
    if with_medians:
        rows = add_sector_medians(rows, model)
    ranges = None
    if what_it_would_take:
        ranges = plausible_ranges(pd_model(model).feature_frame(as_model_input(rows[names])))
    names += [c for c in optional_input_names(model) if c in rows.columns]
    chunks = [rows.iloc[s : s + chunk_rows][names] for s in range(0, len(rows), chunk_rows)]
    if client is None:
        parts = []
        for chunk in chunks:
            parts.append(predict_frame(chunk, model, language, ranges))
            log.info("scored %d of %d rows", sum(map(len, parts)), len(rows))
    else:
        from pipelines.runtime.cluster import map_partitions

        kwargs = {"model": model, "language": language, "ranges": ranges}
        parts = map_partitions(client, predict_frame, chunks, kwargs, "scoring chunks")
    if not parts:
        return pd.DataFrame(columns=output_names(model))
    return pd.concat(parts)


def predict_frame(
    frame: pd.DataFrame, model: Any, language: str = "en", ranges: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The pyfunc's output for ``frame`` (its input columns), on ``frame``'s index.

    With the book's ``ranges`` (:func:`models.counterfactual.plausible_ranges`), each row's
    cheapest change up one grade too, found and verified on the model the pyfunc serves.
    """
    try:
        out = predict(model, as_model_input(frame), {"language": language})
    except StageError as err:  # its rows count from the chunk's first: name that one
        raise StageError(f"{err} (rows counted from the book's row {frame.index[0]!r})") from None
    out = pd.DataFrame(out).set_axis(frame.index)
    if ranges is None:
        return out
    took = up_one_grade(pd_model(model), as_model_input(frame), out["grade"], ranges, language)
    return pd.concat([out, took], axis=1)


def add_sector_medians(rows: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Return ``rows`` with the pyfunc's ``median__<feature>`` inputs: the sector medians.

    Raises:
        StageError: ``rows`` lack ``industry`` or ``as_of_date``, which the medians group by.
    """
    columns = [c for c in optional_input_names(model) if c.startswith(MEDIAN_PREFIX)]
    if not columns:
        log.warning("the model takes no sector medians (registered before they were inputs)")
        return rows
    require(rows, ["industry", "as_of_date"], Path("the snapshot rows"))
    medians = sector_medians(rows, [c.removeprefix(MEDIAN_PREFIX) for c in columns])
    rest = rows.drop(columns=columns, errors="ignore")
    return pd.concat([rest, medians.add_prefix(MEDIAN_PREFIX)], axis=1)


def explain_unscored(
    book: pd.DataFrame,
    scored_ids: pd.Series,
    defaults: pd.DataFrame,
    as_of: pd.Timestamp,
    rejected: pd.DataFrame | None = None,
    language: str = "en",
    last_fact: pd.Series | None = None,
    max_fact_age_months: int | None = None,
) -> pd.DataFrame:
    """Return ``customer_id, name, status, reason`` of each customer of ``book`` not scored.

    ``status`` is why, as a code: ``in_default``, ``rejected`` (set aside by validation:
    ``rejected`` gives ``customer_id, reason``), ``not_started``, ``ended`` (its
    ``relationship_end`` is before the as-of date) or ``stale`` (its latest fact, ``last_fact``
    by customer id, is more than ``max_fact_age_months`` old); ``reason`` says it in
    ``language`` (``en`` or ``zh``).

    Raises:
        StageError: A customer is neither scored nor explained, or is scored while in default.
    """
    first = defaults.assign(default_date=pd.to_datetime(defaults["default_date"]))
    first = first.sort_values("default_date").drop_duplicates("customer_id")
    first = first[first["default_date"] <= as_of].set_index("customer_id")
    both = scored_ids[scored_ids.isin(first.index)]
    if not both.empty:
        raise StageError(f"customers scored although in default at {as_of:%Y-%m-%d}: {few(both)}")
    rest = book.loc[~book["customer_id"].isin(scored_ids), ["customer_id", "name"]]
    starts = pd.to_datetime(
        rest["customer_id"].map(book.set_index("customer_id")["relationship_start"])
    )
    never = pd.Series(pd.NaT, index=rest.index, dtype="datetime64[ns]")
    ends, lasts = never, never
    if "relationship_end" in book:
        ends = pd.to_datetime(
            rest["customer_id"].map(book.set_index("customer_id")["relationship_end"])
        )
    if last_fact is not None:
        lasts = pd.to_datetime(rest["customer_id"].map(last_fact))
    stale = (
        is_stale(pd.Series(as_of, index=rest.index), lasts, max_fact_age_months)
        if max_fact_age_months is not None
        else pd.Series(False, index=rest.index)
    )
    reasons = pd.Series(pd.NA, index=rest.index, dtype="object")
    status = pd.Series(pd.NA, index=rest.index, dtype="object")
    set_aside = (
        pd.Series(dtype=object) if rejected is None else rejected.set_index("customer_id")["reason"]
    )
    text = _UNSCORED[language]
    for i, cid in rest["customer_id"].items():
        if cid in first.index:
            hit = first.loc[cid]
            when, trigger = hit["default_date"], word_trigger(hit["default_trigger"], language)
            status[i] = IN_DEFAULT
            reasons[i] = text[IN_DEFAULT].format(date=f"{when:%Y-%m-%d}", trigger=trigger)
        elif cid in set_aside.index:
            status[i], reasons[i] = "rejected", set_aside[cid]
        elif starts[i] > as_of:
            status[i] = "not_started"
            reasons[i] = text["not_started"].format(date=f"{starts[i]:%Y-%m-%d}")
        elif ends[i] < as_of:
            status[i], reasons[i] = "ended", text["ended"].format(date=f"{ends[i]:%Y-%m-%d}")
        elif stale[i]:
            status[i] = "stale"
            reasons[i] = text["stale"].format(
                date=f"{lasts[i]:%Y-%m-%d}", months=max_fact_age_months
            )
    unexplained = rest.loc[reasons.isna(), "customer_id"]
    if not unexplained.empty:
        raise StageError(
            f"{len(unexplained)} customers of the book are neither scored nor explained (no "
            f"snapshot at {as_of:%Y-%m-%d}): {few(unexplained)}"
        )
    out = rest.assign(status=status, reason=reasons)
    return out.sort_values("customer_id").reset_index(drop=True)


_UNSCORED = {
    "en": {
        IN_DEFAULT: "in default since {date} ({trigger})",
        "not_started": "relationship starts {date}, after the as-of date",
        "ended": "relationship ended {date}",
        "stale": "no data since {date}, more than {months} months before the as-of date",
    },
    "zh": {
        IN_DEFAULT: "自 {date} 起违约（{trigger}）",
        "not_started": "合作关系于 {date} 开始，晚于评分基准日",
        "ended": "合作关系已于 {date} 结束",
        "stale": "自 {date} 起无新数据，已超过 {months} 个月",
    },
}


def require(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    """Fail naming ``path`` and the columns it lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise StageError(f"{path} lacks columns {missing}; found {list(frame.columns)}")


def few(ids: pd.Series) -> str:
    """The first five ids, and how many more."""
    return f"{ids.head(5).tolist()}" + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
