"""The bundled sample: expected decisions field by field, full coverage, no leaked number."""

import json
import re
import unicodedata
from pathlib import Path

import polars as pl

from recon.findings import catalog
from tests.conftest import SAMPLE_CERTIFICATE_REASONS, SAMPLE_CONFIRM_REASONS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False).fill_null("")


def test_members_match_the_expected_decisions_field_by_field(sample_run):
    out, _ = sample_run
    got, expected = _csv(out / "members.csv"), _csv(FIXTURES / "expected_members.csv")
    assert got.columns == expected.columns
    assert got.height == expected.height == 50
    for row, (g, e) in enumerate(
        zip(got.iter_rows(named=True), expected.iter_rows(named=True), strict=True), 1
    ):
        for column in got.columns:
            assert g[column] == e[column], f"roster row {row} ({e['member_id']}), {column}"


def test_findings_match_the_expected_set(sample_run):
    out, _ = sample_run
    keys = ["check", "member_id", "source", "row", "field"]
    got = sorted(_csv(out / "findings.csv").select(keys).iter_rows())
    expected = sorted(_csv(FIXTURES / "expected_findings.csv").select(keys).iter_rows())
    assert got == expected


def test_sample_covers_every_check_and_decision_value(sample_run):
    out, _ = sample_run
    checks = set(_csv(out / "findings.csv")["check"])
    assert checks == {c.code for c in catalog()} - {"input.missing_column"}
    members = _csv(out / "members.csv")

    def values(column: str) -> set[str]:
        return {v for cell in members[column] for v in cell.split(";") if v}

    assert values("notice") == {"wave1", "wave2", "on_enrolment", "none"}
    assert values("certificate") == {"yes", "no"}
    assert values("delivery") == {"household", "designated_address", "undeliverable", "none"}
    assert values("my_number_status") == {
        "linked",
        "missing",
        "invalid",
        "conflict",
        "duplicate",
        "mismatch",
    }
    assert values("active") == values("must_confirm") == {"true", "false"}
    assert values("confirm_by") == {"member", "hr", "society"}
    assert values("confirm_reasons") == SAMPLE_CONFIRM_REASONS
    # not_registered needs the policy switch: tests/test_rules.py covers it.
    assert values("certificate_reasons") == SAMPLE_CERTIFICATE_REASONS


def test_summary_proves_conservation(sample_run):
    out, _ = sample_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    c = summary["conservation"]
    assert c["holds"] is True
    assert (c["roster_rows"], c["member_rows"], c["filing_rows"]) == (50, 50, 46)
    assert c["filings_matched"] + c["filings_orphaned"] == 46
    assert c["filings_orphaned"] == summary["findings"]["by_check"]["filing.orphan"]["count"] == 3
    assert summary["verdict"] == "blocked"
    assert sum(summary["members"]["notice"].values()) == 50


def _filed_numbers() -> set[str]:
    raw = pl.read_csv(ROOT / "sample_data" / "filings.csv", infer_schema=False)[
        "my_number"
    ].drop_nulls()
    numbers = {re.sub(r"\D", "", unicodedata.normalize("NFKC", n)) for n in raw}
    return {n for n in numbers if len(n) >= 11 and set(n) != {"0"}}


def _forms(number: str) -> list[str]:
    grouped = [number[:4], number[4:8], number[8:]]
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [number, "-".join(grouped), " ".join(grouped), full_width]


def test_no_full_my_number_in_any_output_or_message(sample_run):
    out, done = sample_run
    numbers = _filed_numbers()
    assert len(numbers) > 30  # the scan really has numbers to look for
    texts = {
        str(p.relative_to(out)): p.read_bytes().decode("utf-8", errors="replace")
        for p in out.rglob("*")
        if p.is_file()
    }
    texts["stdout"], texts["stderr"] = done.stdout, done.stderr
    assert set(texts) >= {"members.csv", "findings.csv", "summary.json", "report.html"}
    for name, text in texts.items():
        for number in numbers:
            for form in _forms(number):
                assert form not in text, f"{name} contains a full My Number"
    assert "********" in texts["findings.csv"]  # masked numbers are shown


def test_report_is_offline_and_lists_who_must_confirm(sample_run):
    out, _ = sample_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "発送不可" in page and "確認が必要な加入者" in page
    assert "1201-1006-00" in page  # a member who must confirm is listed
