"""Customer credit reports: one self-contained HTML page per customer (pipelines.render.customer).

``python -m pipelines.customer_report CUSTOMER_ID [CUSTOMER_ID ...] [--as-of DATE]`` writes the
named customers' pages (``data/reports/customers/<id>.html``, or ``--out FOLDER``). Without an
id (the monthly run, the ``pages`` stage), it writes the page of every scored customer in the
high-risk grades and of every customer alerted this month (``pipelines.render.links``), and
``index.html`` listing them, replacing the folder whole.

Inputs:
    data/scored/summary.json (as-of date, language), data/scored/history/ (the books: this
    month's and the earlier ones, for the grade history and recent alerts),
    data/scored/alerts.csv (this month's alerts), data/features/snapshots.parquet (the
    indicators, their sector medians and 12-month trends), data/validated/invoices.parquet and
    events.parquet (optional: payment history, ageing, events), configs/policy.yaml (the
    high-risk grades), the scoring model version in the registry (each indicator's effect).
Outputs:
    data/reports/customers/ (one page per customer, index.html).
Params:
    register (model name, tracking uri), report.trend_months (months of grade history).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import FEATURE_NAMES, is_model_feature, spec_for
from models.counterfactual import grade_for_limit, limit_at, plausible_ranges, solve, word
from models.monitoring import IN_DEFAULT, SCORED
from models.receivables import ageing, days_late_by_month
from pipelines.book.history import history_dates, read_book
from pipelines.io.artifacts import load_policy
from pipelines.io.files import (
    StageError,
    atomic_folder,
    read_json,
    read_parquet,
    run_stage,
    write_bytes,
)
from pipelines.io.paths import Paths, page_name
from pipelines.modelstore.registry import load_model
from pipelines.render import customer as page
from pipelines.render.links import customers_with_pages
from pipelines.render.portfolio import book_currency
from pipelines.runtime.config import Config, load_config

log = logging.getLogger("pipelines.customer_report")
TREND_MONTHS = 12
RECENT_ALERT_MONTHS = 6


def run(
    cfg: Config,
    paths: Paths,
    ids: list[str] | None = None,
    as_of: str | None = None,
    out: Path | None = None,
) -> list[Path]:
    """Write the pages of ``ids`` (``None``: the month's pages and the index); return them.

    Raises:
        StageError: No scored book at the as-of date, or an id not in it.
    """
    summary = read_json(paths.scored_summary)
    date = pd.Timestamp(as_of or summary["as_of_date"])
    dates = [d for d in history_dates(paths.history) if d <= date]
    if date not in dates:
        scored = ", ".join(f"{d:%Y-%m-%d}" for d in dates) or "none"
        raise StageError(
            f"no scored book of {date:%Y-%m-%d} in {paths.history}: score that month first "
            f"(score.as_of_date); scored months up to it: {scored}"
        )
    book = read_book(date, paths.history).assign(customer_id=lambda b: b["customer_id"].astype(str))
    language = summary.get("language", cfg.score.language)  # the book's reasons are in it
    alerts = month_alerts(paths, summary, date)
    high_risk = load_policy(paths.policy).high_risk_grade
    if ids is None:
        chosen = customers_with_pages(book, alerts, high_risk)
    else:
        unknown = [i for i in ids if i not in set(book["customer_id"])]
        if unknown:
            raise StageError(
                f"customers not in the book of {date:%Y-%m-%d} ({paths.history}): {unknown[:5]}"
            )
        chosen = list(dict.fromkeys(ids))
    pages = build_pages(cfg, paths, book, chosen, dates, alerts, date, language)
    if ids is not None:
        folder = Path(out) if out else paths.customer_pages
        written = []
        for cid, html in pages.items():
            written.append(folder / page_name(cid))
            write_bytes(html.encode("utf-8"), written[-1])
            log.info("wrote %s", written[-1])
        return written
    index = page.render(
        "customers_index.html.j2", index_context(book, chosen, date, high_risk, language)
    )
    with atomic_folder(Path(out) if out else paths.customer_pages) as staging:
        for cid, html in pages.items():
            (staging / page_name(cid)).write_text(html, encoding="utf-8")
        (staging / "index.html").write_text(index, encoding="utf-8")
    folder = Path(out) if out else paths.customer_pages
    log.info(
        "wrote %d customer pages and the index in %s (as of %s)",
        len(pages),
        folder,
        f"{date:%Y-%m-%d}",
    )
    return [folder / page_name(c) for c in pages] + [folder / "index.html"]


def month_alerts(paths: Paths, summary: dict, date: pd.Timestamp) -> pd.DataFrame:
    """This month's alerts (alerts.csv is the latest run's: empty for another month)."""
    columns = ["customer_id", "severity", "rule", "message"]
    if summary["as_of_date"] != f"{date:%Y-%m-%d}" or not paths.alerts.is_file():
        return pd.DataFrame(columns=columns)
    alerts = pd.read_csv(paths.alerts, encoding="utf-8-sig", keep_default_na=False, dtype=str)
    return alerts[columns]


def build_pages(
    cfg: Config, paths: Paths, book: pd.DataFrame, ids: list[str], dates: list[pd.Timestamp],
    alerts: pd.DataFrame, as_of: pd.Timestamp, language: str,
) -> dict[str, str]:  # fmt: skip
    """Each chosen customer's page (HTML), by id."""
    if not ids:
        return {}
    snapshots = read_parquet(paths.snapshots).assign(
        customer_id=lambda s: s["customer_id"].astype(str),
        as_of_date=lambda s: pd.to_datetime(s["as_of_date"]),
    )
    model = scoring_model(cfg, paths, book)
    features = indicator_names(snapshots)
    # the catalogue's entries (current wording), the model's for the user's attributes
    specs = {n: spec_for(n, getattr(model, "specs", {})) for n in features}
    month = snapshots[snapshots["as_of_date"] == as_of].set_index("customer_id")
    medians, percentiles = page.sector_view(month, specs)
    ends = pd.date_range(end=as_of, periods=TREND_MONTHS, freq="ME")
    chosen = snapshots[snapshots["customer_id"].isin(ids) & snapshots["as_of_date"].isin(ends)]
    trends = {
        cid: rows.set_index("as_of_date").reindex(ends)
        for cid, rows in chosen.groupby("customer_id")
    }
    effects = indicator_effects(model, month.loc[month.index.intersection(ids)])
    limits = keep_limits(model, month, book, ids, load_policy(paths.policy), language)
    history = {
        d: read_book(d, paths.history).assign(customer_id=lambda b: b["customer_id"].astype(str))
        .set_index("customer_id")
        for d in dates[-cfg.report.trend_months :]
    }  # fmt: skip
    invoices, events = (_optional(paths.validated_table(t), ids) for t in ("invoices", "events"))
    currency = book_currency(book)
    by_customer = {
        name: dict(tuple(frame.groupby("customer_id"))) if frame is not None else None
        for name, frame in (("invoices", invoices), ("events", events))
    }
    rows = book.set_index("customer_id")
    pages = {}
    for cid in ids:
        row = rows.loc[cid]
        context = {
            "lang": language,
            "w": page.WORDS[language],
            "as_of": f"{as_of:%Y-%m-%d}",
            "c": _plain(row),
            "customer_id": cid,
            "currency": currency,
            "status": row["status"],
            "reasons": [
                row.get(f"reason_{k}") for k in range(1, 10) if _text(row.get(f"reason_{k}"))
            ],
            "alerts": alerts[alerts["customer_id"] == cid].to_dict("records"),
            "earlier_alerts": earlier_alerts(history, cid, as_of),
            "grades": grade_history(history, cid),
            "groups": (
                page.indicator_groups(
                    month.loc[cid],
                    medians.loc[cid],
                    percentiles.loc[cid],
                    trends.get(cid, pd.DataFrame(index=ends)),
                    effects.get(cid, {}),
                    specs,
                    language,
                )  # fmt: skip
                if cid in month.index
                else []
            ),
            "payments": payment_history(_of(by_customer["invoices"], cid, invoices), as_of),
            "ageing": ageing_rows(_of(by_customer["invoices"], cid, invoices), as_of, language),
            "events": event_rows(_of(by_customer["events"], cid, events), as_of),
            "seed": page.SEED_INDICATORS,
            "keep_limit": limits.get(cid, ""),
        }
        context["shown"] = sum(len(g["rows"]) for g in context["groups"])
        pages[cid] = page.render("customer.html.j2", context)
    return pages


