"""What every command shares: options, exit codes, progress and the printed summary.

`recon run` and `recon gate` take the same run options, defined once here
(`RunOptions`, added to a command by `with_run_options`).

Exit codes (SPEC §7): 0 completed (gate: nothing blocking), 1 the gate found
blocking findings, 2 the input could not be read or is structurally invalid,
3 an internal invariant failed (a bug to report). No traceback reaches the
operator; every message passes through `recon.masking.scrub`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import signal
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, get_type_hints

import typer
from rich.console import Console
from rich.text import Text

from recon import pipeline
from recon.cli import INTERRUPTED, INTERRUPTED_EXIT
from recon.errors import InputError, InvariantError
from recon.masking import error_text, scrub
from recon.normalize.dates import parse_date
from recon.policy import load_policy
from recon.resources import shipped

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def sample(name: str) -> Path:
    return shipped("sample_data") / name


RosterOpt = Annotated[
    Path | None,
    typer.Option(
        "--roster",
        help="加入者台帳: CSV (UTF-8 or Shift_JIS), .xlsx or Parquet. Default: the bundled sample.",
    ),
]
FilingsOpt = Annotated[
    Path | None,
    typer.Option(
        "--filings",
        help="事業主届出 (My Number filings), same formats. Default: the bundled sample.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Run date that decides who is active, in any date form the inputs take "
        "(2025-06-30, 2025/6/30, 令和7年6月30日, R7.6.30). Default: today.",
    ),
]
PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="Policy TOML replacing the shipped defaults.")
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Folder for members.csv, findings.csv, summary.json, "
        "report.html (replaced atomically).",
    ),
]
MemoryOpt = Annotated[
    str | None, typer.Option("--memory-limit", help="Cap DuckDB's memory, e.g. 4GB.")
]


class Lang(StrEnum):
    ja = "ja"
    en = "en"


LangOpt = Annotated[
    Lang, typer.Option("--lang", help="Language of report.html: ja (default) or en.")
]
SpillOpt = Annotated[
    Path | None,
    typer.Option(
        "--spill-dir", help="Folder where DuckDB spills to disk when --memory-limit is reached."
    ),
]


@dataclass(frozen=True)
class RunOptions:
    """The options `recon run` and `recon gate` share, in the order `--help` lists them."""

    roster: RosterOpt = None
    filings: FilingsOpt = None
    as_of: AsOfOpt = None
    policy: PolicyOpt = None
    out_dir: OutOpt = Path("reports/latest")
    lang: LangOpt = Lang.ja
    memory_limit: MemoryOpt = None
    spill_dir: SpillOpt = None


def with_run_options(command: Callable[..., None]) -> Callable[..., None]:
    """`command(options: RunOptions, **own)` as a Typer command.

    Its options are the fields of `RunOptions` first, then the command's own
    keyword parameters; Typer reads them from the signature built here, and the
    command receives the shared ones bundled in one `RunOptions`.
    """
    hints = get_type_hints(RunOptions, include_extras=True)
    shared = [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name]
        )
        for f in fields(RunOptions)
    ]
    own = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(command, eval_str=True).parameters.values()
    ][1:]  # the first is `options`

    def typer_command(**values) -> None:
        options = RunOptions(**{p.name: values.pop(p.name) for p in shared})
        command(options, **values)

    typer_command.__name__ = command.__name__
    typer_command.__qualname__ = command.__qualname__
    typer_command.__module__ = command.__module__
    typer_command.__doc__ = command.__doc__
    typer_command.__signature__ = inspect.Signature([*shared, *own], return_annotation=None)
    typer_command.__annotations__ = {p.name: p.annotation for p in [*shared, *own]}
    return typer_command


# My Numbers were first assigned on 2015-10-05: no run can be about an earlier day.
AS_OF_EARLIEST = dt.date(2015, 10, 5)
# A run date further ahead than this is a typo (2205 for 2025), not a plan.
AS_OF_YEARS_AHEAD = 2


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


# The forms --as-of is explained with (it reads every form the inputs' dates take).
AS_OF_FORMS = "2025-06-30, 2025/6/30, 令和7年6月30日 or R7.6.30"


def parse_as_of(value: str | None, today: dt.date | None = None) -> dt.date:
    """The run date of `--as-of`, read like the inputs' dates (SPEC §7); today when not given."""
    today = today or dt.date.today()
    if value is None:
        return today
    day = parse_date(value)
    if day is None:
        raise InputError(
            f"--as-of {value!r} is not a date of the calendar; write it like {AS_OF_FORMS}."
        )
    if day < AS_OF_EARLIEST:
        raise InputError(
            f"--as-of {day.isoformat()} is before {AS_OF_EARLIEST.isoformat()}, when My Numbers "
            "were first assigned; give the run date, like 2025-06-30."
        )
    latest = _years_after(today, AS_OF_YEARS_AHEAD)
    if day > latest:
        raise InputError(
            f"--as-of {day.isoformat()} is more than {AS_OF_YEARS_AHEAD} years after today "
            f"({today.isoformat()}); give a run date up to {latest.isoformat()}."
        )
    return day


