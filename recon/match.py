"""Step 4, match: filings to roster members in DuckDB, and every finding (SPEC §3.2, §5).

`recon check` stops before matching: `input_findings` gives what each file
shows on its own.

The normalized, validated frames are handed to DuckDB as Arrow (no pandas);
the SQL stages under `sql/` do the joins and comparisons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import polars as pl

from recon import details, stages
from recon.errors import InvariantError
from recon.findings import catalog_frame, conform
from recon.policy import Policy

# What `match` hands on: every filing row with its member, and every finding.
MATCHED = ("filing_match", "finding")
# What `recon check` asks of the SQL: the findings each input shows on its own.
INPUT_FINDINGS = "input_finding"
# How findings are listed: the filings' after the roster's, each file's in row order.
_FINDING_ORDER = 'ORDER BY source DESC, row, check_order, field, "check"'


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
    read. With `copy` (a run under --memory-limit), or when the inputs would
    take more than half the default limit, each is copied into a DuckDB table
    instead, where the limit covers it and DuckDB can spill it.
    `tables` (roster, filings, validation_finding) is emptied either way: once
    the caller lets go of its frames, the view holds the only reference, or
    the frame is freed once copied; `stages.run` releases each input after its
    last reader.
    """
    if not copy:
        # Views sit outside DuckDB's limit. Under the default limit (no
        # --memory-limit) large inputs are copied too, so that the limit bounds
        # the run's peak: at 5M members the views alone hold ~3 GB beside it.
        budget = stages.default_memory_bytes()
        held = sum(frame.estimated_size() for frame in tables.values())
        copy = budget is not None and held > budget // 2
    params = pl.DataFrame([{**policy.__dict__, "as_of": as_of}])
    tables |= {"catalog": catalog_frame(), "params": params}
    if set(tables) != set(stages.INPUTS):
        raise InvariantError(f"the SQL stages read {stages.INPUTS}, not {sorted(tables)}")
    if copy:
        # One thread for the copies: each thread of a parallel insert holds row
        # groups of its own, at the moment the run's memory peaks (≈ −200 MB at 5M).
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        con.execute("SET threads = 1")
    for name in list(tables):
        arrow = tables.pop(name).to_arrow(compat_level=pl.CompatLevel.newest())
        if copy:
            con.register(f"{name}_arrow", arrow)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
            con.unregister(f"{name}_arrow")
        else:
            con.register(name, arrow)
        del arrow  # the frame's buffers go with it, before the next copy
    if copy:
        con.execute(f"SET threads = {int(threads)}")


def match(
    con: duckdb.DuckDBPyConnection, on_stage: Callable[[str, float], None] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(filing_match, finding): every filing row with its member, every finding."""
    stages.run(con, MATCHED, on_stage)
    filing_match = con.sql("SELECT * FROM filing_match ORDER BY filing_row").pl()
    return filing_match, _findings(con, "finding")


def input_findings(
    con: duckdb.DuckDBPyConnection, on_stage: Callable[[str, float], None] | None = None
) -> pl.DataFrame:
    """The findings of each input on its own (`recon check`): nothing is matched.

    A filing row's finding has no `member_id` here: whose row it is, only
    matching can say.
    """
    stages.run(con, (INPUT_FINDINGS,), on_stage)
    return _findings(con, INPUT_FINDINGS)


def _findings(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    """The findings of the stage that makes `table`, listed, worded and held to the contract."""
    # check_order only sorts: a finding carries no column of the catalog's.
    finding = con.sql(f"SELECT * EXCLUDE (check_order) FROM {table} {_FINDING_ORDER}").pl()
    (stage,) = (s for s in stages.stages() if s.name == table)
    return conform(details.render(finding), f"sql/{stage.path.name}")
