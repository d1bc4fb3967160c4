"""Step 5, decide: who gets which document, where it goes, who must confirm (SPEC §6)."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import polars as pl

from recon import stages


def decide(
    con: duckdb.DuckDBPyConnection, on_stage: Callable[[str, float], None] | None = None
) -> pl.DataFrame:
    """One decision row per roster row, in input order (with `row`)."""
    stages.run(con, ("decision",), on_stage)
    # duckdb types .pl() as Any (polars is an optional dependency of duckdb).
    decisions: pl.DataFrame = con.sql("SELECT * FROM decision ORDER BY row").pl()
    return decisions
