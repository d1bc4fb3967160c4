"""Detection accuracy on a generated sample with ground truth (issue: synthetic rosters).

Every deterministic check must be exact; the text comparisons at least 0.99;
and no benign variation (width, spaces, hiragana, variant kanji, small kana,
address styles, a dropped leading zero) may become a match.* warning or error.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from recon import pipeline
from recon.policy import load_policy
from recon.synthetic import TRUTH_FROM, generate_chunks, generate_sample, write_sample
from recon.synthetic.accuracy import benign_by_check, benign_flagged, failures, score

AS_OF = dt.date(2025, 6, 30)


def _run(tmp_path, members, seed, encoding, fmt):
    sample = generate_sample(members, seed, defects=0.05, utf8=encoding == "utf-8")
    paths = write_sample(sample, tmp_path, encoding, fmt)
    result = pipeline.analyse(paths["roster"], paths["filings"], load_policy(), AS_OF)
    return result.findings, pl.read_csv(paths["truth"], infer_schema=False).with_columns(
        pl.col("row").cast(pl.Int64)
    )


def test_a_sample_written_in_chunks_meets_every_target(tmp_path):
    # Chunks of whole households: cross-household defects (a duplicate number in
    # another household, another person's number, orphans) inside each, ids,
    # numbers and row numbers continuing across them.
    chunks = generate_chunks(20_000, 7, defects=0.05, chunk_members=6_000)
    paths = write_sample(chunks, tmp_path)
    result = pipeline.analyse(paths["roster"], paths["filings"], load_policy(), AS_OF)
    truth = pl.read_csv(paths["truth"], infer_schema=False)
    truth = truth.with_columns(pl.col("row").cast(pl.Int64))
    table = score(result.findings, truth)
    assert failures(table) == [], table
    assert table.filter(pl.col("expected") == 0)["check"].to_list() == []
    assert (
        benign_flagged(result.findings, truth, pl.col("severity").is_in(["error", "warning"])) == 0
    )


@pytest.mark.parametrize(
    ("members", "encoding", "fmt"),
    [(20_000, "cp932", "csv"), (3_000, "utf-8", "parquet")],
)
def test_every_check_meets_its_target(tmp_path, members, encoding, fmt):
    findings, truth = _run(tmp_path, members, 7, encoding, fmt)
    table = score(findings, truth)
    assert failures(table) == [], table
    # Every check a row can carry was injected at least once.
    absent = table.filter(pl.col("expected") == 0)["check"].to_list()
    if members >= 20_000:
        assert absent == []
    assert benign_flagged(findings, truth, pl.col("severity").is_in(["error", "warning"])) == 0


def test_truth_holds_for_any_run_date_from_its_first_day(tmp_path):
    sample = generate_sample(2_000, 3, defects=0.1)
    paths = write_sample(sample, tmp_path)
    for as_of in (TRUTH_FROM, dt.date(2027, 1, 1)):
        result = pipeline.analyse(paths["roster"], paths["filings"], load_policy(), as_of)
        assert failures(score(result.findings, sample.truth)) == []


def test_a_missed_finding_lowers_recall():
    truth = pl.DataFrame(
        {
            "source": ["filings"] * 2,
            "row": [1, 2],
            "member_id": ["a", "b"],
            "check": ["match.sex"] * 2,
        }
    )
    findings = truth.head(1).with_columns(severity=pl.lit("error"))
    row = score(findings, truth).filter(pl.col("check") == "match.sex").row(0, named=True)
    assert (row["tp"], row["fn"], row["precision"], row["recall"]) == (1, 1, 1.0, 0.5)
    assert failures(score(findings, truth)) == ["match.sex: precision 1.0000, recall 0.5000"]


def test_a_masked_member_id_is_scored_by_row_and_reported():
    truth = pl.DataFrame(
        {
            "source": ["roster"] * 2,
            "row": [7, 8],
            "member_id": ["1002-00000212-01", "5120-12345678-00"],
            "check": ["roster.insurer_number"] * 2,
        }
    )
    findings = truth.with_columns(
        member_id=pl.Series(["********0212-01", "5120-12345678-00"]), severity=pl.lit("error")
    )
    row = (
        score(findings, truth).filter(pl.col("check") == "roster.insurer_number").row(0, named=True)
    )
    assert (row["tp"], row["fp"], row["fn"], row["masked"]) == (2, 0, 0, 1)
    assert failures(score(findings, truth)) == [
        "roster.insurer_number: 1 member_id masked (SPEC §9 forbids it)"
    ]
    # A masked id on a row the truth does not name stays a false alarm.
    stray = findings.with_columns(row=pl.Series([9, 8]))
    row = score(stray, truth).filter(pl.col("check") == "roster.insurer_number").row(0, named=True)
    assert (row["tp"], row["fp"], row["fn"]) == (1, 1, 1)


def test_a_mismatch_on_a_row_that_only_varies_is_a_benign_flag():
    truth = pl.DataFrame(
        {
            "source": ["filings"] * 3,
            "row": [1, 2, 3],
            "member_id": ["a", "b", "c"],
            "check": ["match.name_variant", "match.name", "match.name_variant"],
        }
    )
    findings = pl.DataFrame(
        {
            "check": ["match.name", "match.name", "match.name_variant"],
            "source": ["filings"] * 3,
            "row": [1, 2, 3],
            "member_id": ["a", "b", "c"],
            "severity": ["warning", "warning", "info"],
        }
    )
    severity = pl.col("severity").is_in(["error", "warning"])
    # Row 1 varies only by variant kanji: its match.name is a false alarm; row 2 is a defect.
    assert benign_flagged(findings, truth, severity) == 1
    by_check = benign_by_check(findings, truth, severity)
    assert by_check.to_dicts() == [{"check": "match.name", "flagged": 1}]
