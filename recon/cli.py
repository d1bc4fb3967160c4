"""The command line (SPEC §7): `recon run`, `recon check`, `recon gate`.

Each command lives in its own module under `recon/commands/`; what they share
(options, exit codes, progress) is `recon/commands/common.py`.

This module imports nothing but the standard library when it loads: `main`
first makes Ctrl-C and SIGTERM an interruption (exit 130), then imports the
commands (typer, polars, DuckDB: over a second). `app` is built on first use.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import signal
import sys
from contextlib import suppress

from recon import texts
from recon.signals import (
    INTERRUPTED_EXIT,
    STOPS,
    interrupt,
    interruption_said,
    is_interruption,
    keep_ignored,
    say_interrupted,
    stop_signals,
)

#: What `recon --lang xx` gives when xx is no language of the catalog (SPEC §7: bad input).
UNKNOWN_LANG_EXIT = 2


# polars' allocator, jemalloc, as `recon.cli.main` sets it up (a user's own setting
# is kept). By default it gives each allocation over 8 MiB (a column of a million
# rows) an arena that hands memory back to the system at once, and other freed
# memory after half a second: nearly every new column was fresh memory the kernel
# faulted in page by page, a quarter of a 1M run's CPU in system time. Large
# allocations now share the ordinary arenas, which keep freed pages 3 s for reuse:
# system time 3.8 -> 3.2 s, wall 0.94x at 1M; the peak 55 MiB higher at 1M and the
# same at 5M (bench/README.md). Keeping them 10 s held 0.7 GB more at 1M.
POLARS_ALLOCATOR = ("_RJEM_MALLOC_CONF", "oversize_threshold:0,dirty_decay_ms:3000")

# In the order `recon --help` lists them.
COMMANDS = ("run", "check", "gate", "sample", "explain")


def _app(lang: str | None = None, only: str | None = None):
    """The typer application, its help in `lang` (default: the current language).

    Typer reads the help texts when it builds the click command, on every
    call: the option declarations hold catalog keys (`commands.common.option`)
    and are given the texts of `lang` here, just before. With `only`, the
    application has that one command: the same options, checks and messages,
    without importing and building the others.
    """
    import importlib

    import typer

    from recon.commands import common

    lang = lang or texts.current()
    common.localize_help(lang)
    app = typer.Typer(
        help=texts.text("cli.app.help", lang),
        add_completion=False,
        pretty_exceptions_enable=False,
        invoke_without_command=True,
        cls=common.HelpGroup,
        context_settings={"help_option_names": ["--help", "-h"]},
    )
    app.callback()(common.app_options)
    for name in (only,) if only else COMMANDS:
        command = getattr(importlib.import_module(f"recon.commands.{name}"), name)
        key = "explain.cli.help" if name == "explain" else f"cli.{name}.help"
        app.command(help=texts.text(key, lang), cls=common.HelpCommand)(command)
    return app


def _explain_app():
    """`recon explain` alone: the help desk's one-member question answered in well
    under a second. The full application loads the pipeline (pandera, DuckDB,
    Great Expectations: seconds) to build every command's options; this one
    loads typer, polars and the text catalog only."""
    import typer

    from recon.commands.explain import explain

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    # A callback keeps `explain` a subcommand (a lone command would become the app).
    app.callback()(lambda: None)
    app.command(help=texts.text("explain.cli.help"))(explain)
    return app


def _for(argv: list[str]):
    """The application for this command line: explain's own when it is a plain
    `recon explain ...`, one with only the command named first otherwise. Any
    help, and a command line that names no command first, get the full one."""
    if not argv or argv[0] not in COMMANDS or {"--help", "-h"} & set(argv):
        return _app()
    if argv[0] == "explain":
        return _explain_app()
    return _app(only=argv[0])


def __getattr__(name: str):
    # `recon.cli.app`, for tests and embedding; assigning `cli.app` replaces it for `main`.
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def asked_lang(argv: list[str]) -> str | None:
    """The language `--lang X` or `--lang=X` asks for anywhere before `--`; None if none.

    ValueError(the value) when it is no language of the catalog.
    """
    asked = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            asked = argv[i + 1]
        elif arg.startswith("--lang="):
            asked = arg.removeprefix("--lang=")
    if asked is not None and asked not in texts.LANGS:
        raise ValueError(asked)
    return asked


# click's words for what was wrong with a value (typer's conversion) -> usage.value.*.
_VALUE_PROBLEMS = (
    (re.compile(r"Input should be a valid integer"), "integer"),
    (re.compile(r"Input should be a valid number"), "number"),
    (re.compile(r"Input should be greater than or equal to (?P<limit>\S+)"), "at_least"),
    (re.compile(r"Input should be less than or equal to (?P<limit>\S+)"), "at_most"),
    (re.compile(r"(?:Value error, )?(?P<given>'.*') is not one of (?P<choices>.*?)\.?$"), "one_of"),
)
_EXTRA = re.compile(r"Got unexpected extra argument(?:\(s\)|s)? \((?P<arguments>.*)\)$", re.S)
_NO_COMMAND = re.compile(r"No such command (?P<command>.*?)\.?$", re.S)
_REQUIRES = re.compile(r"Option (?P<option>'.*') requires")
_NO_VALUE = re.compile(r"Option (?P<option>'.*') does not take a value")


def _said(key: str, **values: object) -> str:
    return texts.text(f"usage.{key}", **values)


def _value_problem(message: str) -> str:
    """What typer's conversion found wrong with a value, in the chosen language."""
    for pattern, key in _VALUE_PROBLEMS:
        found = pattern.search(message)
        if found:
            return _said(f"value.{key}", **found.groupdict())
    return message  # recon's own checks (--as-of, --lang, ...) already speak it


