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

from recon.commands.common import (
    RunOptions,
    err,
    exit_codes,
    exit_context,
    out,
    print_counts,
    with_run_options,
)
from recon.gate import ci, flow
from recon.masking import error_text, scrub


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


@with_run_options
def gate(
    options: RunOptions,
    *,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="Output folder of the last accepted gate run (holds baseline.json): only "
            "findings new since then fail the gate. Needs the key.",
        ),
    ] = None,
    baseline_ref: Annotated[
        str | None,
        typer.Option(
            "--baseline-ref",
            help="Git revision holding the last accepted inputs (e.g. origin/main, HEAD): the "
            "same files at that revision are the baseline. No key needed.",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest severity that fails the gate.")
    ] = FailOn.error,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Fail on every open finding, not only on new ones."),
    ] = False,
    waivers: Annotated[
        Path | None,
        typer.Option("--waivers", help="TOML file of accepted exceptions, each with an expiry."),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            help="Write JUnit XML here (one test per check): a new file, or one recon wrote.",
        ),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            help="Write the Markdown summary here (also to $GITHUB_STEP_SUMMARY): a new file, "
            "or one recon wrote.",
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="File holding the gate's HMAC key (else $RECON_GATE_KEY)."),
    ] = None,
) -> None:
    """Run, compare with the baseline, and exit 1 when the update introduces a blocking finding."""
    request = flow.Request(
        roster=options.roster,
        filings=options.filings,
        as_of=options.as_of,
        policy=options.policy,
        out=options.out_dir,
        lang=options.lang.value,
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
            done = flow.run(request)
        except Exception as exc:
            _annotate(flow.undecided(request, error_text(exc), os.environ))
            raise
        print_counts(done.result)
        out.print(f"report: {done.written / 'report.html'}", markup=False)
        for note in done.notes:
            # A note quotes paths and waiver texts: one line each, controls made visible.
            err.print(ci.fold(scrub(f"gate: note: {note}")), markup=False, soft_wrap=True)
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
