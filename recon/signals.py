"""Ctrl-C and SIGTERM (SPEC §7: exit 130), shared by the CLI, the commands and the writer.

Standard library only: `recon.cli` imports it before anything heavy loads, so
that a signal during start-up is an interruption too.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from recon.texts import text

INTERRUPTED_EXIT = 130
STOPS = (signal.SIGINT, signal.SIGTERM)


def interrupted() -> str:
    """What an interrupted run says, in the chosen language."""
    return text("messages.interrupted")


# Whether this process has said `interrupted()` (`say_interrupted`).
_said: list[bool] = []


def say_interrupted(write: Callable[[str], object]) -> None:
    """`interrupted()` through `write`, noted for `recon.cli.main`.

    A command's `exit_codes` says it and returns 130; typer also returns 130,
    in silence, for a Ctrl-C that lands while it parses the command line.
    `main` tells the two apart by this note, and speaks for the second.
    """
    write(interrupted())
    _said.append(True)


def interruption_said() -> bool:
    return bool(_said)


def stop_signals() -> tuple[signal.Signals, ...]:
    """The stop signals recon may handle: those the process did not inherit as ignored.

    A process started with SIGINT ignored (`nohup`, `&` in a non-interactive
    shell, some CI runners) was told by whoever started it that Ctrl-C is not
    for it; Python leaves such a signal ignored at start-up, and recon must not
    take it back at one moment and not another. Every place that installs a
    handler asks this first, and the only other change recon makes is to
    SIG_IGN on the way out, so "ignored now" means "ignored when recon started".
    """
    return tuple(s for s in STOPS if signal.getsignal(s) != signal.SIG_IGN)


def keep_ignored() -> None:
    """Put back, at the operating system, the stop signals the process inherited as ignored.

    polars (since 1.22) hooks SIGINT in C when it is imported, whatever the
    disposition was, and then stops its own work with KeyboardInterrupt on
    Ctrl-C: Python's table still says SIG_IGN, the process no longer ignores
    it. Called once the libraries are imported, and again wherever recon
    handles signals, in case one was imported late.
    """
    for s in STOPS:
        if signal.getsignal(s) == signal.SIG_IGN:
            signal.signal(s, signal.SIG_IGN)


def is_interruption(exc: BaseException) -> bool:
    """Whether `exc` is Ctrl-C or SIGTERM as DuckDB reports it.

    DuckDB checks for signals while a query runs; when the handler raises
    KeyboardInterrupt, DuckDB cancels the query and raises its own error in
    its place (`RuntimeError: Query interrupted` in DuckDB 1.x-2.x, or its
    `InterruptException`), so the KeyboardInterrupt never arrives. When the
    signal lands while DuckDB is reading an input through Python (the Arrow
    stream of a registered frame), DuckDB wraps it instead: `Invalid Input
    Error: exporting a stream from the object registered as 'filings'
    failed: KeyboardInterrupt`. Told by name and text, so that this module
    keeps importing nothing but the standard library.
    """
    if isinstance(exc, KeyboardInterrupt):
        return True
    # Python 3.11 wraps what a descriptor's `__set_name__` raises in a RuntimeError:
    # a signal landing while a dataclass is made, as recon's modules load, arrives so.
    if isinstance(exc.__cause__, KeyboardInterrupt):
        return True
    from_duckdb = "duckdb" in type(exc).__module__
    if from_duckdb and type(exc).__name__ == "InterruptException":
        return True
    if from_duckdb and "KeyboardInterrupt" in str(exc):
        return True
    return type(exc) is RuntimeError and str(exc).strip() == "Query interrupted"


def interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    # SIGTERM (a CI timeout, systemd) is handled like Ctrl-C: both roll back a
    # write in progress and end with 130, wherever they land.
    raise KeyboardInterrupt
