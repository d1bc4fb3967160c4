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
)


def check(
    roster: RosterOpt = None,
    filings: FilingsOpt = None,
    policy: PolicyOpt = None,
    memory_limit: MemoryOpt = None,
    spill_dir: SpillOpt = None,
) -> None:
    """Validate the inputs only: print the findings per check, write nothing."""
    with exit_codes():
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
