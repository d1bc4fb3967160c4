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
    *,
    copy: bool = False,
) -> None:
    """Hand the inputs to DuckDB, with the catalog and one `params` row (policy, run date).

    By default each becomes a view over its frame's own Arrow buffers (string
    views kept, so nothing is converted or copied): copying a million members
    into DuckDB tables cost more than the stages' scans of the columns they
    read. With `copy` (a run under --memory-limit), each is copied into a
    DuckDB table instead, where the limit covers it and DuckDB can spill it.
    `tables` (roster, filings, validation_finding) is emptied either way: once
    the caller lets go of its frames, the view holds the only reference, or
    the frame is freed once copied; `stages.run` releases each input after its
    last reader.
    """
    params = pl.DataFrame([{**policy.__dict__, "as_of": as_of}])
    tables |= {"catalog": catalog_frame(), "params": params}
    for name in list(tables):
        arrow = tables.pop(name).to_arrow(compat_level=pl.CompatLevel.newest())
        if copy:
            con.register(f"{name}_arrow", arrow)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
            con.unregister(f"{name}_arrow")
        else:
            con.register(name, arrow)


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
