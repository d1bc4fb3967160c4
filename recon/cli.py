"""The command line (SPEC §7): `recon run`, `recon check`, `recon gate`.

Each command lives in its own module under `recon/commands/`; what they share
(options, exit codes, progress) is `recon/commands/common.py`.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import suppress

import typer

from recon.commands.check import check
from recon.commands.gate import gate
from recon.commands.run import run
from recon.commands.sample import sample
from recon.gx_adapter import defer_scipy_stats

app = typer.Typer(
    help="Reconcile the society's roster (加入者台帳) with the employer's My Number filings "
    "(事業主届出) before mailing 資格情報のお知らせ and 資格確認書.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(run)
app.command()(check)
app.command()(gate)
app.command()(sample)


def main() -> None:
    """The `recon` process: the command, then an immediate end.

    Once a command returns, every file it wrote is closed and in place, the
    DuckDB spill folder is gone and the output is flushed; what is left is the
    interpreter tearing down Great Expectations' few thousand modules, which
    took half a second of every `recon run`. Embed `app` instead to keep the
    interpreter (it raises SystemExit like any click application).
    """
    with suppress(Exception):  # a speed-up only: GX imports scipy.stats as usual without it
        defer_scipy_stats()
    try:
        app()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")  # what SystemExit("...") would print
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError):  # a closed pipe (`recon gate | head`) keeps the exit code
            stream.flush()
    os._exit(code or 0)
