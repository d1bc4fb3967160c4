"""The SQL stages: declared reads and makes, the order and drops they give, and each
table freed once no later stage reads it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import sqlglot
from sqlglot import exp

from recon import decide, match, normalize, read, stages, validate
from recon.errors import InvariantError
from recon.policy import load_policy
from recon.resources import shipped
from recon.synthetic import generate_sample, write_sample


def _parsed(sql: str) -> tuple[set[str], str]:
    """(tables read, table made) of one stage, by a real SQL parser (DuckDB dialect)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    assert isinstance(tree, exp.Create)
    made = tree.this.name
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table)} - ctes - {made}, made


@pytest.mark.parametrize("stage", stages.stages(), ids=lambda s: s.path.name)
def test_a_stage_declares_exactly_what_its_sql_reads_and_makes(stage):
    reads, made = _parsed(stage.sql)
    assert set(stage.reads) == reads
    assert made == stage.name


def test_the_match_and_decision_stages_come_from_the_declarations():
    match_tables = [s.name for s in stages.plan(match.MATCHED, stages.INPUTS)]
    assert match_tables == [
        "household",
        "candidate_pair",
        "filing_match",
        "number_owner",
        "member_filing",
        "member",
        "match_compare",
        "input_finding",
        "finding",
    ]
    # `recon check` matches nothing: each file's own findings need the households only.
    assert [s.name for s in stages.plan((match.INPUT_FINDINGS,), stages.INPUTS)] == [
        "household",
        "input_finding",
    ]
    # After match, what decision reads is there: it needs no earlier stage again.
    present = {"finding", "member", "member_filing", "params"}
    assert [s.name for s in stages.plan(("decision",), present)] == ["decision"]
    # The roster was released after its last reader: a stage needing it again is a bug.
    with pytest.raises(InvariantError, match="household is needed|roster is needed"):
        stages.plan(("member",), {"member_filing", "params", "validation_finding"})


def test_each_table_is_dropped_after_its_last_declared_reader():
    drops = stages.drop_points()
    assert drops["filing_match"] == ("candidate_pair",)
    assert set(drops["input_finding"]) == {"household", "validation_finding"}
    assert set(drops["finding"]) == {
        "roster", "filings", "input_finding", "filing_match", "number_owner",
        "match_compare", "catalog",
    }  # fmt: skip
    # decision is a view, worked out as decide() reads it: what it reads must still be there.
    assert stages.plan(("decision",), {"finding", "member", "member_filing", "params"})[0].view
    assert drops["decision"] == ()


def _stage_files(folder: Path, **files: str) -> list[Path]:
    paths = []
    for name, sql in files.items():
        path = folder / f"{name}.sql"
        path.write_text(sql, encoding="utf-8")
        paths.append(path)
    return paths


GOOD = "-- reads: roster\n-- makes: a\nCREATE OR REPLACE TABLE a AS SELECT row FROM roster;\n"


@pytest.mark.parametrize(
    ("second", "said"),
    [
        (
            "-- reads: c\n-- makes: b\nCREATE OR REPLACE TABLE b AS SELECT * FROM c;",
            "02_b.sql reads ['c'], which no earlier stage makes and which is no input",
        ),
        (
            "-- reads: a\n-- makes: b\nCREATE OR REPLACE TABLE b AS SELECT * FROM a JOIN filings"
            " USING (row);",
            "02_b.sql declares that it reads ['a'], but its SQL reads ['a', 'filings']",
        ),
        (
            "-- reads: a, filings\n-- makes: b\nCREATE OR REPLACE TABLE b AS SELECT * FROM a;",
            "declares that it reads ['a', 'filings'], but its SQL reads ['a']",
        ),
        (
            "-- reads: a\n-- makes: c\nCREATE OR REPLACE TABLE c AS SELECT * FROM a;",
            "02_b.sql must make exactly one table named b",
        ),
        (
            "-- b, from a\nCREATE OR REPLACE TABLE b AS SELECT * FROM a;",
            "its header must declare -- reads: and -- makes:",
        ),
    ],
    ids=["reads an unmade table", "reads undeclared", "declares unread", "wrong name", "none"],
)
def test_a_wrong_declaration_fails_loudly(tmp_path, second, said):
    paths = _stage_files(tmp_path, **{"01_a": GOOD, "02_b": second})
    with pytest.raises(InvariantError) as raised:
        stages.load(paths)
    assert said in str(raised.value)


