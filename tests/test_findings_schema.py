"""One finding contract (recon/findings.py), held at every producer and on the run's frame."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from recon import cli, findings, gx_checks, match, normalize, pipeline, read, stages, validate
from recon.errors import InvariantError
from recon.findings import FINDING_SCHEMA, ROSTER_ROW, SEVERITIES, conform, schema
from recon.policy import load_policy
from recon.resources import shipped
from tests.conftest import AS_OF, FILINGS, ROSTER, filing, member, write_csv


def _is_a_finding(frame: pl.DataFrame) -> None:
    """Checked by Pandera itself, not through `conform`, which the producers call."""
    schema().validate(frame, lazy=True)
    assert frame.columns[:7] == list(FINDING_SCHEMA)


def _good() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "check": ["my_number.check_digit", "filing.missing"],
            "severity": ["error", "warning"],
            "member_id": ["5120-12345678-00", "1000-181800-01"],
            "source": ["filings", "roster"],
            "row": [14, 2],
            "field": ["my_number", "my_number"],
            "detail": ["check digit of ********9018 is wrong", "no filing"],
            ROSTER_ROW: [1, 2],
        },
        schema={**FINDING_SCHEMA, ROSTER_ROW: pl.Int64},
    )


# --- each producer's output is a finding ----------------------------------------------------


def test_validation_findings_are_findings_with_the_catalogs_severity(tmp_path):
    rows = [member(), member(employee="E2", sex="9", birth_date="2024-02-30")]
    raw, _ = read.read_table(write_csv(tmp_path / "r.csv", rows, ROSTER), "roster")
    _, found = validate.validate(normalize.normalize(raw, "roster"), "roster")
    _is_a_finding(found)
    assert found.height == 2 and set(found["severity"]) == {"error"}
    # Clean input gives no findings, in the same shape.
    _, none = validate.validate(normalize.normalize(raw.head(1), "roster"), "roster")
    assert none.is_empty() and none.schema == found.schema


def test_sql_findings_are_findings_without_the_catalog_order(tmp_path):
    insured = member()
    people = [insured, member(employee="E2", relation="spouse")]  # E2: a household with no self
    frames = {}
    for source, rows, columns in (
        ("roster", people, ROSTER),
        ("filings", [filing(insured, birth_date="1980-04-02")], FILINGS),
    ):
        raw, _ = read.read_table(write_csv(tmp_path / f"{source}.csv", rows, columns), source)
        frames[source] = validate.validate(normalize.normalize(raw, source), source)
    with stages.session() as con:
        inputs = {
            "roster": frames["roster"][0],
            "filings": frames["filings"][0],
            "validation_finding": pl.concat([frames["roster"][1], frames["filings"][1]]),
        }
        match.load(con, inputs, load_policy(), AS_OF)
        _, found = match.match(con)
    _is_a_finding(found)
    assert "check_order" not in found.columns
    assert {"match.birth_date", "roster.no_insured", "filing.missing"} <= set(found["check"])
    assert found.filter(pl.col("check") == "match.birth_date")[ROSTER_ROW].to_list() == [1]


def test_every_gx_check_failing_gives_findings():
    # Every expectation of checks/gx/, failed: each finding has its suite's severity.
    outcomes = tuple(
        gx_checks.Outcome(c, False, 3, "3 of 10 rows") for s in gx_checks.suites() for c in s.checks
    )
    sources = {s.name: s.source for s in gx_checks.suites()}
    found = gx_checks.Quality(outcomes, sources, None).findings
    _is_a_finding(found)
    assert found.height == len(gx_checks.gx_catalog()) > 0
    assert found["check"].str.starts_with("gx.").all()


def test_the_runs_findings_are_findings(tmp_path):
    sample = shipped("sample_data")
    result = pipeline.analyse(
        sample / "roster.csv", sample / "filings.csv", load_policy(), dt.date(2025, 6, 30)
    )
    _is_a_finding(result.findings)
    assert result.findings.columns == [*FINDING_SCHEMA, ROSTER_ROW]
    assert result.findings.height > 0


# --- a frame of another shape is a bug, said clearly ----------------------------------------


def test_a_good_frame_passes_unchanged():
    good = _good()
    assert conform(good, "test").equals(good)
    # roster_row is the one optional column (GX and validation cannot know it).
    assert conform(good.drop(ROSTER_ROW), "test").height == 2


@pytest.mark.parametrize(
    ("broken", "said"),
    [
        (
            lambda f: f.with_columns(pl.lit("match.shoe_size").alias("check")),
            "column 'check' must be a check code of the catalog, not 'match.shoe_size'",
        ),
        (
            lambda f: f.with_columns(severity=pl.lit("error")),
            "severity is the catalog's, not for filing.missing as error (the catalog says warning)",
        ),
        (
            lambda f: f.with_columns(severity=pl.lit("fatal")),
            f"column 'severity' must be {'/'.join(SEVERITIES)}, not 'fatal'",
        ),
        (lambda f: f.with_columns(source=pl.lit("hr")), "must be roster or filings, not 'hr'"),
        (lambda f: f.with_columns(pl.col("row").cast(pl.Int32)), "'row' is Int32, not 'Int64'"),
        (lambda f: f.drop("severity"), "column 'severity' missing"),
        (lambda f: f.with_columns(check_order=0), "'check_order' is no column of a finding"),
        (lambda f: f.with_columns(row=pl.lit(0, pl.Int64)), "1-based data row (2 rows are not)"),
        (lambda f: f.with_columns(detail=pl.lit(None, pl.String)), "'detail' is empty in 2 rows"),
    ],
    ids=[
        "unknown check",
        "severity not the catalog's",
        "unknown severity",
        "unknown source",
        "wrong dtype",
        "missing column",
        "extra column",
        "row 0",
        "no detail",
    ],
)
def test_a_wrong_frame_fails_saying_why(broken, said):
    with pytest.raises(InvariantError) as raised:
        conform(broken(_good()), "the test producer")
    message = str(raised.value)
    assert message.startswith("the test producer made findings that are not of the finding's")
    assert said in message


def test_the_message_never_quotes_a_detail():
    # A detail may hold what the operator's files hold: the message names checks, not values.
    wrong = _good().with_columns(
        severity=pl.lit("info"), detail=pl.lit("filed 123456789018"), row=pl.lit(0, pl.Int64)
    )
    with pytest.raises(InvariantError) as raised:
        conform(wrong, "test")
    assert "123456789018" not in str(raised.value)
    assert "my_number.check_digit as info (the catalog says error)" in str(raised.value)


def test_a_producer_giving_a_wrong_finding_exits_3(tmp_path, monkeypatch):
    # Validation gives its finding a severity the catalog does not: exit 3, no traceback.
    insured = member(sex="9")
    roster = write_csv(tmp_path / "roster.csv", [insured], ROSTER)
    filings = write_csv(tmp_path / "filings.csv", [filing(insured)], FILINGS)
    real = findings.with_severity
    monkeypatch.setattr(
        validate, "with_severity", lambda f: real(f).with_columns(severity=pl.lit("warning"))
    )
    args = ["check", "--roster", str(roster), "--filings", str(filings)]
    done = CliRunner().invoke(cli.app, args)
    assert done.exit_code == 3, done.output
    assert "input.invalid_value as warning" in done.output and "Traceback" not in done.output
