"""The command line (SPEC §7): `recon run`, `recon check`, `recon gate`.

Each command lives in its own module under `recon/commands/`; what they share
(options, exit codes, progress) is `recon/commands/common.py`.

This module imports nothing but the standard library when it loads: `main`
first makes Ctrl-C and SIGTERM an interruption (exit 130), then imports the
commands (typer, polars, DuckDB: over a second). `app` is built on first use.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from contextlib import suppress
from functools import cache

from recon.signals import (
    INTERRUPTED,
    INTERRUPTED_EXIT,
    STOPS,
    interrupt,
    is_interruption,
    keep_ignored,
    stop_signals,
)


@cache
def _app():
    import typer

    from recon.commands.check import check
    from recon.commands.gate import gate
    from recon.commands.run import run
    from recon.commands.sample import sample

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
    app.command()(__import__("recon.commands.explain", fromlist=["explain"]).explain)
    return app


def __getattr__(name: str):
    # `recon.cli.app`, for tests and embedding; assigning `cli.app` replaces it for `main`.
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _finish(code: int) -> None:
    """Flush and end the process now, with `code`; no signal can change it any more."""
    for s in STOPS:
        signal.signal(s, signal.SIG_IGN)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError):  # a closed pipe (`recon gate | head`) keeps the exit code
            stream.flush()
    os._exit(code)


def main() -> None:
    """The `recon` process: the command, then an immediate end.

    Ctrl-C or SIGTERM at any moment from here on ends the process with 130
    (SPEC §7), also while the commands are still being imported, where click
    would have said "Aborted!" with 1 or Python died of the signal. Once a
    command has returned, its outputs are complete: the signals are ignored and
    its own exit code stands.

    Once a command returns, every file it wrote is closed and in place, the
    DuckDB spill folder is gone and the output is flushed; what is left is the
    interpreter tearing down Great Expectations' few thousand modules, which
    took half a second of every `recon run`. Embed `app` instead to keep the
    interpreter (it raises SystemExit like any click application).

    A process started with SIGINT or SIGTERM ignored keeps ignoring it
    throughout (`stop_signals`): it runs to the end as if never signalled.
    """
    for s in stop_signals():
        signal.signal(s, interrupt)
    try:
        if signal.SIGINT not in stop_signals():
            # polars hooks SIGINT as it loads (`keep_ignored`): load it first and undo that
            # at once, before anything could run polars code with the hook in place.
            import polars  # noqa: F401

            keep_ignored()
        application = globals().get("app") or _app()
        keep_ignored()  # importing polars hooked SIGINT even if it was ignored
        try:
            application()
            code: object = 0
        except SystemExit as done:
            code = done.code
        except Exception as exc:
            if not is_interruption(exc):
                raise
            raise KeyboardInterrupt from None
    except KeyboardInterrupt:
        for s in STOPS:
            signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not cut the message short
        with suppress(OSError):
            sys.stderr.write(INTERRUPTED + "\n")
        _finish(INTERRUPTED_EXIT)
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")  # what SystemExit("...") would print
        code = 1
    _finish(code or 0)
