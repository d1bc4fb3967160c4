"""`recon gate`: the CI gate on a roster update (exit 1 when blocking findings exist)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from recon.commands.common import (
    AsOfOpt,
    FilingsOpt,
    Lang,
    LangOpt,
    MemoryOpt,
    OutOpt,
    PolicyOpt,
    RosterOpt,
    SpillOpt,
    exit_codes,
    out,
)
from recon.commands.run import run_and_write


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


def gate(
    roster: RosterOpt = None,
    filings: FilingsOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    out_dir: OutOpt = Path("reports/latest"),
    lang: LangOpt = Lang.ja,
    memory_limit: MemoryOpt = None,
    spill_dir: SpillOpt = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest severity that fails the gate.")
    ] = FailOn.error,
) -> None:
    """Run, write the reports, and exit 1 when a finding at or above --fail-on exists."""
    with exit_codes():
        result = run_and_write(
            roster,
            filings,
            as_of,
            policy,
            out_dir,
            lang=lang,
            memory_limit=memory_limit,
            spill_dir=spill_dir,
        )
        failing = ("error",) if fail_on is FailOn.error else ("error", "warning")
        blocking = result.findings.filter(pl.col("severity").is_in(failing))
        if blocking.height:
            out.print(f"gate: FAIL — {blocking.height} finding(s) at or above {fail_on.value}")
            raise typer.Exit(1)
        out.print("gate: pass")
