"""Conservation (issue 6): every input row in exactly one place, or exit 3."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from recon import pipeline
from recon.errors import InvariantError
from recon.policy import load_policy
from recon.resources import shipped
from tests.conftest import AS_OF


@pytest.fixture(scope="module")
def sample_result() -> pipeline.Result:
    data = shipped("sample_data")
    return pipeline.analyse(data / "roster.csv", data / "filings.csv", load_policy(), AS_OF)


def test_the_sample_holds_and_the_counts_are_on_the_result(sample_result):
    c = sample_result.conservation
    assert sample_result.validated == {
        "roster": (c["roster_rows"], c["roster_rows"]),
        "filings": (c["filing_rows"], c["filing_rows"]),
    }
    assert c["holds"] is True
    assert c["member_rows"] == c["roster_rows"] == sample_result.members.height
    assert c["filings_matched"] + c["filings_orphaned"] == c["filing_rows"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: {"members": r.members.head(-1)}, id="a roster row lost"),
        pytest.param(
            lambda r: {"members": pl.concat([r.members, r.members.head(1)])}, id="a member twice"
        ),
        pytest.param(lambda r: {"filing_match": r.filing_match.tail(-1)}, id="a filing lost"),
        pytest.param(
            lambda r: {"found": r.found.filter(pl.col("check") != "filing.orphan")},
            id="an orphan without its finding",
        ),
        pytest.param(
            lambda r: {"validated": {**r.validated, "roster": (r.roster.rows - 1,) * 2}},
            id="a roster row lost in validation",
        ),
        pytest.param(
            lambda r: {
                "validated": {**r.validated, "filings": (r.filings.rows, r.filings.rows - 1)}
            },
            id="a filing row validated twice",
        ),
    ],
)
def test_any_lost_or_doubled_row_is_an_internal_error(sample_result, tamper):
    broken = dataclasses.replace(sample_result, **tamper(sample_result))
    with pytest.raises(InvariantError, match="conservation failed"):
        pipeline.check_conservation(broken)
