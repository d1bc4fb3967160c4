"""`recon run`: reconcile, decide per member and write the reports."""

from __future__ import annotations

from pathlib import Path

from recon import pipeline
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
    analyse,
    exit_codes,
    out,
    print_counts,
)


def run_and_write(
    roster, filings, as_of, policy, out_dir, *, lang=Lang.ja, memory_limit=None, spill_dir=None
) -> pipeline.Result:
    result = analyse(
        roster,
        filings,
        as_of,
        policy,
        with_decisions=True,
        memory_limit=memory_limit,
        spill_dir=spill_dir,
    )
    written = pipeline.write(result, out_dir, lang.value)
    print_counts(result)
    out.print(f"report: {written / 'report.html'}")
    return result


def run(
    roster: RosterOpt = None,
    filings: FilingsOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    out_dir: OutOpt = Path("reports/latest"),
    lang: LangOpt = Lang.ja,
    memory_limit: MemoryOpt = None,
    spill_dir: SpillOpt = None,
) -> None:
    """Reconcile, decide per member and write the reports (exit 0 when it completes)."""
    with exit_codes():
        run_and_write(
            roster,
            filings,
            as_of,
            policy,
            out_dir,
            lang=lang,
            memory_limit=memory_limit,
            spill_dir=spill_dir,
        )