def _usage_message(exc: Exception) -> str:
    """The sentence of one of click's usage errors, from its values (its class by name:
    typer vendors click, and the classes are not part of its public interface)."""
    kind, message = type(exc).__name__, str(getattr(exc, "message", "") or "")
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if hint is None and param is not None:
        hint = param.get_error_hint()
    if isinstance(hint, list | tuple):
        hint = " / ".join(hint)
    if kind == "NoSuchOption":
        said = _said("no_such_option", option=getattr(exc, "option_name", ""))
        possible = list(getattr(exc, "possibilities", None) or ())  # click's order: best first
        if possible:
            return _said("possible_options", message=said, options=", ".join(possible))
        return said
    if kind == "MissingParameter":
        which = getattr(exc, "param_type", None) or getattr(param, "param_type_name", "option")
        return _said("missing_argument" if which == "argument" else "missing_option", param=hint)
    if kind == "BadParameter" and hint:
        return _said("invalid_value", param=hint, problem=_value_problem(message))
    for pattern, key in ((_REQUIRES, "requires_value"), (_NO_VALUE, "takes_no_value")):
        found = pattern.search(message)
        if found:
            return _said(key, **found.groupdict())
    found = _EXTRA.search(message)
    if found:
        return _said("extra_arguments", **found.groupdict())
    found = _NO_COMMAND.search(message)
    if found:
        ctx = getattr(exc, "ctx", None)
        names = ctx.command.list_commands(ctx) if ctx is not None else []
        return _said("no_such_command", command=found["command"], commands=", ".join(names))
    return message


def usage_error(exc: Exception) -> str | None:
    """What recon prints for an error click found in the command line (None: not one).

    click would print its own English; recon says the usage line, where to find
    help and what is wrong in the chosen language. A typed value is shown
    scrubbed: a My Number typed where an option belongs is never echoed.
    """
    import typer

    from recon.masking import scrub

    if isinstance(exc, typer.Abort):
        return _said("aborted") + "\n"
    if not (isinstance(exc, typer.TyperException) and hasattr(exc, "exit_code")):
        return None
    lines = []
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and getattr(exc, "exit_code", 0) == 2:
        usage = " ".join([ctx.command_path, *ctx.command.collect_usage_pieces(ctx)])
        lines.append(_said("usage", usage=usage))
        if ctx.help_option_names:
            help_option = ctx.help_option_names[0]
            lines.append(_said("try_help", command=ctx.command_path, help=help_option))
        lines.append("")
    lines.append(_said("error", message=scrub(_usage_message(exc))))
    return "\n".join(lines) + "\n"


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
    # numpy (loaded by pandas, for Great Expectations) starts OpenBLAS with a
    # thread per core that spins waiting for work: 0.2 CPU-s of a run taken
    # from polars and DuckDB, for matrix algebra recon never does. OpenBLAS
    # reads this when numpy loads, later in the run; set first, while this is
    # the only thread (setenv beside a thread reading the environment can
    # crash). A user's own setting is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # polars' allocator (jemalloc) reads this when polars loads, later too.
    os.environ.setdefault(*POLARS_ALLOCATOR)
    for s in stop_signals():
        signal.signal(s, interrupt)
    # Importing Great Expectations makes about a million objects that live to the
    # end; at CPython's default first threshold (700 allocations) the collector
    # walked them again and again, under the GIL: 0.6 CPU-s of every `recon run`.
    # recon's own cycles are few and small, so collecting less often costs no memory.
    gc.set_threshold(10_000, 20, 20)
    # Help texts are made when the application is built: the language must be
    # known before, and a language recon does not have is refused in both.
    try:
        texts.choose(asked_lang(sys.argv[1:]))
    except ValueError as unknown:
        sys.stderr.write(texts.text("messages.unknown_lang", lang=unknown.args[0]) + "\n")
        _finish(UNKNOWN_LANG_EXIT)
    try:
        # Loading inside the inner `try`: a signal that lands while a module is made can
        # arrive wrapped in another exception (`is_interruption`).
        try:
            if signal.SIGINT not in stop_signals():
                # polars hooks SIGINT as it loads (`keep_ignored`): load it first and undo
                # that at once, before anything could run polars code with the hook in place.
                import polars  # noqa: F401

                keep_ignored()
            application = globals().get("app") or _for(sys.argv[1:])
            keep_ignored()  # importing polars hooked SIGINT even if it was ignored
            # Not standalone: click's usage errors come back here, to be said in the
            # chosen language (`usage_error`); its exit codes are returned.
            returned = application(standalone_mode=False)
            code: object = returned if isinstance(returned, int) else 0
            if code == INTERRUPTED_EXIT:  # a command's, or typer's for a Ctrl-C while parsing
                raise KeyboardInterrupt
        except SystemExit as done:
            code = done.code
        except Exception as exc:
            if is_interruption(exc):
                raise KeyboardInterrupt from None
            said = usage_error(exc)
            if said is None:
                raise
            sys.stderr.write(said)
            code = getattr(exc, "exit_code", 1)
    except KeyboardInterrupt:
        for s in STOPS:
            signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not cut the message short
        if not interruption_said():
            with suppress(OSError):
                say_interrupted(lambda said: sys.stderr.write(said + "\n"))
        _finish(INTERRUPTED_EXIT)
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")  # what SystemExit("...") would print
        code = 1
    _finish(code or 0)
