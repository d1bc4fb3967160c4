"""`recon check`: validate the inputs only."""

from __future__ import annotations

from recon.commands.common import (
    FilingsOpt,
    MemoryOpt,
    PolicyOpt,
    RosterOpt,
    SpillOpt,
    analyse,
    exit_codes,
    print_counts,
    sample,
)


def check(
    roster: RosterOpt = None,
    filings: FilingsOpt = None,
    policy: PolicyOpt = None,
    memory_limit: MemoryOpt = None,
    spill_dir: SpillOpt = None,
) -> None:
    """Validate the inputs only: print the findings per check, write nothing."""
    inputs = (roster or sample("roster.csv"), filings or sample("filings.csv"))
    with exit_codes(memory_limit=memory_limit, spill_dir=spill_dir, inputs=inputs):
        result = analyse(
            roster,
            filings,
            None,
            policy,
            with_decisions=False,
            memory_limit=memory_limit,
            spill_dir=spill_dir,
        )
        print_counts(result)
