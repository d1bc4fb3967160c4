"""Every broken input gets a clear answer: exit 2 with a message naming the file,
or a finding — never a traceback, never a silently dropped row."""

import string

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from recon import cli, pipeline
from recon.errors import InputError
from recon.policy import load_policy
from tests.bad_inputs import CASES, Case
from tests.conftest import AS_OF, FILINGS, filing, member, run_args, write_csv


def _run(roster, filings, out):
    return CliRunner().invoke(cli.app, run_args(roster, filings, out))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(tmp_path, case: Case):
    roster, filings = case.write(tmp_path)
    done = _run(roster, filings, tmp_path / "out")
    assert isinstance(done.exception, SystemExit | None), done.exception  # never a traceback
    assert done.exit_code == case.exit_code, done.output
    if case.exit_code == 2:
        for text in case.says:
            assert text.format(roster=roster) in done.output
        assert not (tmp_path / "out").exists()
        return
    findings = pl.read_csv(tmp_path / "out" / "findings.csv", infer_schema=False)
    members = pl.read_csv(tmp_path / "out" / "members.csv", infer_schema=False)
    rows_in = (
        # Counted with every CR alone read as a line break, as spreadsheets and editors read it.
        len(pl.read_csv(_universal_newlines(roster.read_bytes()), infer_schema=False))
        if roster.suffix == ".csv"
        else members.height
    )
    assert members.height == rows_in  # nothing dropped
    assert (findings["detail"].str.len_chars().max() or 0) <= 301  # details are capped
    if case.finding:
        check, row, field = case.finding
        hits = findings.filter((pl.col("check") == check) & (pl.col("field") == field))
        assert hits.height >= 1, findings
        if row:
            assert str(row) in hits["row"].to_list()


def _universal_newlines(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def test_corpus_covers_every_kind_of_damage_the_issue_lists():
    assert len(CASES) >= 23


_VALID_FILINGS_ROW = [filing(member())]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400))
def test_random_bytes_give_a_result_or_an_input_error(tmp_path, data):
    _only_two_outcomes(tmp_path, data)


_CSV_ALPHABET = string.ascii_letters + string.digits + ',"\r\n ;-/.　山田ｶﾅあ髙'


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=_CSV_ALPHABET, max_size=300), st.booleans())
def test_random_csv_text_gives_a_result_or_an_input_error(tmp_path, text, with_header):
    from tests.bad_inputs import _header

    body = (_header() + "\n" if with_header else "") + text
    _only_two_outcomes(tmp_path, body.encode("utf-8"))


def _only_two_outcomes(tmp_path, data: bytes) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(data)
    filings = write_csv(tmp_path / "filings.csv", _VALID_FILINGS_ROW, FILINGS)
    try:
        result = pipeline.analyse(roster, filings, load_policy(), AS_OF)
    except InputError as exc:
        assert str(roster) in str(exc)
        return
    assert result.members.height == result.roster.rows  # a result accounts for every row


@pytest.fixture(autouse=True)
def _japanese_texts(monkeypatch):
    # tests/bad_inputs.py holds the Japanese an operator reads by default; whatever
    # the environment that runs the tests says.
    monkeypatch.setenv("RECON_LANG", "ja")
