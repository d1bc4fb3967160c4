"""The SQL stages: each table is freed once no later stage reads it."""

from __future__ import annotations

import datetime as dt

import pytest

from recon import decide, match, normalize, read, stages, validate
from recon.policy import load_policy
from recon.resources import shipped


def test_mentions_ignore_comments_and_string_literals():
    sql = "-- roster is read here\n/* it's roster */ SELECT 'roster' AS source, x FROM filings AS f"
    words = stages._mentions(sql)
    assert "filings" in words
    assert "roster" not in words


def _held(con) -> set[str]:
    """The tables the stages made and the inputs still registered (views over Arrow)."""
    tables = con.sql("SELECT table_name FROM duckdb_tables()").fetchall()
    views = con.sql(stages.INPUT_VIEWS).fetchall()
    return {r[0] for r in tables + views}


def _tables(con) -> set[str]:
    return {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}


@pytest.mark.parametrize("copy", [False, True], ids=["views", "copied (--memory-limit)"])
def test_every_table_is_dropped_after_its_last_reader_unless_kept(copy):
    frames = {}
    for source in ("roster", "filings"):
        raw, _ = read.read_table(shipped("sample_data") / f"{source}.csv", source)
        frames[source] = validate.validate(normalize.normalize(raw, source), source)
    with stages.session() as con:
        invalid = frames["roster"][1].vstack(frames["filings"][1])
        inputs = {
            "roster": frames["roster"][0],
            "filings": frames["filings"][0],
            "validation_finding": invalid,
        }
        match.load(con, inputs, load_policy(), dt.date(2025, 6, 30), copy=copy)
        assert inputs == {}  # each frame handed over
        given = {"roster", "filings", "validation_finding", "catalog", "params"}
        assert given <= _held(con)
        # Copied, the inputs are DuckDB tables (under its memory limit); else views over Arrow.
        assert (given <= _tables(con)) is copy
        match.match(con)
        tables = _held(con)
        # Read by no later stage: gone (inputs released).
        # Read by decision, or fetched by match(): kept.
        dropped = {"roster", "filings", "candidate_pair", "household", "number_owner"}
        # match_compare's verdicts reach the decisions as findings only.
        assert not (dropped | {"match_compare", "validation_finding"}) & tables
        assert {"filing_match", "finding", "member", "params"} <= tables
        members = decide.decide(con)
        tables = _held(con)
        assert "decision" in tables and not {"member", "params", "finding"} & tables
    assert members.height == frames["roster"][0].height
