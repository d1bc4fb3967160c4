"""`recon gate`: the CI gate on a roster update (SPEC §7; the logic is `recon/gate/`).

Exit 0: nothing the update introduces blocks it; 1: blocked; 2: the input,
the baseline, the key or the waivers cannot be used, so the gate cannot
decide (and a gate that cannot decide never passes); 3: a bug.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from recon import texts
from recon.commands.common import (
    RunOptions,
    err,
    exit_codes,
    exit_context,
    option,
    out,
    print_counts,
    print_report_path,
    with_run_options,
)
from recon.gate import ci, flow
from recon.masking import error_text, scrub
from recon.runs import require_working_folder


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


@with_run_options
def gate(
    options: RunOptions,
    *,
    baseline: Annotated[
        Path | None,
        option("--baseline", key="option.baseline"),
    ] = None,
    baseline_ref: Annotated[
        str | None,
        option("--baseline-ref", key="option.baseline_ref"),
    ] = None,
    fail_on: Annotated[FailOn, option("--fail-on", key="option.fail_on")] = FailOn.error,
    strict: Annotated[
        bool,
        option("--strict", key="option.strict"),
    ] = False,
    waivers: Annotated[
        Path | None,
        option("--waivers", key="option.waivers"),
    ] = None,
    junit: Annotated[
        Path | None,
        option("--junit", key="option.junit"),
    ] = None,
    summary: Annotated[
        Path | None,
        option("--summary", key="option.summary"),
    ] = None,
    key_file: Annotated[
        Path | None,
        option("--key-file", key="option.key_file"),
    ] = None,
) -> None:
    request = flow.Request(
        roster=options.roster,
        filings=options.filings,
        as_of=options.as_of,
        policy=options.policy,
        out=options.out_dir,
        lang=texts.current(),
        memory_limit=options.memory_limit,
        spill_dir=options.spill_dir,
        baseline=baseline,
        baseline_ref=baseline_ref,
        fail_on=fail_on.value,
        strict=strict,
        waivers=waivers,
        junit=junit,
        summary=summary,
        key_file=key_file,
    )
    with exit_codes(**exit_context(options)):
        try:
            require_working_folder()
            done = flow.run(request)
        except Exception as exc:
            _annotate(flow.undecided(request, error_text(exc), os.environ))
            raise
        print_counts(done.result)
        print_report_path(done.written)
        for note in done.notes:
            # A note quotes paths and waiver texts: one line each, controls made visible.
            err.print(
                ci.fold(scrub(texts.text("messages.gate.note", note=note))),
                markup=False,
                soft_wrap=True,
            )
        for line in ci.terminal_lines(done.outcome):
            out.print(line, markup=False, soft_wrap=True)
        _annotate(flow.publish(request, done.outcome, os.environ))
        if not done.outcome.passed:
            raise typer.Exit(1)


def _annotate(lines: list[str]) -> None:
    """GitHub reads workflow commands from stdout, one per line, unwrapped and uncoloured."""
    if lines:
        sys.stdout.flush()
        sys.stdout.write("".join(line + "\n" for line in lines))  # composed clean in ci
        sys.stdout.flush()
