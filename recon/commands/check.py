"""`recon check`: validate the inputs only."""

from __future__ import annotations

from recon.commands.common import (
    FilingsOpt,
    LangOpt,
    MemoryOpt,
    PolicyOpt,
    RosterOpt,
    SpillOpt,
    analyse,
    exit_codes,
    print_counts,
)
from recon.runs import require_working_folder, sample


def check(
    roster: RosterOpt = None,
    filings: FilingsOpt = None,
    policy: PolicyOpt = None,
    memory_limit: MemoryOpt = None,
    spill_dir: SpillOpt = None,
    lang: LangOpt = None,  # noqa: ARG001 - chosen as it is parsed (`check_lang`)
) -> None:
    inputs = (roster or sample("roster.csv"), filings or sample("filings.csv"))
    with exit_codes(memory_limit=memory_limit, spill_dir=spill_dir, inputs=inputs):
        require_working_folder()
        result = analyse(
            roster,
            filings,
            None,
            policy,
            scope="inputs",
            memory_limit=memory_limit,
            spill_dir=spill_dir,
        )
        print_counts(result)
