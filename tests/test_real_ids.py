"""Ids as real societies have them hold twelve digits and more: written exactly as read.

The bug: `1000-181800-00` (whose twelve digits pass the My Number check digit)
was written as `********` in every file, `5120-12345678-00` as
`********5678-00`, and a twelve-digit employee id in an orphan's detail was
masked and blocked the run through `gx.finding_detail_shows_no_my_number`.
A My Number shifted into the name column is masked wherever the name is
written, and nothing else is.
"""

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from stdnum.jp import in_ as oracle

from recon import pipeline
from recon.output import tables
from tests.conftest import FILINGS, ROSTER, filing, member, my_number, run_args, write_csv

ROOT = Path(__file__).resolve().parent.parent

PASSING_ID = "1000-181800-00"  # its digits pass the check digit
LONG_ID = "5120-12345678-00"
EMPLOYEE_ID = my_number(98765432100)  # an employee id that passes the check digit
SHIFTED = my_number(91234567890)  # a My Number typed into the name column
SHIFTED_SPELLED = f"{SHIFTED[:4]} {SHIFTED[4:8]} {SHIFTED[8:]}"


def test_the_cases_are_what_they_claim():
    assert oracle.is_valid(PASSING_ID.replace("-", ""))
    assert oracle.is_valid(EMPLOYEE_ID) and oracle.is_valid(SHIFTED)
    assert len(re.sub(r"\D", "", LONG_ID)) == 14


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    tmp = tmp_path_factory.mktemp("real_ids")
    # No filing: filing.missing, so the member is on findings.csv and confirm_members.csv.
    unfiled = member(employee="E1", symbol="1000", number="181800", branch="00")
    long_id = member(
        employee="E2", symbol="5120", number="12345678", branch="00", card_status="none"
    )
    shifted = member(
        employee="E3",
        symbol="1000",
        number="3",
        branch="00",
        name=SHIFTED_SPELLED,
        address="東京都千代田区千代田1-2-3 電話 03-1234-5678",
    )
    filings = [
        filing(long_id),
        # Matched by birth date and kana: match.name quotes the roster's name.
        filing(shifted, name="山田 花子"),
        filing(member(employee=EMPLOYEE_ID)),  # nobody has this employee id: an orphan
    ]
    roster = write_csv(tmp / "roster.csv", [unfiled, long_id, shifted], ROSTER)
    filed = write_csv(tmp / "filings.csv", filings, FILINGS)
    out = tmp / "out"
    done = subprocess.run(
        [sys.executable, "-m", "recon", *run_args(roster, filed, out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return out, done


def _csv(out: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(out / name, infer_schema=False)


def test_member_ids_are_written_as_read_in_members_and_mailing(written):
    out, _ = written
    members = _csv(out, "members.csv")
    assert members["member_id"].to_list() == [PASSING_ID, LONG_ID, "1000-3-00"]
    assert members["household_id"].to_list() == ["1000-181800", "5120-12345678", "1000-3"]
    mailing = tables.read_list(out / "mailing.csv")  # its header row is in words
    assert {"1000-181800", "5120-12345678"} <= set(mailing["household_id"])
    documents = " ".join(mailing["documents"])
    assert PASSING_ID in documents and LONG_ID in documents


def test_findings_name_members_and_employee_ids_as_read_and_nothing_blocks_on_them(written):
    out, _ = written
    findings = _csv(out, "findings.csv")
    assert PASSING_ID in findings.filter(pl.col("check") == "filing.missing")["member_id"]
    (orphan,) = findings.filter(pl.col("check") == "filing.orphan")["detail"]
    assert EMPLOYEE_ID in orphan
    assert "gx.finding_detail_shows_no_my_number" not in findings["check"].to_list()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    results = {r["check"]: r["success"] for r in summary["gx"]["results"]}
    assert results["gx.finding_detail_shows_no_my_number"] is True


def test_the_shifted_number_is_masked_in_every_file_that_writes_the_name(written):
    out, _ = written
    findings = _csv(out, "findings.csv")
    (said,) = findings.filter(pl.col("member_id") == "1000-3-00")["detail"].filter(
        findings.filter(pl.col("member_id") == "1000-3-00")["check"] == "match.name"
    )
    assert f"********{SHIFTED[-4:]}" in said and "山田 花子" in said
    confirm = (out / "confirm_members.csv").read_text(encoding="utf-8-sig")
    assert f"********{SHIFTED[-4:]}" in confirm
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"********{SHIFTED[-4:]}" in html
    # The phone number in the address fails the check digit (and is 10 digits): kept.
    assert "03-1234-5678" not in findings["detail"].str.join("")  # not quoted at all


def test_the_explain_folder_quotes_each_members_findings_as_findings_csv_does(written):
    """The folder's findings are encoded from the run's findings before GX adds its
    own (`explain.encoded_folder`, beside GX): they must still be findings.csv's
    findings about a member, in its order, detail for detail, the number masked."""
    out, _ = written
    columns = ["check", "severity", "source", "row", "field", "detail"]
    csv = _csv(out, "findings.csv").filter(pl.col("member_id").is_not_null()).select(columns)
    folder = pl.read_parquet(out / "explain" / "findings.parquet").select(columns)
    assert folder.select(pl.all().cast(pl.String)).rows() == csv.rows()
    assert any(f"********{SHIFTED[-4:]}" in d for d in folder["detail"])
    assert not any(SHIFTED in d for d in folder["detail"])


def test_nothing_but_the_shifted_number_is_masked_and_it_is_nowhere_in_full(written):
    out, done = written
    texts = {
        p.name: p.read_bytes().decode("utf-8", errors="replace")
        for p in out.rglob("*")
        if p.is_file()
    }
    texts["stdout"], texts["stderr"] = done.stdout, done.stderr
    lists = [
        "members.csv",
        "findings.csv",
        "mailing.csv",
        "confirm_members.csv",
        "certificates.csv",
        "report.html",
        "summary.json",
    ]
    for name in lists:
        # The page explains the masked form with an example: not a value.
        text = texts[name].replace("（********1234）", "").replace("(********1234)", "")
        # The page's explanations show each matched filing's number masked, as
        # `recon explain` does (tests/test_explain.py): numbers, not ids.
        text = re.sub(
            r'<details id="explain-r\d+" class="explain">.*?</details>', "", text, flags=re.S
        )
        assert re.findall(r"\*{8}(\d{0,4})", text) in ([], [SHIFTED[-4:]] * text.count("*" * 8))
    for name in ("members.csv", "findings.csv", "mailing.csv", "report.html"):
        assert PASSING_ID in texts[name] or PASSING_ID[:-3] in texts[name], name
    for name in ("members.csv", "mailing.csv", "report.html", "certificates.csv"):
        assert LONG_ID in texts[name] or LONG_ID[:-3] in texts[name], name
    assert EMPLOYEE_ID in texts["findings.csv"]  # an orphan is on no list of the page
    blob = unicodedata.normalize("NFKC", "\n".join(texts.values()))
    assert SHIFTED not in re.sub(r"[ \-]", "", blob)


def test_a_number_shifted_into_a_filings_branch_is_masked_everywhere(reconcile, tmp_path):
    """A filing's 枝番 makes no id (the roster's does): a My Number typed into it is
    quoted by its input.invalid_value finding masked, in every file and in explain."""
    insured = member(employee="E5", symbol="1000", number="5", branch="00")
    run = reconcile([insured], [filing(insured, branch=SHIFTED)])
    (finding,) = run.findings.filter(
        (pl.col("check") == "input.invalid_value") & (pl.col("field") == "branch")
    ).to_dicts()
    assert finding["source"] == "filings" and finding["member_id"] == "1000-5-00"
    out = tmp_path / "out"
    pipeline.write(run.result, out)
    explained = subprocess.run(
        [sys.executable, "-m", "recon", "explain", "1000-5-00", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert explained.returncode == 0, explained.stderr
    written = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    blob = b"\n".join([*written, explained.stdout.encode()]).decode("utf-8", errors="replace")
    assert f"********{SHIFTED[-4:]}" in "".join(_csv(out, "findings.csv")["detail"])
    assert f"********{SHIFTED[-4:]}" in explained.stdout
    assert SHIFTED not in re.sub(r"[ \-]", "", unicodedata.normalize("NFKC", blob))
    for part in ("findings", "filings"):
        frame = pl.read_parquet(out / "explain" / f"{part}.parquet")
        assert not any(SHIFTED in str(v) for row in frame.rows() for v in row), part
