"""Step 4, match: filings to roster members in DuckDB, and every finding (SPEC §3.2, §5).

The normalized, validated frames are handed to DuckDB as Arrow (no pandas);
the SQL stages under `sql/` do the joins and comparisons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import polars as pl

from recon import stages
from recon.findings import catalog_frame
from recon.policy import Policy

MATCH_STAGES = (
    "household",
    "candidate_pair",
    "filing_match",
    "number_owner",
    "member_filing",
    "member",
    "match_compare",
    "finding",
)


def load(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, pl.DataFrame],
    policy: Policy,
    as_of: dt.date,
) -> None:
    """Copy the inputs into DuckDB, with the catalog and one `params` row (policy, run date).

    `tables` (roster, filings, validation_finding) is emptied as it goes: each
    frame is dropped once DuckDB has its copy, unless the caller kept its own
    reference, so that at 5M members the polars and DuckDB copies of both
    files are never in memory at once.
    """
    params = pl.DataFrame([{**policy.__dict__, "as_of": as_of}])
    tables |= {"catalog": catalog_frame(), "params": params}
    for name in list(tables):
        # A real table, not a view over the Python object: stages read it many times.
        con.register(f"{name}_arrow", tables.pop(name).to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
        con.unregister(f"{name}_arrow")


def match(
    con: duckdb.DuckDBPyConnection, on_stage: Callable[[str, float], None] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(filing_match, finding): every filing row with its member, every finding."""
    stages.run(con, MATCH_STAGES, on_stage, keep=("filing_match", "finding"))
    filing_match = con.sql("SELECT * FROM filing_match ORDER BY filing_row").pl()
    finding = con.sql(
        'SELECT * FROM finding ORDER BY source DESC, row, check_order, field, "check"'
    ).pl()
    return filing_match, finding
