"""What every command shares: options, exit codes, progress and the printed summary.

`recon run` and `recon gate` take the same run options, defined once here
(`RunOptions`, added to a command by `with_run_options`).

Exit codes (SPEC §7): 0 completed (gate: nothing blocking), 1 the gate found
blocking findings, 2 the input could not be read or is structurally invalid,
3 an internal invariant failed (a bug to report). No traceback reaches the
operator; every message passes through `recon.masking.scrub`.
"""

from __future__ import annotations

import errno
import inspect
import math
import os
import re
import signal
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import Annotated, cast, get_type_hints

import duckdb
import typer
import typer.core
from rich.console import Console
from rich.text import Text

from recon import helptext, pipeline, stages, texts
from recon.errors import InputError, InvariantError, WorkingFolderGone
from recon.masking import error_text, scrub
from recon.policy import load_policy
from recon.runs import parse_as_of, sample, terminal_progress
from recon.signals import (
    INTERRUPTED_EXIT,
    interrupt,
    is_interruption,
    keep_ignored,
    say_interrupted,
    stop_signals,
)
from recon.texts import os_error, text

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


# Every option declared with `option`, by the catalog key of its help text.
_HELP_KEYS: list[tuple[typer.models.ParameterInfo, str, Callable[[], dict[str, str]]]] = []


def option(
    *names: str, key: str, values: Callable[[], dict[str, str]] | None = None, **kwargs
) -> typer.models.OptionInfo:
    """`typer.Option(*names, **kwargs)` whose help is the catalog's `cli.<key>`
    (filled with `values()`, for texts that quote this machine, like its memory).

    Typer reads an option's help when it builds the command, so the text is
    set by `localize_help` just before, in the language chosen then.
    """
    fill = values or dict
    # `typer.Option` is declared to return Any so that it can stand as any default value.
    info = cast(
        typer.models.OptionInfo, typer.Option(*names, help=text(f"cli.{key}", **fill()), **kwargs)
    )
    _HELP_KEYS.append((info, f"cli.{key}", fill))
    return info


# typer's words around the help texts (its module constants, read as it renders).
_FRAME = {
    "DEFAULT_STRING": "default",
    "REQUIRED_LONG_STRING": "required",
    "OPTIONS_PANEL_TITLE": "options",
    "COMMANDS_PANEL_TITLE": "commands",
    "ERRORS_PANEL_TITLE": "error",
    "RICH_HELP": "try_help",
}


def localize_help(lang: str) -> None:
    """Give every declared option, and typer's frame, its text in `lang` (before typer builds)."""
    from typer import rich_utils

    for info, key, fill in _HELP_KEYS:
        info.help = text(key, lang, **fill())
    for name, key in _FRAME.items():
        if hasattr(rich_utils, name):
            # `{}` in the texts are typer's own fields, filled in by typer.
            setattr(rich_utils, name, texts.entry_of(f"cli.frame.{key}")[lang])


def _help_option_in_language(help_option):
    """The --help option says what it does in the chosen language."""
    if help_option is not None and not hasattr(help_option, "recon_help"):  # not yet fit
        help_option.help = text("cli.frame.help_option")
    return help_option


def _fit(item, width: int) -> None:
    """Give `item` (an option or a command) its help broken to `width` cells, if Japanese."""
    if not hasattr(item, "recon_help"):
        item.recon_help = item.help  # as the catalog gave it, before any breaking
    if item.recon_help and helptext.is_wide(item.recon_help):
        item.help = helptext.kept(item.recon_help, width)


# What typer puts around an option's help in its table: the panel's border and
# padding (4 cells), each column's padding (2), a required mark, and a margin.
_AROUND_OPTIONS = 4 + 4 * 2 + 2 + 2
_AROUND_COMMANDS = 4 + 2 * 2 + 2


def _metavar_cells(param, ctx) -> int:
    """About how wide typer shows `param`'s value: its type or metavar, and any range."""
    shown = getattr(param, "display_type_rich", None)
    value = (shown(ctx=ctx) if shown else param.metavar) or ""
    low, high = (getattr(param, end, None) for end in ("min", "max"))
    limits = f" [{low}<=x<={high}]" if low is not None or high is not None else ""
    return helptext.cells(str(value) + limits)


def _fit_options(command: typer.core.TyperCommand | typer.core.TyperGroup, ctx, width: int) -> None:
    """Break the help of each option `command` shows to what fits beside the names and values."""
    shown = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    names = [[*p.opts, *p.secondary_opts] for p in shown]
    long = max((len(",".join(n for n in ns if n.startswith("--"))) for ns in names), default=0)
    short = max((len(",".join(n for n in ns if not n.startswith("--"))) for ns in names), default=0)
    value = max((_metavar_cells(p, ctx) for p in shown), default=0)
    for param in shown:
        _fit(param, width - long - short - value - _AROUND_OPTIONS)


