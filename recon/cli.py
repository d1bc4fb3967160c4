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

from recon import texts
from recon.signals import (
    INTERRUPTED_EXIT,
    STOPS,
    interrupt,
    interrupted,
    is_interruption,
    keep_ignored,
    stop_signals,
)

#: What `recon --lang xx` gives when xx is no language of the catalog (SPEC §7: bad input).
UNKNOWN_LANG_EXIT = 2


def _app(lang: str | None = None):
    """The typer application, its help in `lang` (default: the current language).

    Typer reads the help texts when it builds the click command, on every
    call: the option declarations hold catalog keys (`commands.common.option`)
    and are given the texts of `lang` here, just before.
    """
    import typer

    from recon.commands import common
    from recon.commands.check import check
    from recon.commands.explain import explain
    from recon.commands.gate import gate
    from recon.commands.run import run
    from recon.commands.sample import sample

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
    for command in (run, check, gate, sample):
        name = command.__name__
        app.command(help=texts.text(f"cli.{name}.help", lang), cls=common.HelpCommand)(command)
    app.command(help=texts.text("explain.cli.help", lang), cls=common.HelpCommand)(explain)
    return app


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
    # Help texts are made when the application is built: the language must be
    # known before, and a language recon does not have is refused in both.
    try:
        texts.choose(asked_lang(sys.argv[1:]))
    except ValueError as unknown:
        sys.stderr.write(texts.text("messages.unknown_lang", lang=unknown.args[0]) + "\n")
        _finish(UNKNOWN_LANG_EXIT)
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
            sys.stderr.write(interrupted() + "\n")
        _finish(INTERRUPTED_EXIT)
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")  # what SystemExit("...") would print
        code = 1
    _finish(code or 0)
