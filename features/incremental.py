"""Incremental month-end: build only the new month ends, take the earlier ones from the last build.

Every feature at a month end t uses only what was known at t (the point-in-time test proves it).
So when the data as known at the last build's month end is unchanged, that build's per-customer
features of every month up to it are still right, and only the later month ends need building.
Labels, default dates and the sector comparisons (which look across customers, and whose rows
may change) are recomputed on the whole table every time.

:func:`known_at` is what the data knew at t; :class:`History` hashes it, so that a
later build can tell whether history changed (a restated invoice, a back-dated default, a
customer added with an earlier start: then everything is rebuilt). The fingerprint errs on the
side of rebuilding: anything dated at or before t, in any column, counts (of the invoices, the
columns the features read: ``features.partitions.LEDGER_COLUMNS``).
"""

from __future__ import annotations

import hashlib
import mmap
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from features.build import ID_COLUMNS, FeatureSettings, frame_of
from features.facts import with_relationship_start
from features.financials import available_dates
from features.fingerprint import row_hashes, update_digest
from features.partitions import LEDGER_COLUMNS
from features.payment_behaviour import plans_known_at
from features.timeline import MONTHS, NAT, month_end, month_index, nanoseconds, positions

KEYS = ["customer_id", "month"]
# the code whose output the cache holds: a change in it invalidates every cached feature
CODE = sorted(Path(__file__).resolve().parent.glob("*.py"))


def code_fingerprint() -> str:
    """SHA-256 of the feature code (every module of this package)."""
    digest = hashlib.sha256()
    for path in CODE:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def settings_record(settings: FeatureSettings) -> dict:
    """The settings as JSON-ready values (what a cached build was made with)."""
    record = asdict(settings)
    return record | {"snapshot_dates": [str(d) for d in settings.snapshot_dates]}


PAYMENT = ("paid_date", "paid_amount")  # what a payment after ``t`` blanks
# tables whose rows are known from a date on (a row dated after ``t`` is left out at ``t``)
DATED = {"events": "event_date", "attributes": "known_date", "defaults": "default_date",
         "payments": "payment_date"}  # fmt: skip