def test_only_the_caller_reads_a_view(tmp_path):
    view = "-- reads: roster\n-- makes: a\nCREATE OR REPLACE VIEW a AS SELECT row FROM roster;\n"
    reader = "-- reads: a\n-- makes: b\nCREATE OR REPLACE TABLE b AS SELECT * FROM a;"
    (a,) = stages.load(_stage_files(tmp_path, **{"01_a": view}))
    assert a.view and a.name == "a"
    with pytest.raises(InvariantError, match=r"02_b.sql reads \['a'\], made as a view"):
        stages.load(_stage_files(tmp_path, **{"01_a": view, "02_b": reader}))


def test_a_read_of_a_later_stage_fails(tmp_path):
    later = "-- reads: b\n-- makes: a\nCREATE OR REPLACE TABLE a AS SELECT * FROM b;"
    made = "-- reads: roster\n-- makes: b\nCREATE OR REPLACE TABLE b AS SELECT * FROM roster;"
    paths = _stage_files(tmp_path, **{"01_a": later, "02_b": made})
    with pytest.raises(InvariantError, match="01_a.sql reads \\['b'\\], which no earlier"):
        stages.load(paths)
    assert [s.name for s in stages.load(paths[::-1])] == ["b", "a"]


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
        con.execute("SET threads = 3")  # not 1, whatever the machine has
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
        # The copies run on one thread (match.load); the stages get every thread back.
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(3,)]
        match.match(con)
        tables = _held(con)
        # Read by no later stage: gone (inputs released).
        # Read by decision, or fetched by match(): kept.
        dropped = {"roster", "filings", "candidate_pair", "household", "number_owner"}
        # match_compare's verdicts reach the decisions as findings only.
        assert not (dropped | {"match_compare", "validation_finding"}) & tables
        assert {"filing_match", "finding", "member", "params"} <= tables
        timed: dict[str, float] = {}
        members = decide.decide(con, timed.__setitem__)
        # decision is a view, read once by decide(): what it reads stays until the session ends.
        assert {"member", "params", "finding", "member_filing"} <= _held(con)
        assert "decision" in {
            r[0] for r in con.sql("SELECT view_name FROM duckdb_views()").fetchall()
        }
        assert set(timed) == {"decision"}  # timed as it is read, where the work is done
    assert members.height == frames["roster"][0].height
    assert members["row"].is_sorted()


def test_no_stage_depends_on_the_order_in_which_its_tables_hold_their_rows(tmp_path):
    """The session lets DuckDB write a table's rows in any order (`stages.session`):
    every stage, given each table it reads in another order, makes the same rows."""
    paths = write_sample(generate_sample(2_000, seed=41, defects=0.33), tmp_path)
    frames = {}
    for source in ("roster", "filings"):
        raw, _ = read.read_table(paths[source], source)
        frames[source] = validate.validate(normalize.normalize(raw, source), source)

    def made(shuffled: bool) -> dict[str, pl.DataFrame]:
        inputs = {
            "roster": frames["roster"][0],
            "filings": frames["filings"][0],
            "validation_finding": frames["roster"][1].vstack(frames["filings"][1]),
        }
        with stages.session() as con:
            # Kept here, so that each shuffle below is the order the next stage reads.
            con.execute("SET preserve_insertion_order = true; SELECT setseed(0.41)")
            match.load(con, inputs, load_policy(), dt.date(2025, 6, 30), copy=True)
            tables = {}
            for stage in stages.stages():
                for table in stage.reads if shuffled else ():
                    shuffle = f"CREATE OR REPLACE TABLE {table} AS FROM {table} ORDER BY random()"
                    con.execute(shuffle)
                con.execute(stage.sql)
                tables[stage.name] = con.sql(f"FROM {stage.name} ORDER BY ALL").pl()
            return tables

    as_written, shuffled = made(shuffled=False), made(shuffled=True)
    assert as_written["finding"].height > 100  # the defects give every stage rows to order
    for name, rows in as_written.items():
        assert shuffled[name].equals(rows), name
