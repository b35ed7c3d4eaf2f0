"""Readers for the public data sets (../shared/data or data/public), for sources.adapters."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from pipelines.io.files import StageError
from pipelines.sources.adapters import (
    Adapted,
    adapt_ibm_ar,
    adapt_polish,
    adapt_taiwan,
    industry_index_from_returns,
)

SHARED = Path("../shared/data")
PUBLIC = Path("data/public")  # where python -m pipelines.fetch_public puts them
SOURCES = {
    "taiwan_credit_default": "UCI_Credit_Card.csv",
    "polish_bankruptcy": "5year.arff",
    "ibm_ar_late_payment": "WA_Fn-UseC_-Accounts-Receivable.csv",
}


def data_folder(source: str) -> Path:
    """The default folder of a public data set.

    ``../shared/data/<source>`` where that exists, else ``data/public/<source>`` (where
    ``python -m pipelines.fetch_public <source>`` puts it).
    """
    shared = SHARED / source
    return shared if shared.is_dir() else PUBLIC / source


def _file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise StageError(f"ingest.file: {name} is outside the folder {folder}; name a file in it")
    if not path.is_file():
        raise StageError(
            f"{path} not found: set ingest.path to the folder holding {name}, or download "
            f"it: python -m pipelines.fetch_public {folder.name}"
        )
    return path


def source_file(source: str, folder: Path | None, name: str | None = None) -> Path:
    """The file a public data set is read from.

    ``name`` (``ingest.file``; default the set's usual file, e.g. ``5year.arff`` of the Polish
    data, whose other years are ``1year.arff`` .. ``4year.arff``) in ``folder`` (default
    :func:`data_folder`), never outside it.
    """
    return _file(Path(folder) if folder else data_folder(source), name or SOURCES[source])


def read_arff(path: Path) -> pd.DataFrame:
    """A numeric ARFF file ('?' = missing) as a frame named by its @attribute lines."""
    names, data = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = line.strip()
            if text.lower().startswith("@attribute"):
                names.append(text.split()[1])
            elif text.lower() == "@data":
                data = fh.read()
                break
    frame = pd.read_csv(io.StringIO(data), header=None, names=names, na_values="?")
    return frame.apply(pd.to_numeric, errors="raise")


def read_adapter(source: str, path: Path) -> Adapted:
    """Read and adapt one of the public data sets from its file (:func:`source_file`)."""
    if source == "taiwan_credit_default":
        raw = pd.read_csv(path)
        if "X1" not in raw:  # the same data set is also distributed with UCI's long names
            raw.columns = ["ID", *[f"X{i}" for i in range(1, 24)], "Y"]
        return adapt_taiwan(raw)
    if source == "polish_bankruptcy":
        return adapt_polish(read_arff(path))
    return adapt_ibm_ar(pd.read_csv(path, dtype={"invoiceNumber": str}))


def read_fama_french(path: Path) -> pd.DataFrame:
    """The first block (monthly value-weighted returns, %) of the Fama-French 12-industry file."""
    lines = path.read_text(encoding="latin-1").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(",NoDur"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].strip())
    block = pd.read_csv(io.StringIO("\n".join(lines[start:end])), skipinitialspace=True)
    block.columns = ["month", *[c.strip() for c in block.columns[1:]]]
    block["month"] = pd.to_datetime(
        block["month"].astype(str), format="%Y%m"
    ) + pd.offsets.MonthEnd(0)
    return block.set_index("month").where(lambda f: f > -99)


def real_industry_index(
    folder: Path | None, months: pd.DatetimeIndex, industries: list[str]
) -> pd.DataFrame:
    """The ``industry_cycle`` adapter: real industry series on the book's calendar."""
    folder = Path(folder) if folder else data_folder("industry_cycle")
    returns = read_fama_french(_file(folder, "12_Industry_Portfolios.CSV"))
    cli = pd.read_csv(_file(folder, "USALOLITOAASTSAM.csv"), parse_dates=["observation_date"])
    leading = cli.set_index(cli["observation_date"] + pd.offsets.MonthEnd(0))["USALOLITOAASTSAM"]
    return industry_index_from_returns(returns, leading, months, industries)
