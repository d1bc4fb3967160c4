"""`recon check`: validate the inputs only."""

from __future__ import annotations

from recon.commands.common import (
    FilingsOpt,
    PolicyOpt,
    RosterOpt,
    analyse,
    exit_codes,
    print_counts,
)


def check(roster: RosterOpt = None, filings: FilingsOpt = None, policy: PolicyOpt = None) -> None:
    """Validate the inputs only: print the findings per check, write nothing."""
    with exit_codes():
        result = analyse(roster, filings, None, policy, with_decisions=False)
        print_counts(result)
