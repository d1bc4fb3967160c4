"""`recon run`: reconcile, decide per member and write the reports."""

from __future__ import annotations

from pathlib import Path

from recon import pipeline
from recon.commands.common import (
    AsOfOpt,
    FilingsOpt,
    MemoryOpt,
    OutOpt,
    PolicyOpt,
    RosterOpt,
    analyse,
    exit_codes,
    out,
    print_counts,
)


def run_and_write(roster, filings, as_of, policy, out_dir, memory_limit) -> pipeline.Result:
    result = analyse(roster, filings, as_of, policy, with_decisions=True, memory_limit=memory_limit)
    written = pipeline.write(result, out_dir)
    print_counts(result)
    out.print(f"report: {written / 'report.html'}")
    return result


def run(
    roster: RosterOpt = None,
    filings: FilingsOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    out_dir: OutOpt = Path("reports/latest"),
    memory_limit: MemoryOpt = None,
) -> None:
    """Reconcile, decide per member and write the reports (exit 0 when it completes)."""
    with exit_codes():
        run_and_write(roster, filings, as_of, policy, out_dir, memory_limit)