def scoring_model(cfg: Config, paths: Paths, book: pd.DataFrame) -> Any:
    """The PD model that scored ``book`` (its ``model_version`` in the registry)."""
    versions = pd.to_numeric(book["model_version"], errors="coerce").dropna().unique()
    if len(versions) == 0:
        raise StageError("the book names no model version: nothing to explain the indicators with")
    uri = paths.tracking_uri(cfg.register_.tracking_uri)
    pyfunc = load_model(f"models:/{cfg.register_.model_name}/{int(versions.max())}", uri)
    return pyfunc.unwrap_python_model().model


def keep_limits(
    model: Any, month: pd.DataFrame, book: pd.DataFrame, ids: list[str], policy: Any,
    language: str,
) -> dict[str, str]:  # fmt: skip
    """What it would take to keep the current limit, per customer of ``ids`` cut below it.

    For the scored customers the policy recommends a lower limit than they have; solved for all
    of them in one call (``models.counterfactual.solve``).
    """
    rows = book.set_index("customer_id", drop=False).loc[ids]
    cut = (rows["status"] == SCORED) & (
        pd.to_numeric(rows["recommended_limit"], errors="coerce")
        < pd.to_numeric(rows["current_limit"], errors="coerce")
    )
    asked = [c for c in rows.index[cut] if c in month.index]
    if not asked:
        return {}
    targets, shown = {}, {}
    for cid in asked:
        row = rows.loc[[cid]]
        limit = float(row["current_limit"].iloc[0])
        grade = grade_for_limit(row, policy, limit)
        targets[cid] = np.nan if grade is None else grade
        shown[cid] = None if grade is None else limit_at(row, policy, grade)
    ranges = plausible_ranges(model.feature_frame(month))
    answers = solve(model, month.loc[asked], np.array([targets[c] for c in asked]), ranges)
    words = page.WORDS[language]
    limits = rows["current_limit"].astype(float)
    return {
        cid: word(answer, model, language, shown[cid]) if answer
        else words["no_keep_limit"] if shown[cid] is not None
        else words["no_grade_for_limit"].format(limit=page.money(limits[cid]))
        for cid, answer in zip(asked, answers, strict=True)
    }  # fmt: skip


