"""The written files are read back and proven; a writer that loses or changes a row fails (exit 3).

Each test breaks one writer the way a future change could, runs `recon run`
over a previous report, and expects exit 3 naming the first differing id
(as it is: `1000-181800-00` passes the My Number check digit and is still an
id) and the previous report left as it was.
"""

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from recon import cli, proof
from recon.output import model, tables
from tests.conftest import FILINGS, ROSTER, filing, member, run_args, write_csv

PASSING_ID = "1000-181800-00"


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, Path]:
    unfiled = member(employee="E1", symbol="1000", number="181800", branch="00")  # filing.missing
    filed = member(employee="E2", symbol="5120", number="12345678", branch="00")
    spouse = member(employee="E2", symbol="5120", number="12345678", branch="01", relation="spouse")
    roster = write_csv(tmp_path / "roster.csv", [filed, unfiled, spouse], ROSTER)
    filings = write_csv(tmp_path / "filings.csv", [filing(filed), filing(spouse)], FILINGS)
    return roster, filings


def _run(inputs, out: Path):
    return CliRunner().invoke(cli.app, run_args(*inputs, out))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def previous(tmp_path, inputs) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    done = _run(inputs, out)
    assert done.exit_code == 0, done.output
    return out, _files(out)


def _fails(inputs, previous, *said: str) -> None:
    out, before = previous
    done = _run(inputs, out)
    assert done.exit_code == 3, done.output
    text = " ".join(done.output.split())
    for part in said:
        assert part in text, text
    assert "Traceback" not in done.output
    assert _files(out) == before  # the previous report, untouched
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".out")] == []


def test_a_clean_run_proves_itself(tmp_path, inputs, monkeypatch):
    calls = []
    original = proof.prove
    monkeypatch.setattr(proof, "prove", lambda *a: calls.append(a) or original(*a))
    assert _run(inputs, tmp_path / "clean").exit_code == 0
    assert len(calls) == 1


def test_a_dropped_member_row_is_named(inputs, previous, monkeypatch):
    original = tables.members_frame
    monkeypatch.setattr(tables, "members_frame", lambda r: original(r).head(2))
    # members in input order: 5120-12345678-00, 1000-181800-00, 5120-12345678-01
    _fails(inputs, previous, "members.csv", "5120-12345678-01")


def test_a_doubled_member_row_is_named(inputs, previous, monkeypatch):
    original = tables.members_frame

    def doubled(result):
        frame = original(result)
        return pl.concat([frame.head(1), frame.slice(1, 1), frame.slice(1)])

    monkeypatch.setattr(tables, "members_frame", doubled)
    _fails(inputs, previous, "members.csv row 3", PASSING_ID, "5120-12345678-01")


def test_an_altered_member_id_is_named(inputs, previous, monkeypatch):
    original = tables.members_frame
    monkeypatch.setattr(
        tables,
        "members_frame",
        lambda r: original(r).with_columns(pl.col("member_id").str.replace("-00$", "-0")),
    )
    _fails(
        inputs, previous, "members.csv row 1", "member_id 5120-12345678-0;", "is 5120-12345678-00"
    )


def test_a_finding_naming_no_roster_member_is_named(inputs, previous, monkeypatch):
    original = tables.findings_frame
    monkeypatch.setattr(
        tables,
        "findings_frame",
        lambda r: original(r).with_columns(pl.col("member_id").str.replace("^1000", "1001")),
    )
    _fails(inputs, previous, "findings.csv", "1001-181800-00")


def test_an_envelope_to_no_household_is_named(inputs, previous, monkeypatch):
    original = tables.mailing
    monkeypatch.setattr(
        tables,
        "mailing",
        lambda m, lang: original(m, lang).with_columns(pl.col("household_id") + "9"),
    )
    _fails(inputs, previous, "mailing.csv", "household")


@pytest.mark.parametrize(
    "tamper, said",
    [
        (lambda s: s["members"].update(total=s["members"]["total"] + 1), "members.total"),
        (lambda s: s["findings"].update(total=s["findings"]["total"] - 1), "findings.total"),
        (
            lambda s: s["findings"]["by_check"]["filing.missing"].update(count=0),
            "findings check filing.missing",
        ),
        (
            lambda s: s["findings"]["by_severity"].update(warning=7),
            "findings severity warning",
        ),
    ],
    ids=["members", "findings", "per check", "per severity"],
)
def test_a_summary_count_that_is_not_the_files_rows(inputs, previous, monkeypatch, tamper, said):
    original = model.Summary.as_json

    def wrong(summary):
        counted = original(summary)
        tamper(counted)
        return counted

    monkeypatch.setattr(model.Summary, "as_json", wrong)
    _fails(inputs, previous, "summary.json", said)
