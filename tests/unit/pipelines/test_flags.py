import pandas as pd

from pipelines.checks.flags import BEFORE_START, consistency_flags

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["A", "B", "C"],
        "relationship_start": pd.to_datetime(["2020-01-31", None, "2021-06-30"]),
    }
)


def invoices(*issued: str, customers=("A", "B", "C", "C")) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(len(issued))],
            "customer_id": list(customers)[: len(issued)],
            "issue_date": pd.to_datetime(list(issued)),
        }
    )


def test_invoices_before_the_start_are_flagged_with_their_file_rows():
    ledger = invoices("2019-05-01", "2010-01-01", "2021-07-01", "2021-01-01")
    (flag,) = consistency_flags({"customers": CUSTOMERS, "invoices": ledger}, sample_rows=5)
    assert flag["rule"] == BEFORE_START and flag["rows"] == 2 and flag["customers"] == 2
    assert [s["row"] for s in flag["sample"]] == [1, 4]  # B has no start: nothing to contradict
    assert flag["sample"][1] == {
        "row": 4, "invoice_id": "I3", "customer_id": "C", "issue_date": "2021-01-01",
        "relationship_start": "2021-06-30",
    }  # fmt: skip


def test_rows_set_aside_keep_the_others_file_rows_and_raise_no_flag():
    ledger = invoices("2019-05-01", "2010-01-01", "2021-07-01", "2021-01-01")
    kept = ledger.drop(index=[0])  # rejected by a rule: validate flags kept rows only
    (flag,) = consistency_flags({"customers": CUSTOMERS, "invoices": kept}, sample_rows=5)
    assert [s["row"] for s in flag["sample"]] == [4]


def test_no_flag_without_a_contradiction_or_a_ledger():
    ledger = invoices("2020-02-01", "2010-01-01", "2021-07-01")
    assert consistency_flags({"customers": CUSTOMERS, "invoices": ledger}, 5) == []
    assert consistency_flags({"customers": CUSTOMERS}, 5) == []
    no_start = CUSTOMERS.drop(columns="relationship_start")
    assert consistency_flags({"customers": no_start, "invoices": invoices("2000-01-01")}, 5) == []
