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
import errno
import inspect
import math
import os
import re
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, get_type_hints

import duckdb
import typer
from rich.console import Console
from rich.text import Text

from recon import pipeline, stages
from recon.errors import InputError, InvariantError
from recon.masking import error_text, scrub
from recon.normalize.dates import parse_date
from recon.policy import load_policy
from recon.resources import shipped
from recon.signals import (
    INTERRUPTED,
    INTERRUPTED_EXIT,
    is_interruption,
    keep_ignored,
    stop_signals,
)

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
# What --memory-limit takes: DuckDB's own forms (4GB, 512MB, 1.5GiB, 4G), nothing it
# would take by surprise (a negative number it reads as "no limit", a bare 0).
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt])(i?b)?\s*", re.IGNORECASE)
_MEMORY_UNITS = {"k": 1, "m": 2, "g": 3, "t": 4}
# Below this DuckDB cannot even run the shipped sample (measured: 16MB fails, 32MB runs).
MEMORY_FLOOR = 32_000_000


def memory_bytes(limit: str) -> int | None:
    """The bytes `--memory-limit` stands for, as DuckDB reads it; None when it is not an amount."""
    found = _MEMORY.fullmatch(limit)
    if not found:
        return None
    base = 1024 if found[3] and found[3].lower() == "ib" else 1000
    return int(float(found[1]) * base ** _MEMORY_UNITS[found[2].lower()])


def amount(size: float) -> str:
    """A size rounded up to a figure an operator types: 32MB, 150MB, 1.3GB."""
    if size >= 1e9:
        return f"{math.ceil(size / 1e8) / 10:g}GB"
    if size >= 1e8:
        return f"{math.ceil(size / 1e7) * 10}MB"
    return f"{max(math.ceil(size / 1e6), 1)}MB"


def check_memory_limit(value: str | None) -> str | None:
    """`--memory-limit`, refused up front (exit 2) unless it is an amount DuckDB can work in."""
    if value is None:
        return None
    size = memory_bytes(value)
    if size is None:
        raise typer.BadParameter(
            f"{value!r} はメモリの量ではありません。4GB や 512MB のように、正の数と単位"
            f"（MB, GB, MiB, GiB）で指定してください。 / {value!r} is not an amount of memory; "
            "write a positive number and a unit, like 4GB or 512MB (MB, GB, MiB or GiB).",
            param_hint="--memory-limit",
        )
    if size < MEMORY_FLOOR:
        raise typer.BadParameter(
            f"{value!r} では少なすぎます。DuckDB が動くには少なくとも {amount(MEMORY_FLOOR)} "
            f"必要です（例: --memory-limit 4GB）。 / {value!r} is too little: DuckDB needs at "
            f"least {amount(MEMORY_FLOOR)} to run at all (for example --memory-limit 4GB).",
            param_hint="--memory-limit",
        )
    return value.strip()


MemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="Cap DuckDB's memory, e.g. 4GB; past it DuckDB spills to --spill-dir. "
        f"Default: {stages.DEFAULT_MEMORY_SHARE:.0%} of this computer's memory, or of its "
        "container's limit "
        f"(here {stages.default_memory_limit() or 'DuckDB default'}).",
        callback=check_memory_limit,
    ),
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


def _input_error(message: str) -> None:
    # Text, not markup: a path or header like `[/old]` must print, not parse.
    err.print(Text("recon: input error ", style="bold red") + Text(message), soft_wrap=True)


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space(exc: BaseException) -> bool:
    """A full disk or quota, as Python (errno) or polars and DuckDB (text only) report it."""
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return True
    text = str(exc)
    return any(os.strerror(code) in text for code in _NO_SPACE)


def disk_full_message(exc: BaseException, out: Path | None = None) -> str:
    """Which file or folder could not be written, and what the operator can do."""
    written = getattr(exc, "filename", None)
    if out is not None:
        # The outputs go to a staging folder beside --out first: name the folder given.
        where = f"{out}" + (f" ({Path(written).name})" if written else "")
    else:
        where = str(written) if written else "an output file"
    return (
        f"{where} を書いている途中でディスクがいっぱいになりました。空き容量を増やすか、"
        f"空きのある別のディスクを --out に指定してください。前回のレポートはそのままです。 / "
        f"the disk filled up while writing {where} (No space left on device): free some "
        f"space, or pass --out on another disk with room. The previous report is unchanged."
    )


def _spill_full_message(spill_dir: Path | None) -> str:
    where = spill_dir if spill_dir is not None else Path(tempfile.gettempdir())
    return (
        f"DuckDB が一時ファイルを書く {where} のディスクがいっぱいになりました。空き容量を"
        f"増やすか、空きのある別のフォルダを --spill-dir に指定してください。 / the disk "
        f"holding {where}, where DuckDB spills to disk, is full (No space left on device): "
        f"free some space there, or pass --spill-dir on a disk with room."
    )