def invoice_view(invoices: pd.DataFrame, t: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Which invoices were issued by ``t``, and which of all were paid by then."""
    issued = (invoices["issue_date"] <= t).to_numpy()
    return issued, (invoices["paid_date"] <= t).to_numpy()


def invoices_known_at(invoices: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    """The invoices issued by ``t``, a payment after it blanked (not yet made then)."""
    issued, paid = invoice_view(invoices, t)
    inv, later = invoices[issued], ~paid[issued]
    return inv.assign(**{c: inv[c].mask(later) for c in PAYMENT if c in inv})


def known_at(
    tables: dict[str, pd.DataFrame], t: pd.Timestamp, settings: FeatureSettings, rows=True
) -> dict[str, pd.DataFrame]:
    """The tables as they were known at ``t``: what any feature at ``t`` or before may use.

    Rows dated after ``t`` are left out (invoices issued, events, statements available,
    attribute rows known, defaults, payments, plans agreed, index months published after it);
    a payment or an end of relationship after ``t`` is blanked, a plan's status is the one
    known at ``t``; customers who joined after ``t`` are left out. With
    ``rows`` false the invoices and the :data:`DATED` tables are left out (:class:`History`
    views them row by row).
    """
    t = pd.Timestamp(t)
    out: dict[str, pd.DataFrame] = {}
    customers, _ = with_relationship_start(tables)
    start = customers["relationship_start"]
    customers = customers[start.isna() | (start <= t)]
    if "relationship_end" in customers:
        end = customers["relationship_end"]
        customers = customers.assign(relationship_end=end.where(end <= t))
    out["customers"] = customers
    if "invoices" in tables and rows:
        out["invoices"] = invoices_known_at(tables["invoices"], t)
    for name, column in DATED.items():
        if name in tables and rows:
            out[name] = tables[name][tables[name][column] <= t]
    if "payment_plans" in tables:  # how a plan ended is known from then on, not before
        out["payment_plans"] = plans_known_at(tables["payment_plans"], t)
    if "financials" in tables:
        fin = tables["financials"]
        known = available_dates(fin, settings.financials_lag_days) <= t
        out["financials"] = fin[known.to_numpy()]
    if "industry_index" in tables:
        idx = tables["industry_index"]
        published = month_index(idx["month"]) <= month_index(pd.DatetimeIndex([t]))[0] - (
            settings.index_publication_lag_months
        )
        out["industry_index"] = idx[published]
    return out


class History:
    """Fingerprints of the data as known at month ends (:func:`known_at`).

    Equal fingerprints, equal features up to that month end. The rows of the ledger and of the
    :data:`DATED` tables are hashed once (:func:`~features.fingerprint.row_hashes`) and every
    view of them taken from their hashes: a month end's run looks at two (last month's, to
    reuse its build, and this month's, for the next run), without copying millions of rows.
    """

    def __init__(self, tables: dict[str, pd.DataFrame], settings: FeatureSettings):
        self.tables, self.settings = tables, settings
        self._rows: dict[str, tuple[np.ndarray, ...]] | None = None

    def fingerprint(self, t: pd.Timestamp) -> str:
        """SHA-256 of :func:`known_at` ``t``."""
        t = pd.Timestamp(t)
        digest = hashlib.sha256()
        for name, frame in sorted(known_at(self.tables, t, self.settings, rows=False).items()):
            digest.update(name.encode() + b"\0")
            update_digest(digest, frame)
        for name, known in sorted(self._rows_known(t.value).items()):
            digest.update(f"{name}:{len(known)}\0".encode())
            digest.update(memoryview(known))
        return digest.hexdigest()

    def _rows_known(self, t: int) -> dict[str, np.ndarray]:
        """The hashes of the rows known at ``t`` (ns) of every table viewed row by row."""
        if self._rows is None:
            self._rows = {
                name: (row_hashes(self.tables[name]), nanoseconds(self.tables[name][column]))
                for name, column in DATED.items()
                if name in self.tables
            }
            if "invoices" in self.tables:
                self._rows["invoices"] = self._ledger_hashes()
        out = {}
        for name, (rows, date, *payment) in self._rows.items():
            known = (date != NAT) & (date <= t)  # NaT: never known
            if payment:  # a payment after t blanked: not made yet
                paid, when, unpaid = payment
                paid = np.where((when != NAT) & (when <= t), paid, unpaid)
                rows = rows ^ (paid * np.uint64(0x9E3779B97F4A7C15))
            out[name] = rows[known]
        return out

    def _ledger_hashes(self) -> tuple[np.ndarray, ...]:
        """The invoices' row hashes without and with their payment, and their dates."""
        invoices = self.tables["invoices"]
        # the columns the features read: the rest (invoice ids, currency, paid amounts)
        # cannot change a cached feature, and cost most to hash
        ledger = invoices[[c for c in invoices.columns if c in LEDGER_COLUMNS]]
        paid = [c for c in PAYMENT if c in ledger]
        blank = pd.DataFrame({c: pd.Series([None], dtype=ledger[c].dtype) for c in paid})
        return (
            row_hashes(ledger.drop(columns=paid)),
            nanoseconds(invoices["issue_date"]),
            row_hashes(ledger[paid]),
            nanoseconds(invoices["paid_date"]),
            row_hashes(blank)[0],  # a payment not made yet
        )


def last_month_end(snapshots: pd.DataFrame) -> pd.Timestamp | None:
    """The latest snapshot month end of a build (``None`` when it has no rows)."""
    if snapshots.empty:
        return None
    return month_end(int(snapshots["month"].max()))[0]


def cached_features(snapshots: pd.DataFrame) -> pd.DataFrame:
    """What a later build reuses: each row's keys and features (no labels, no groups)."""
    return snapshots.drop(columns=[c for c in ID_COLUMNS if c not in KEYS])


def with_cached_rows(
    rows: pd.DataFrame,
    fresh: pd.DataFrame,
    cached: list[pd.DataFrame],
    first_new_month: int,
    book: pd.Series,
) -> pd.DataFrame | None:
    """The whole snapshot table: the earlier rows' features from the cache, the new ones built.

    Args:
        rows: The :data:`~features.build.ID_COLUMNS` of every row of an incremental build
            (``build_customer_features(..., first_new_month)``) in the table's order, with
            their labels as of now; the earlier months' with no staleness rule applied.
        fresh: ``rows``' rows from ``first_new_month`` on, in order, with every feature (the
            sector comparisons of a month use only that month's rows).
        cached: :func:`cached_features` of the last build, in parts (one per build that
            added rows), whose month ends all come before ``first_new_month``.
        first_new_month: Month index of the first month end built now.
        book: The book's ``customer_id`` (to match rows on integer keys).

    Returns:
        The table a full build gives, or ``None`` when the cache does not fit this build (a
        cached row the grid no longer has; other features or types): then build everything.
        An earlier row that is not in the cache was stale at the last build, as it is now.
    """
    features = [c for c in cached[0].columns if c not in KEYS]
    if any(list(part.columns) != list(cached[0].columns) for part in cached) or (
        len(fresh)
        and not (
            list(fresh.columns) == ID_COLUMNS + features
            and fresh[features].dtypes.equals(cached[0][features].dtypes)
        )
    ):
        return None
    old = (rows["month"] < first_new_month).to_numpy()
    found = _cached_positions(rows[old], cached, pd.Index(book))
    if found is None:
        return None
    where, covered = found
    keep = ~old
    keep[np.flatnonzero(old)[covered]] = True  # earlier rows stale at the last build: left out
    if not keep.all():
        rows = rows[keep].reset_index(drop=True)
    place = np.cumsum(keep) - 1  # each row's position in the table
    parts = [place[np.flatnonzero(old)[at]] for at in where]
    new_rows = place[~old]
    floats = [c for c in features if cached[0][c].dtype == np.float64]
    block = mapped_empty((len(floats), len(rows)))  # the table's float features, filled once
    more = {}
    for name in features:
        values = block[floats.index(name)] if name in floats else np.empty(
            len(rows), dtype=cached[0][name].to_numpy().dtype
        )  # fmt: skip
        for part, at in zip(cached, parts, strict=True):
            values[at] = part[name].to_numpy()
        if len(fresh):
            values[new_rows] = fresh[name].to_numpy()
        if name not in floats:
            dtype = cached[0][name].dtype
            more[name] = pd.array(values, dtype) if values.dtype == object else values
    table = frame_of(rows, floats, block, more)
    return table[ID_COLUMNS + features] if more else table


def mapped_empty(shape: tuple[int, ...]) -> np.ndarray:
    """An unfilled float64 array whose memory is mapped in one call (Linux ``MAP_POPULATE``).

    Filling a fresh ``numpy.empty`` of a gigabyte faults its pages in one at a time, and on a
    machine with fragmented memory (transparent huge pages on ``madvise``, as numpy asks) each
    fault may compact memory first: 1.2 to 4.9 s against 0.7 to 1.1 s for the same gigabyte
    mapped at once. Small arrays, and systems without the flag, get ``numpy.empty``.
    """
    size = int(np.prod(shape)) * 8
    populate = getattr(mmap, "MAP_POPULATE", None)
    if size < 1 << 26 or populate is None:
        return np.empty(shape)
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
    return np.frombuffer(memory, dtype=np.float64).reshape(shape)  # freed with the array


def _cached_positions(
    old: pd.DataFrame, cached: list[pd.DataFrame], book: pd.Index
) -> tuple[list[np.ndarray], np.ndarray] | None:
    """Where each cached row lies among the ``old`` rows, and which old rows are cached.

    ``None`` when a cached row is not among them (or is cached twice).
    """
    keys = pd.Index(_row_keys(old, book))
    where = [keys.get_indexer(_row_keys(part, book)) for part in cached]
    covered = np.zeros(len(old), dtype=bool)
    for at in where:
        if (at < 0).any():  # a cached row (or customer) the grid no longer has
            return None
        covered[at] = True
    if covered.sum() != sum(len(part) for part in cached):
        return None
    return where, covered


def _row_keys(rows: pd.DataFrame, book: pd.Index) -> np.ndarray:
    """One integer per row, in the order of the book then month (customer position, month)."""
    position = positions(rows["customer_id"], book)
    return position * MONTHS + rows["month"].to_numpy(dtype=np.int64)
