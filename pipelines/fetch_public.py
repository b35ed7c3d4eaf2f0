"""Download a public data set the adapters read, checked against its SHA-256.

``python -m pipelines.fetch_public NAME [NAME ...]`` puts each file of the named data sets in
``data/public/<NAME>/`` (git-ignored), where the public-data sources and ``bench/real_data.py``
find them when ``../shared/data`` is not there. Each file comes from a pinned public copy (the
commit is part of the address) and is kept only if its SHA-256 is the one recorded here: a
changed or truncated download is an error, and nothing half written is left behind. A file
already there with the right checksum is not downloaded again.

``--mirror URL`` reads the files from ``URL/<file name>`` instead (a company proxy, or a local
``file://`` folder); the checksums still decide.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipelines.io.files import StageError, atomic_path, file_digest, run_stage
from pipelines.sources.public import PUBLIC

log = logging.getLogger("pipelines")
GITHUB = "https://raw.githubusercontent.com"
TIMEOUT_S = 60


@dataclass(frozen=True)
class PublicFile:
    """One file of a public data set: where it is published and its SHA-256."""

    name: str
    url: str
    sha256: str


DATASETS: dict[str, tuple[PublicFile, ...]] = {
    # UCI 350 (CC BY 4.0), Yeh & Lien 2009
    "taiwan_credit_default": (
        PublicFile(
            "UCI_Credit_Card.csv",
            f"{GITHUB}/fju155447/uci/84670e783ab9fd2459b7096d82965f28dafb66b2/UCI_Credit_Card.csv",
            "023eb2c3ad9efd15e7869616fa50a0143f25223105c7069ba632431530afdb61",
        ),
    ),
    # UCI 365 (CC BY 4.0), Zieba, Tomczak & Tomczak 2016; the fifth year's file
    "polish_bankruptcy": (
        PublicFile(
            "5year.arff",
            f"{GITHUB}/macdonaldg23/CSCI230_final_project/"
            "2b0356ae989cd74faac6eb30c345d1ebe778555d/data/5year.arff",
            "e403fd559a71f2614a19260a63af215b30c787f5a661b52798c4ac4e0c1271ca",
        ),
    ),
    # IBM Watson Analytics sample data, accounts receivable
    "ibm_ar_late_payment": (
        PublicFile(
            "WA_Fn-UseC_-Accounts-Receivable.csv",
            f"{GITHUB}/pthiagu2/DataMining/c62bd3cd9e07218e15cf18ee6284c876cf082de8/"
            "WA_Fn-UseC_-Accounts-Receivable.csv",
            "f5d488eaa4c1cc843b478b6f1068c553c5394aab4b64d587e4b9ad811d845c19",
        ),
    ),
    # Kenneth R. French Data Library (12 industries) and the OECD leading indicator (FRED)
    "industry_cycle": tuple(
        PublicFile(
            name,
            f"{GITHUB}/JacksonSeowJX/macro-sector-allocation/"
            f"2d8911ebfbd826ccbd4588daa107a92315703506/{name}",
            sha,
        )
        for name, sha in (
            (
                "12_Industry_Portfolios.CSV",
                "60230784bc3ae051bd22c86bee3dad8a408a0471443e95167895ef1038a49f46",
            ),
            (
                "USALOLITOAASTSAM.csv",
                "f99867790cb4d1ab64a53a2f88348f174f9843191b128ffc0ebd12706b7e3c41",
            ),
        )
    ),
}


def sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    return file_digest(path, "sha256")


def fetch(name: str, dest: Path = PUBLIC, mirror: str | None = None) -> list[Path]:
    """Download the files of data set ``name`` into ``dest/<name>/``; return their paths.

    Raises:
        StageError: An unknown name, a download that fails, or a file whose SHA-256 differs
            (naming the file, the address and both checksums).
    """
    if name not in DATASETS:
        raise StageError(f"unknown public data set {name!r}; known: {sorted(DATASETS)}")
    folder = dest / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file in DATASETS[name]:
        path = folder / file.name
        paths.append(path)
        if path.is_file() and sha256(path) == file.sha256:
            log.info("%s: already there, checksum right", path)
            continue
        url = f"{mirror.rstrip('/')}/{file.name}" if mirror else file.url
        log.info("downloading %s", url)
        with atomic_path(path) as tmp:
            try:
                with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310
                    with open(tmp, "wb") as out:
                        shutil.copyfileobj(response, out)
            except (OSError, ValueError) as err:
                raise StageError(f"{name}: cannot download {url}: {err}") from None
            got = sha256(tmp)
            if got != file.sha256:
                raise StageError(
                    f"{name}: {url} has SHA-256 {got}, not the recorded {file.sha256}: "
                    "not the published file (changed, truncated or a proxy's error page); "
                    "nothing written"
                )
        log.info("%s: written, SHA-256 %s", path, file.sha256)
    return paths


def main(argv: list[str] | None = None) -> None:
    """Command line entry: ``python -m pipelines.fetch_public NAME [NAME ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(DATASETS), metavar="NAME")
    parser.add_argument("--dest", default=str(PUBLIC), help="folder (default data/public)")
    parser.add_argument("--mirror", default=None, help="read the files from URL/<file name>")
    args = parser.parse_args(argv)
    run_stage(lambda: [fetch(n, Path(args.dest), args.mirror) for n in args.names])


if __name__ == "__main__":
    main()