# The two classes below say the same in `get_help_option` and `format_help`: typer's
# command and group share only a base class of the click that typer vendors, which is
# not part of its public interface, so a mixin could not be checked against it.


class HelpCommand(typer.core.TyperCommand):
    """A command of `recon`: its help in the chosen language, Japanese help reaching typer
    already broken into lines that fit the terminal (`recon.helptext`)."""

    def get_help_option(self, ctx):
        return _help_option_in_language(super().get_help_option(ctx))

    def format_help(self, ctx, formatter) -> None:
        _fit_options(self, ctx, helptext.terminal_width())
        super().format_help(ctx, formatter)


class HelpGroup(typer.core.TyperGroup):
    """`recon` itself, its help as `HelpCommand`'s, each command's line fit beside its name."""

    def get_help_option(self, ctx):
        return _help_option_in_language(super().get_help_option(ctx))

    def format_help(self, ctx, formatter) -> None:
        width = helptext.terminal_width()
        names = self.list_commands(ctx)
        name_cells = max((len(n) for n in names), default=0)
        for name in names:
            command = self.get_command(ctx, name)
            if command is not None:
                _fit(command, width - name_cells - _AROUND_COMMANDS)
        _fit_options(self, ctx, width)  # the group's own options
        super().format_help(ctx, formatter)


def check_lang(ctx: typer.Context, value: str | None) -> str | None:
    """`--lang`: ja or en (else exit 2), every text's language while the command runs.

    The language before is given back when the command is done: `recon.cli.main`
    chose it for the whole process already; this is for an application run
    within a longer one (tests, embedding).
    """
    if value is None:
        return None
    if value not in texts.LANGS:
        raise typer.BadParameter(text("messages.unknown_lang", lang=value), param_hint="--lang")
    before = texts.chosen()
    texts.choose(value)
    ctx.call_on_close(lambda: texts.choose(before))
    return value


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"recon {version('recon')}", markup=False, highlight=False)
        raise typer.Exit(0)


def app_options(
    ctx: typer.Context,
    lang: Annotated[
        str | None,
        option("--lang", key="app.lang", metavar="ja|en", callback=check_lang, is_eager=True),
    ] = None,
    version: Annotated[
        bool,
        option("--version", key="app.version", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """What `recon` alone takes (the commands have their own options)."""
    if ctx.invoked_subcommand is None:
        # `recon` alone is a question, not a mistake: the help, and exit 0.
        out.print(ctx.get_help(), markup=False, highlight=False, end="")
        raise typer.Exit(0)


RosterOpt = Annotated[Path | None, option("--roster", key="option.roster")]
FilingsOpt = Annotated[Path | None, option("--filings", key="option.filings")]
AsOfOpt = Annotated[str | None, option("--as-of", key="option.as_of")]
PolicyOpt = Annotated[Path | None, option("--policy", key="option.policy")]
OutOpt = Annotated[Path, option("--out", key="option.out")]
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
            text("messages.memory.not_an_amount", value=repr(value)), param_hint="--memory-limit"
        )
    if size < MEMORY_FLOOR:
        raise typer.BadParameter(
            text("messages.memory.too_little", value=repr(value), floor=amount(MEMORY_FLOOR)),
            param_hint="--memory-limit",
        )
    return value.strip()


MemoryOpt = Annotated[
    str | None,
    option(
        "--memory-limit",
        key="option.memory_limit",
        values=lambda: {
            "share": f"{stages.DEFAULT_MEMORY_SHARE:.0%}",
            "here": stages.default_memory_limit() or "DuckDB",
        },
        callback=check_memory_limit,
    ),
]
# None: the language chosen already (`recon --lang`, RECON_LANG, else ja).
LangOpt = Annotated[
    str | None,
    option("--lang", key="option.lang", metavar="ja|en", callback=check_lang, is_eager=True),
]
SpillOpt = Annotated[Path | None, option("--spill-dir", key="option.spill_dir")]


@dataclass(frozen=True)
class RunOptions:
    """The options `recon run` and `recon gate` share, in the order `--help` lists them."""

    roster: RosterOpt = None
    filings: FilingsOpt = None
    as_of: AsOfOpt = None
    policy: PolicyOpt = None
    out_dir: OutOpt = Path("reports/latest")
    lang: LangOpt = None
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
    # `inspect.signature` (so typer) reads a function's `__signature__`; typeshed does not
    # declare the attribute on functions.
    typer_command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*shared, *own], return_annotation=None
    )
    typer_command.__annotations__ = {p.name: p.annotation for p in [*shared, *own]}
    return typer_command


