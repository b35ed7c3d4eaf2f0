"""Downloading a public data set: checked against its SHA-256, from a local mirror here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines import fetch_public
from pipelines.io.files import StageError

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"


@pytest.fixture
def mirror(tmp_path) -> Path:
    """A local copy of the IBM file, served as a file:// mirror."""
    source = SHARED / "ibm_ar_late_payment" / "WA_Fn-UseC_-Accounts-Receivable.csv"
    if not source.is_file():
        pytest.skip(f"public data sets not found at {SHARED}")
    folder = tmp_path / "mirror"
    folder.mkdir()
    shutil.copy(source, folder / source.name)
    return folder


def test_a_download_is_kept_only_with_the_recorded_checksum(tmp_path, mirror, caplog):
    dest = tmp_path / "public"
    (path,) = fetch_public.fetch("ibm_ar_late_payment", dest, mirror.as_uri())
    assert path == dest / "ibm_ar_late_payment" / "WA_Fn-UseC_-Accounts-Receivable.csv"
    assert fetch_public.sha256(path) == fetch_public.DATASETS["ibm_ar_late_payment"][0].sha256
    caplog.set_level("INFO")
    fetch_public.fetch("ibm_ar_late_payment", dest, mirror.as_uri())  # nothing to do
    assert "already there, checksum right" in caplog.text
    # a changed file at the source: refused, and the good copy is left as it was
    path.write_text("tampered")
    with open(mirror / path.name, "a", encoding="utf-8") as fh:
        fh.write("one more line\n")
    with pytest.raises(StageError, match=r"has SHA-256 [0-9a-f]{64}, not the recorded"):
        fetch_public.fetch("ibm_ar_late_payment", dest, mirror.as_uri())
    assert path.read_text() == "tampered" and not list(path.parent.glob(".*tmp"))


def test_unknown_names_and_unreachable_sources_are_one_line_errors(tmp_path):
    with pytest.raises(StageError, match="unknown public data set 'mnist'"):
        fetch_public.fetch("mnist", tmp_path)
    with pytest.raises(StageError, match="cannot download file:///nowhere/UCI_Credit_Card.csv"):
        fetch_public.fetch("taiwan_credit_default", tmp_path, "file:///nowhere")


def test_every_data_set_the_adapters_read_can_be_fetched():
    from pipelines.sources.public import SOURCES

    for source, name in SOURCES.items():
        assert name in [f.name for f in fetch_public.DATASETS[source]]
    names = [f.name for f in fetch_public.DATASETS["industry_cycle"]]
    assert names == ["12_Industry_Portfolios.CSV", "USALOLITOAASTSAM.csv"]
