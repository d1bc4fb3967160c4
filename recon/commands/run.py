"""`recon run`: reconcile, decide per member and write the reports."""

from __future__ import annotations

from recon import outdir, pipeline, texts
from recon.commands.common import (
    RunOptions,
    analyse,
    exit_codes,
    exit_context,
    print_counts,
    print_report_path,
    with_run_options,
)
from recon.runs import require_working_folder, sample


def run_and_write(options: RunOptions) -> pipeline.Result:
    require_working_folder()
    # Every file the run reads: --out may neither be one nor hold one.
    inputs = {
        "--roster": options.roster or sample("roster.csv"),
        "--filings": options.filings or sample("filings.csv"),
        "--policy": options.policy,
    }
    outdir.report_folder(options.out_dir, inputs)  # refused before the long run, not after
    result = analyse(
        options.roster,
        options.filings,
        options.as_of,
        options.policy,
        scope="decisions",
        memory_limit=options.memory_limit,
        spill_dir=options.spill_dir,
    )
    written = pipeline.write(result, options.out_dir, texts.current(), inputs=inputs)
    print_counts(result)
    print_report_path(written)
    return result


@with_run_options
def run(options: RunOptions) -> None:
    with exit_codes(**exit_context(options)):
        run_and_write(options)
