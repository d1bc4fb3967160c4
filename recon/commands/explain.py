"""`recon explain MEMBER_ID`: one member's decisions and why, from a run's output folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from recon import explain as explaining
from recon import texts
from recon.errors import WorkingFolderGone
from recon.masking import error_text, scrub
from recon.runs import require_working_folder


def _help(key: str) -> str:
    return texts.text(f"explain.cli.{key}")


def explain(
    member_id: Annotated[str, typer.Argument(help=_help("member_id"), show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out", help=_help("out"))] = Path("reports/latest"),
    as_json: Annotated[bool, typer.Option("--json", help=_help("json"))] = False,
    lang: Annotated[str | None, typer.Option("--lang", help=_help("lang"))] = None,
) -> None:
    try:
        chosen = texts.choose(lang)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None
    # Not `commands.common.exit_codes`: it loads the whole pipeline (pandera, DuckDB),
    # seconds of the help desk's wait for a command that reads one parquet file.
    try:
        require_working_folder()  # else a relative --out reads as a folder that is missing
        found = explaining.lookup(out_dir, member_id)
        said = (
            explaining.render_json(found, chosen) + "\n"
            if as_json
            else explaining.render_text(found, chosen)
        )
    except (explaining.ExplainError, WorkingFolderGone) as exc:
        # Identifiers are written as read (SPEC §9); anything else is scrubbed.
        sys.stderr.write(f"recon explain: {error_text(exc)}\n")
        raise typer.Exit(2) from None
    except (OSError, pl.exceptions.PolarsError) as exc:  # a damaged or unreadable file
        message = texts.text("explain.error.unreadable", folder=out_dir, reason=error_text(exc))
        sys.stderr.write(f"recon explain: {scrub(message)}\n")
        raise typer.Exit(2) from None
    sys.stdout.write(said)


explain.__doc__ = _help("help")
