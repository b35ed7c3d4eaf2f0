"""The champion over HTTP answers as batch scoring does, and refuses bad input with a 4xx.

The test registers a small model, promotes it to ``champion`` the way the promote command
does (the alias), serves ``models:/<name>@champion`` on a free loopback port, both with
``mlflow models serve`` and with the project's ``python -m pipelines.serve`` (the same MLflow
app behind a strict request check), and compares the answers with the batch-scoring code path
(``score_rows`` on the same registered model), and the reason sentences a caller gets (sector
medians and ``language`` in the request) with those of the scored CSV (``score_month`` and
``scores_table``, as the score stage writes scores.csv). The strict server gets a battery of
bad requests: each one a 4xx with a message, and the server answers a good request after them.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from pipelines.book.ecl import lifetime_ecl
from pipelines.book.export import scores_table
from pipelines.book.month import Inputs, score_month
from pipelines.book.rows import score_rows
from pipelines.io.artifacts import load_policy
from pipelines.io.paths import Paths
from pipelines.modelstore import registry

pytestmark = pytest.mark.slow

FEATURES = ["days_late_wavg_12m", "on_time_rate_12m", "debt_ratio", "current_ratio", "dso_days"]
NAME = "tiny-pd"
STARTUP_S = 90
REPO = Path(__file__).resolve().parents[2]
AS_OF = pd.Timestamp("2024-12-31")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"server not up after {STARTUP_S} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    # the server runs uvicorn as a child: signal the whole session this test started
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


SERVERS = {
    "mlflow": lambda bin_dir, port: [
        str(Path(bin_dir) / "mlflow"), "models", "serve", "-m", f"models:/{NAME}@champion",
        "--env-manager", "local", "-p", str(port), "-h", "127.0.0.1",
    ],
    "strict": lambda bin_dir, port: [
        sys.executable, "-m", "pipelines.serve", "--config", str(REPO / "configs/params.yaml"),
        "--model", f"models:/{NAME}@champion", "--port", str(port),
    ],
}  # fmt: skip


@pytest.fixture(scope="module", params=list(SERVERS))
def served(request, tmp_path_factory, tiny_pd_model):
    root = tmp_path_factory.mktemp(f"serve-{request.param}")
    model, X = tiny_pd_model(FEATURES, term_structure=True)  # answers pd_1m .. pd_terms too
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.chdir(root)  # a relative sqlite URI, as from the repo root
        record = registry.log_and_register(
            model,
            tracking_uri="sqlite:///mlflow.db",
            experiment="tiny",
            model_name=NAME,
            alias="challenger",
            params={},
            metrics={},
            artifacts=[],
            tags={},
            input_example=X.head(2),
        )
        registry.set_alias(NAME, "champion", record["model_version"], "sqlite:///mlflow.db")
        champion = registry.load_model(f"models:/{NAME}@champion", "sqlite:///mlflow.db")
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    port = free_port()
    cmd = SERVERS[request.param](bin_dir, port)
    log = root / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, proc, log)
        print(f"\nregister + serve startup took {time.monotonic() - started:.1f} s")
        yield {"url": url, "model": model, "champion": champion, "X": X}
    finally:
        stop(proc)


def post(url: str, frame: pd.DataFrame, params: dict | None = None) -> requests.Response:
    split = json.loads(frame.to_json(orient="split", index=False, double_precision=15))  # NaN: null
    body = {"dataframe_split": split, **({"params": params} if params else {})}
    return requests.post(f"{url}/invocations", json=body, timeout=30)


def month_inputs(X: pd.DataFrame, root: Path) -> Inputs:
    """40 customers of three sectors at one month end, as the score stage reads them.

    Mining has one customer, whose debt ratio is missing: so is the sector's median.
    """
    ids = [f"C{i:02d}" for i in range(40)]
    sectors = ["retail"] * 20 + ["energy"] * 19 + ["mining"]
    features = X.iloc[:40].reset_index(drop=True)
    features.loc[39, "debt_ratio"] = np.nan
    snapshots = features.assign(customer_id=ids, as_of_date=AS_OF, industry=sectors, region="n")
    customers = pd.DataFrame(
        {"customer_id": ids, "name": ids, "industry": sectors, "region": "n"}
    ).assign(
        annual_revenue=1e6, relationship_start=pd.Timestamp("2020-01-01"), credit_limit=1e4,
        payment_terms_days=30,
    )  # fmt: skip
    defaults = pd.DataFrame(
        {"customer_id": [], "default_date": pd.to_datetime([]), "default_trigger": []}
    ).astype({"customer_id": str, "default_trigger": str})
    manifest, record = {"as_of_date": f"{AS_OF:%Y-%m-%d}"}, {"model_version": 1}
    return Inputs(snapshots, defaults, customers, None, None, manifest, record, Paths(root))


def test_serve_answers_as_batch_scoring_does(served):
    rows = served["X"].iloc[[0, 1, 2, 7, 14, 21, 30]]
    assert rows.isna().any().any()
    response = post(served["url"], rows)
    assert response.status_code == 200, response.text
    got = pd.DataFrame(response.json()["predictions"])
    batch = score_rows(rows, served["champion"]).reset_index(drop=True)
    assert list(got.columns) == list(batch.columns)
    assert {"pd_12m", "grade", "reason_1_code", "reason_1"} <= set(got.columns)
    pds = [c for c in batch.columns if c.startswith("pd_")]  # 12 months, 1..11, within terms
    assert {"pd_1m", "pd_3m", "pd_6m", "pd_terms"} <= set(pds)
    np.testing.assert_allclose(got[pds], batch[pds], rtol=1e-12)
    rest = [c for c in batch.columns if c not in pds]
    pd.testing.assert_frame_equal(got[rest], batch[rest], check_dtype=False)
    # and both are what the PD model itself says
    direct = served["model"].predict(rows).reset_index(drop=True)
    np.testing.assert_allclose(batch["pd_12m"], direct["pd_12m"], rtol=1e-12)
    assert (got["grade"] == direct["grade"]).all()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_caller_gets_the_sentences_of_the_scored_csv(served, tmp_path, language):
    inputs = month_inputs(served["X"], tmp_path)
    # as the score stage binds it for the month it scores
    score = partial(score_rows, model=served["champion"], what_it_would_take=True)
    policy = load_policy(Paths(REPO).policy)
    book, _, _ = score_month(inputs, score, policy, AS_OF, language)
    book, _ = lifetime_ecl(book, None, AS_OF, policy.lgd)  # as the score stage adds it
    scored = scores_table(book).set_index("customer_id")
    # a caller over HTTP sends the features, each one's sector median and the language
    snaps = inputs.snapshots
    medians = snaps.groupby("industry")[FEATURES].transform("median").add_prefix("median__")
    assert medians.isna().any().any()  # a missing median: no clause, on both sides
    response = post(
        served["url"], pd.concat([snaps[FEATURES], medians], axis=1), {"language": language}
    )
    assert response.status_code == 200, response.text
    got = pd.DataFrame(response.json()["predictions"]).set_axis(snaps["customer_id"])
    reasons = [c for k in (1, 2, 3) for c in (f"reason_{k}_code", f"reason_{k}")]
    pd.testing.assert_frame_equal(got.loc[scored.index, reasons], scored[reasons])
    worded = scored.loc[scored["reason_1"] != "", "reason_1"]
    assert len(worded) > 10
    assert worded.str.contains("sector median" if language == "en" else "行业中位数").any()
    if language == "zh":
        assert worded.str.contains(r"[\u4e00-\u9fff]").all()


def test_an_unknown_language_is_refused_with_a_message(served):
    response = post(served["url"], served["X"].head(20), {"language": "fr"})
    assert response.status_code == 400, response.text
    assert "unknown language 'fr'" in response.json()["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows.drop(columns="debt_ratio"), "debt_ratio"),
        (lambda rows: rows.astype(object).assign(dso_days="forty"), "dso_days"),
    ],
    ids=["missing column", "string in a numeric field"],
)
def test_serve_rejects_bad_input_with_a_message(served, change, message):
    response = post(served["url"], change(served["X"].head(3)))
    assert 400 <= response.status_code < 500, response.text
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    ("column", "value"),
    [("days_late_wavg_12m", 1e308), ("debt_ratio", -1e13), ("dso_days", 2e12)],
)
def test_a_value_beyond_its_unit_s_range_is_refused_by_the_model(served, column, value):
    rows = served["X"].head(3).copy()
    rows.iloc[1, rows.columns.get_loc(column)] = value
    response = post(served["url"], rows)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert column in message and "row 1" in message, message


def bad_requests() -> dict[str, tuple[str, bytes, str]]:
    """name: (content type, raw body, what the message must say)."""
    cols = FEATURES
    row = [1.0, 0.5, 0.4, 1.2, 40.0]

    def split(data, columns=cols, **extra) -> bytes:
        return json.dumps({"dataframe_split": {"columns": columns, "data": data}, **extra}).encode()

    def raw_row(literal: str) -> bytes:
        return (
            f'{{"dataframe_split": {{"columns": {json.dumps(cols)}, '
            f'"data": [[{literal}, 0.5, 0.4, 1.2, 40.0]]}}}}'
        ).encode()

    records = [dict(zip(cols, row, strict=True)), dict(zip(cols[:-1], row, strict=False))]
    js = "application/json"
    return {
        "short row": (js, split([row, row[:-1]]), "row 1 has 4 values for 5 columns"),
        "long row": (js, split([row + [1.0]]), "row 0 has 6 values"),
        "record without a feature": (
            js, json.dumps({"dataframe_records": records}).encode(), "row 1 lacks required"
        ),
        "boolean": (js, split([[True, *row[1:]]]), "'days_late_wavg_12m': true is not a number"),
        "text": (js, split([[*row[:4], "forty"]]), "'dso_days': \"forty\" is not a number"),
        "object as value": (js, split([[*row[:4], {"v": 1}]]), "is not a number"),
        "NaN literal": (js, raw_row("NaN"), "NaN is not a JSON number"),
        "Infinity literal": (js, raw_row("Infinity"), "Infinity is not a JSON number"),
        "-Infinity literal": (js, raw_row("-Infinity"), "-Infinity is not a JSON number"),
        "integer beyond a float": (js, raw_row("1" + "0" * 400), "too large"),
        "deep nesting": (js, b'{"dataframe_split": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                         "nested too deeply"),
        "not JSON": (js, b"{dataframe_split: [1, 2", "not valid UTF-8 JSON"),
        "not UTF-8": (js, b'{"dataframe_split": "\xff\xfe"}', "not valid UTF-8 JSON"),
        "a list": (js, json.dumps([row]).encode(), "must be a JSON object"),
        "two formats": (
            js, json.dumps({"dataframe_split": {}, "dataframe_records": []}).encode(), "exactly one"
        ),
        "instances format": (js, json.dumps({"instances": [row]}).encode(), "exactly one"),
        "unknown column": (
            js, split([[*row, 1.0]], columns=[*cols, "dso_dayz"]), "unknown columns ['dso_dayz']"
        ),
        "repeated column": (
            js, split([[*row, 1.0]], columns=[*cols, "dso_days"]), "repeats columns ['dso_days']"
        ),
        "missing column": (js, split([row[:-1]], columns=cols[:-1]), "lacks required columns"),
        "no rows": (js, split([]), "non-empty list of rows"),
        "params not text": (js, split([row], params={"language": 5}), "params must be"),
        "unknown language": (js, split([row], params={"language": "fr"}), "unknown language"),
        "CSV": ("text/csv", b"a,b\n1,2\n", "send application/json"),
    }  # fmt: skip


BAD = bad_requests()


# mlflow models serve parses as MLflow does (lenient); the project's server checks first
@pytest.mark.parametrize("served", ["strict"], indirect=True)
@pytest.mark.parametrize("name", list(BAD))
def test_the_strict_server_refuses_a_bad_request_with_a_message(served, name):
    content_type, body, expected = BAD[name]
    response = requests.post(
        f"{served['url']}/invocations", data=body, headers={"Content-Type": content_type},
        timeout=30,
    )  # fmt: skip
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert expected in response.json()["message"], response.text[:300]


@pytest.mark.parametrize("served", ["strict"], indirect=True)
def test_the_strict_server_still_answers_after_the_bad_requests(served):
    # module order: runs after the battery above, on the same server process
    response = post(served["url"], served["X"].head(3))
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 3
