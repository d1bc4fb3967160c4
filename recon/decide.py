"""Step 5, decide: who gets which document, where it goes, who must confirm (SPEC §6)."""

from __future__ import annotations

import time
from collections.abc import Callable

import duckdb
import polars as pl

from recon import stages


def decide(
    con: duckdb.DuckDBPyConnection, on_stage: Callable[[str, float], None] | None = None
) -> pl.DataFrame:
    """One decision row per roster row, in input order (with `row`)."""
    started = time.perf_counter()
    stages.run(con, ("decision",))
    # `decision` is a view: it is worked out here, as it is read, and timed so.
    # duckdb types .pl() as Any (polars is an optional dependency of duckdb).
    decisions: pl.DataFrame = con.sql("SELECT * FROM decision ORDER BY row").pl()
    if on_stage:
        on_stage("decision", time.perf_counter() - started)
    return decisions