def indicator_names(snapshots: pd.DataFrame) -> list[str]:
    """The snapshot's indicators: catalogue features in its order, then the user's attributes."""
    known = [n for n in FEATURE_NAMES if n in snapshots.columns]
    return known + sorted(c for c in snapshots.columns if is_model_feature(c) and c not in known)


def indicator_effects(model: Any, rows: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each row's SHAP contribution (log-odds) of each model feature, by customer id."""
    if rows.empty:
        return {}
    contrib = model.contributions(model.feature_frame(rows))[:, :-1]
    return {
        cid: dict(zip(model.feature_names, map(float, values), strict=True))
        for cid, values in zip(rows.index, contrib, strict=True)
    }


def grade_history(history: dict[pd.Timestamp, pd.DataFrame], cid: str) -> list[dict[str, Any]]:
    """The customer's grade and PD in each stored month (books indexed by id; oldest first)."""
    out = []
    for date, book in history.items():
        if cid not in book.index:
            continue
        row = book.loc[cid]
        out.append(
            {
                "month": f"{date:%Y-%m}",
                "grade": _int(row.get("grade")),
                "pd": row.get("pd_12m"),
                "status": row["status"],
            }
        )
    return out


def earlier_alerts(
    history: dict[pd.Timestamp, pd.DataFrame], cid: str, as_of: pd.Timestamp
) -> list[dict[str, str]]:
    """The alert rules of the customer in the months before ``as_of`` (latest first)."""
    out = []
    for date in sorted(history, reverse=True):
        book = history[date]
        if date >= as_of or len(out) >= RECENT_ALERT_MONTHS or cid not in book.index:
            continue
        rules = book.loc[cid].get("alerts")
        if _text(rules):
            out.append({"month": f"{date:%Y-%m-%d}", "rules": rules})
    return out


def payment_history(invoices: pd.DataFrame | None, as_of: pd.Timestamp) -> dict[str, Any] | None:
    """Days late of the customer's invoices due in each of the last 12 months, with a chart."""
    if invoices is None:
        return None
    table = days_late_by_month(invoices, as_of, TREND_MONTHS)
    months = [
        {
            "month": f"{r.month:%Y-%m}",
            "invoices": r.invoices,
            "days_late": r.days_late,
            "on_time": r.on_time_share,
        }
        for r in table.itertuples()
    ]
    return {"months": months, "chart": page.bars(table["days_late"].to_numpy())}


def ageing_rows(
    invoices: pd.DataFrame | None, as_of: pd.Timestamp, language: str
) -> list[dict[str, Any]] | None:
    """The customer's open invoices by ageing bucket at ``as_of``."""
    if invoices is None:
        return None
    table = ageing(invoices, as_of)
    names = page.BUCKET_WORDS[language]
    return [{**r, "bucket": names.get(r["bucket"], r["bucket"])} for r in table.to_dict("records")]


def event_rows(events: pd.DataFrame | None, as_of: pd.Timestamp) -> list[dict[str, str]] | None:
    """The customer's events up to ``as_of``, latest first."""
    if events is None:
        return None
    mine = events[pd.to_datetime(events["event_date"]) <= as_of]
    mine = mine.sort_values("event_date", ascending=False, kind="stable")
    return [
        {
            "date": f"{pd.Timestamp(r.event_date):%Y-%m-%d}",
            "type": r.event_type,
            "text": getattr(r, "description", ""),
        }
        for r in mine.itertuples()
    ]


def index_context(
    book: pd.DataFrame, ids: list[str], as_of: pd.Timestamp, high_risk: int, language: str
) -> dict[str, Any]:
    """The index page: the chosen customers, in default first, then by grade, PD and exposure."""
    rows = (
        book[book["customer_id"].isin(ids)]
        .assign(
            _order=lambda b: (b["status"] == IN_DEFAULT).astype(int),
            _grade=lambda b: pd.to_numeric(b["grade"], errors="coerce").fillna(0),
            _pd=lambda b: pd.to_numeric(b["pd_12m"], errors="coerce").fillna(1.0),
            _exposure=lambda b: pd.to_numeric(b["exposure"], errors="coerce").fillna(0.0),
        )
        .sort_values(
            ["_order", "_grade", "_pd", "_exposure", "customer_id"],
            ascending=[False, False, False, False, True],
            kind="stable",
        )
    )
    return {
        "lang": language,
        "w": page.WORDS[language],
        "as_of": f"{as_of:%Y-%m-%d}",
        "grade": high_risk,
        "currency": book_currency(book),
        "rows": [
            {**_plain(r), "href": page_name(r["customer_id"]), "scored": r["status"] == SCORED}
            for _, r in rows.iterrows()
        ],
    }


def _of(
    groups: dict[str, pd.DataFrame] | None, cid: str, table: pd.DataFrame | None
) -> pd.DataFrame | None:
    """The customer's rows of an optional table (none: the table is absent)."""
    if groups is None or table is None:
        return None
    return groups.get(cid, table.iloc[:0])


def _optional(path: Path, ids: list[str]) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    frame = pd.read_parquet(path)
    frame = frame.assign(customer_id=frame["customer_id"].astype(str))
    return frame[frame["customer_id"].isin(ids)]


def _plain(row: pd.Series) -> dict[str, Any]:
    return {k: (None if _missing(v) else v) for k, v in row.items()}


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _int(value: object) -> int | None:
    return None if _missing(value) else int(value)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "customer_ids", nargs="*", help="customers to write (none: the month's pages)"
    )
    parser.add_argument("--as-of", help="month end of a scored book (default: the latest run's)")
    parser.add_argument(
        "--out", type=Path, help="folder to write into (default data/reports/customers)"
    )
    parser.add_argument("--config", default="configs/params.yaml", help="params file")
    args = parser.parse_args(argv)
    run_stage(
        lambda: run(
            load_config(args.config), Paths(), args.customer_ids or None, args.as_of, args.out
        )
    )


if __name__ == "__main__":
    main()