def _input_error(message: str) -> None:
    # Text, not markup: a path or header like `[/old]` must print, not parse.
    err.print(Text(text("messages.input_error"), style="bold red") + Text(message), soft_wrap=True)


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
        where = str(written) if written else text("messages.disk.output_file")
    return text("messages.disk.full", where=where)


def _spill_full_message(spill_dir: Path | None) -> str:
    where = spill_dir if spill_dir is not None else Path(tempfile.gettempdir())
    return text("messages.disk.spill_full", where=where)


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
        return text("messages.memory.machine")
    given = memory_limit
    need = max(
        2 * (memory_bytes(given) or MEMORY_FLOOR),
        _NEED_PER_INPUT_BYTE * _input_bytes(inputs),
    )
    return text("messages.memory.limit", given=given, need=amount(need))


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
    # For an application embedded without `cli.main` (tests): SIGTERM rolls back too.
    previous = signal.signal(signal.SIGTERM, interrupt) if terminate else None
    try:
        yield
    except WorkingFolderGone as exc:
        err.print(
            text("messages.cannot_start", error=error_text(exc)), markup=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    except InputError as exc:
        _input_error(error_text(exc))
        raise typer.Exit(2) from None
    except InvariantError as exc:
        err.print(text("messages.internal_error", error=error_text(exc)), markup=False)
        raise typer.Exit(3) from None
    except KeyboardInterrupt:
        say_interrupted(partial(err.print, markup=False))
        raise typer.Exit(INTERRUPTED_EXIT) from None
    except typer.Exit:
        raise
    except OSError as exc:
        if no_space(exc):
            _input_error(scrub(disk_full_message(exc, out_dir)))
        else:
            # A folder without write permission and the like: the operator can act on it,
            # told in their language (the system's `[Errno 13] Permission denied` is not).
            said = scrub(os_error(exc))
            err.print(text("messages.cannot_complete", error=said), markup=False)
        raise typer.Exit(2) from None
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is a bug: exit 3, never a traceback
        if is_interruption(exc):  # Ctrl-C or SIGTERM while DuckDB ran a query
            say_interrupted(partial(err.print, markup=False))
            raise typer.Exit(INTERRUPTED_EXIT) from None
        if isinstance(exc, duckdb.Error) and (no_space(exc) or _spill_limit(exc)):
            # Before the memory case: a spill that finds the disk full can surface as either.
            _input_error(scrub(_spill_full_message(spill_dir)))
            raise typer.Exit(2) from None
        if isinstance(exc, duckdb.OutOfMemoryException):
            _input_error(memory_message(exc, memory_limit, inputs))
            raise typer.Exit(2) from None
        said = f"{type(exc).__name__}: {error_text(exc)}"
        err.print(text("messages.internal_error", error=said), markup=False)
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


def analyse(
    roster: Path | None,
    filings: Path | None,
    as_of: str | None,
    policy: Path | None,
    *,
    scope: pipeline.Scope,
    memory_limit: str | None = None,
    spill_dir: Path | None = None,
) -> pipeline.Result:
    """`pipeline.analyse` of the given files (the bundled sample for the ones not given),
    its progress shown on the terminal."""
    with terminal_progress() as progress:
        return pipeline.analyse(
            roster or sample("roster.csv"),
            filings or sample("filings.csv"),
            load_policy(policy),
            parse_as_of(as_of),
            scope=scope,
            progress=progress,
            memory_limit=memory_limit,
            spill_dir=spill_dir,
        )


def print_counts(result: pipeline.Result) -> None:
    """Per check its severity (in words), code and count, then whether anything blocks."""
    from recon.wording import word

    lang = texts.current()
    by_check = result.findings.group_by("check", "severity").len().sort("check")
    for check, severity, count in by_check.iter_rows():
        shown = word("severity", severity, lang)
        # Padded by display cells: a Japanese word is two cells a character.
        pad = " " * max(8 - Text(shown).cell_len, 0)
        line = text(
            "messages.summary.row", severity=shown + pad, check=f"{check:<32}", count=f"{count:>8}"
        )
        out.print(line, markup=False, highlight=False)
    if result.blocking:
        out.print(text("messages.summary.blocked", count=result.blocking), markup=False)
    else:
        out.print(text("messages.summary.ready"), markup=False)
    if result.filing_match is None:  # `recon check`: "ready" is about each file alone
        out.print(text("messages.summary.unmatched"), markup=False, soft_wrap=True)
    if result.filings.rows == 0:  # a normal run, but the operator must not miss it
        out.print(
            f"recon: {text('read.no_filings.summary', path=result.filings.path)}", soft_wrap=True
        )


def print_report_path(folder: Path) -> None:
    # One line whatever its length: scripts and people copy the path from it.
    said = text("messages.summary.report", path=folder / "report.html")
    out.print(said, markup=False, highlight=False, soft_wrap=True)
