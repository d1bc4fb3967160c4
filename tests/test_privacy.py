"""No My Number survives normalization: not in a frame, a DuckDB table, an output or a message."""

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from recon import pipeline, stages
from recon.policy import load_policy
from recon.synthetic import generate
from tests.conftest import AS_OF, FILINGS, ROSTER, filing, member, my_number, write_csv

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("memory_limit", [None, "1GB"], ids=["views", "copied into DuckDB"])
def test_no_duckdb_table_holds_a_my_number(tmp_path, monkeypatch, memory_limit):
    people = [member(employee=f"E{i}") for i in range(5)]
    numbers = [my_number(91234500000 + i) for i in range(5)]
    filings = [filing(p, number=n) for p, n in zip(people, numbers, strict=True)]
    filings.append(filing(people[0], number="1234 5678 9018"))  # a conflict, spaced
    seen: dict[str, pl.DataFrame] = {}
    original = stages.run

    def run_and_dump(con, names, on_stage=None, keep=()):
        # Every table and view (the inputs', and a stage's such as decision), after
        # every stage: each goes once no stage reads it.
        def dump(name, spent):
            tables = con.sql("SELECT table_name FROM duckdb_tables()").fetchall()
            views = con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
            for (table,) in tables + views:
                seen[f"{name}:{table}"] = con.sql(f'SELECT * FROM "{table}"').pl()
                seen[table] = seen[f"{name}:{table}"]
            if on_stage:
                on_stage(name, spent)

        return original(con, names, dump, keep)

    monkeypatch.setattr(stages, "run", run_and_dump)
    pipeline.analyse(
        write_csv(tmp_path / "r.csv", people, ROSTER),
        write_csv(tmp_path / "f.csv", filings, FILINGS),
        load_policy(),
        AS_OF,
        memory_limit=memory_limit,
    )
    assert {"filings", "filing_match", "finding", "decision"} <= set(seen)
    everything = "\n".join(
        str(v)
        for frame in seen.values()
        for column in frame.columns
        for v in frame[column].to_list()
    )
    for number in [*numbers, "123456789018"]:
        assert number not in everything
    assert "********9018" in everything  # the masked form is what remains


def _forms(number: str) -> list[str]:
    groups = [number[:4], number[4:8], number[8:]]
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [number, "-".join(groups), " ".join(groups), wide]


def test_every_byte_written_or_printed_by_a_generated_run(tmp_path):
    roster, filings = generate(3_000, seed=11)
    # Spell a third of the numbers the way people type them: spaced, hyphenated, full-width.
    spelled = (
        filings.with_row_index("i")
        .with_columns(
            pl.when(pl.col("i") % 3 == 1)
            .then(
                pl.concat_str(
                    [
                        pl.col("my_number").str.slice(0, 4),
                        pl.col("my_number").str.slice(4, 4),
                        pl.col("my_number").str.slice(8),
                    ],
                    separator=" ",
                )
            )
            .when(pl.col("i") % 3 == 2)
            .then(pl.col("my_number").str.replace_all("0", "０").str.replace_all("1", "１"))
            .otherwise(pl.col("my_number"))
            .alias("my_number")
        )
        .drop("i")
    )
    roster.write_csv(tmp_path / "roster.csv")
    spelled.write_csv(tmp_path / "filings.csv")
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recon",
            "run",
            "--roster",
            str(tmp_path / "roster.csv"),
            "--filings",
            str(tmp_path / "filings.csv"),
            "--as-of",
            "2025-06-30",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    numbers = {re.sub(r"\D", "", unicodedata.normalize("NFKC", n)) for n in spelled["my_number"]}
    written = [
        p.read_bytes().decode("utf-8", errors="replace") for p in out.rglob("*") if p.is_file()
    ]
    texts = [*written, done.stdout, done.stderr]
    assert len(written) >= 4 and len(numbers) > 2_500
    blob = "\n".join(texts)
    for number in numbers:
        for form in _forms(number):
            assert form not in blob