@contextmanager
def terminal_progress():
    """A spinner with the current step on a terminal; silent in pipes and CI."""
    if not sys.stderr.isatty():
        yield None
        return
    with err.status("reading") as status:
        yield lambda step: status.update(f"{step}…")


def _terminate(signum, frame):  # noqa: ARG001 - signal handler signature
    # SIGTERM (a CI timeout, systemd) becomes an exception, so that the write
    # in progress is rolled back like after Ctrl-C instead of leaving a half folder.
    raise KeyboardInterrupt


@contextmanager
def exit_codes():
    """Turn every failure into its exit code and one masked paragraph."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except InputError as exc:
        # Text, not markup: a path or header like `[/old]` must print, not parse.
        err.print(
            Text("recon: input error ", style="bold red") + Text(error_text(exc)), soft_wrap=True
        )
        raise typer.Exit(2) from None
    except InvariantError as exc:
        err.print(
            f"recon: internal error (a bug, please report it): {error_text(exc)}", markup=False
        )
        raise typer.Exit(3) from None
    except KeyboardInterrupt:
        err.print(INTERRUPTED, markup=False)
        raise typer.Exit(INTERRUPTED_EXIT) from None
    except typer.Exit:
        raise
    except OSError as exc:
        # A full disk or a folder without write permission: the operator can act on it.
        err.print(f"recon: cannot complete: {error_text(exc)}", markup=False)
        raise typer.Exit(2) from None
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is a bug: exit 3, never a traceback
        err.print(
            f"recon: internal error (a bug, please report it): {type(exc).__name__}: "
            f"{error_text(exc)}",
            markup=False,
        )
        if os.environ.get("RECON_DEBUG"):
            import traceback

            err.print(scrub(traceback.format_exc()), markup=False)
        raise typer.Exit(3) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def analyse(roster, filings, as_of, policy, *, with_decisions, memory_limit=None, spill_dir=None):
    with terminal_progress() as progress:
        return pipeline.analyse(
            roster or sample("roster.csv"),
            filings or sample("filings.csv"),
            load_policy(policy),
            parse_as_of(as_of),
            with_decisions=with_decisions,
            progress=progress,
            memory_limit=memory_limit,
            spill_dir=spill_dir,
        )


def print_counts(result: pipeline.Result) -> None:
    by_check = result.findings.group_by("check", "severity").len().sort("check")
    for check, severity, count in by_check.iter_rows():
        out.print(f"  {severity:<8} {check:<32} {count:>8}")
    verdict = (
        f"blocked by {result.blocking} error(s)" if result.blocking else "ready: no blocking errors"
    )
    out.print(f"recon: {verdict}")