def _spill_limit(exc: BaseException) -> bool:
    """DuckDB could not spill: its temporary folder's disk has no room (its default limit).

    DuckDB caps what it spills at the free space of the spill folder's disk
    and then reports "Out of Memory ... failed to offload data block ... set by
    the 'max_temp_directory_size' setting": the disk, not the memory, is short.
    """
    return "max_temp_directory_size" in str(exc)


# DuckDB's own advice quotes its limit and what it had in use: "(56.9 MiB/57.2 MiB used)".
_DUCKDB_USED = re.compile(r"\(([\d.]+ \w+)/([\d.]+ \w+) used\)")
# What DuckDB needs, measured on recon's stages: 200k members (50 MB of CSV) run in
# 120MB and fail in 90MB; three times the input files leaves room for wider rows.
_NEED_PER_INPUT_BYTE = 3


def _input_bytes(inputs: Sequence[Path | None]) -> int:
    total = 0
    for path in inputs:
        with suppress(OSError):
            total += path.stat().st_size if path is not None else 0
    return total


class _Unknown:
    """`exit_codes` was not told the command's --memory-limit (nor whether one was given)."""


UNKNOWN = _Unknown()


def memory_message(
    exc: BaseException,
    memory_limit: str | None | _Unknown,
    inputs: Sequence[Path | None] = (),
) -> str:
    """DuckDB ran out of memory: say which limit, and about how much these inputs need.

    When the command's limit is unknown, the one DuckDB quotes stands for it.
    """
    used = _DUCKDB_USED.search(str(exc))
    if isinstance(memory_limit, _Unknown):
        memory_limit = used[2].replace(" ", "") if used else None
    if memory_limit is None:
        return (
            "DuckDB がこのコンピューターのメモリを使い切りました。ほかのプログラムを閉じるか、"
            "--memory-limit と --spill-dir でディスクに退避させてください。 / DuckDB ran out of "
            "this computer's memory: close other programs, or pass --memory-limit (with "
            "--spill-dir on a disk with room) so that it spills to disk."
        )
    given = memory_limit
    need = max(
        2 * (memory_bytes(given) or MEMORY_FLOOR),
        _NEED_PER_INPUT_BYTE * _input_bytes(inputs),
    )
    return (
        f"--memory-limit {given} ではこの入力を処理できません。--memory-limit を上げてください"
        f"（目安: 約 {amount(need)}）。指定しなければ RAM の 8 割まで使います。 / "
        f"--memory-limit {given} is too small for these inputs: raise --memory-limit (needs "
        f"about {amount(need)}), or leave it out to let DuckDB use up to 80% of the RAM."
    )


@contextmanager
def exit_codes(
    *,
    memory_limit: str | None | _Unknown = UNKNOWN,
    spill_dir: Path | None = None,
    inputs: Sequence[Path | None] = (),
    out_dir: Path | None = None,
):
    """Turn every failure into its exit code and one masked paragraph.

    The keywords are what the command was given: messages about DuckDB's memory,
    a full disk or the spill folder name them (and size the advice on `inputs`).
    `memory_limit` is None when the command was given none, UNKNOWN when not told.
    """
    keep_ignored()
    terminate = signal.SIGTERM in stop_signals()
    previous = signal.signal(signal.SIGTERM, _terminate) if terminate else None
    try:
        yield
    except InputError as exc:
        _input_error(error_text(exc))
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
        if no_space(exc):
            _input_error(disk_full_message(exc, out_dir))
        else:
            # A folder without write permission and the like: the operator can act on it.
            err.print(f"recon: cannot complete: {error_text(exc)}", markup=False)
        raise typer.Exit(2) from None
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is a bug: exit 3, never a traceback
        if is_interruption(exc):  # Ctrl-C or SIGTERM while DuckDB ran a query
            err.print(INTERRUPTED, markup=False)
            raise typer.Exit(INTERRUPTED_EXIT) from None
        if isinstance(exc, duckdb.Error) and (no_space(exc) or _spill_limit(exc)):
            # Before the memory case: a spill that finds the disk full can surface as either.
            _input_error(_spill_full_message(spill_dir))
            raise typer.Exit(2) from None
        if isinstance(exc, duckdb.OutOfMemoryException):
            _input_error(memory_message(exc, memory_limit, inputs))
            raise typer.Exit(2) from None
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
        if terminate:
            signal.signal(signal.SIGTERM, previous)


def exit_context(options: RunOptions) -> dict:
    """What `exit_codes` names in its messages, for a command with the run options."""
    return {
        "memory_limit": options.memory_limit,
        "spill_dir": options.spill_dir,
        "inputs": (
            options.roster or sample("roster.csv"),
            options.filings or sample("filings.csv"),
        ),
        "out_dir": options.out_dir,
    }


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
