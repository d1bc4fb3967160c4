"""What a run is given, for the commands and the gate alike (no command line here).

The bundled sample, the run date (`--as-of`, read like the inputs' dates) and
the progress line on a terminal. `recon/gate/flow.py` and the commands both
use these; only `recon/cli.py` and `recon/commands/*` know typer.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from recon import texts
from recon.errors import InputError, WorkingFolderGone
from recon.normalize.dates import parse_date
from recon.resources import shipped
from recon.texts import text

_err = Console(stderr=True, highlight=False)


def require_working_folder() -> None:
    """Refuse to start in a folder that has been deleted (another window removed it).

    Each command calls it first. Else a relative path (`reports/latest`, the
    default --out) fails with a bare "[Errno 2]", and a library that asks for
    the folder (Hypothesis, which Pandera imports where it is installed) fails
    inside validation with exit 3.
    """
    try:
        os.getcwd()
    except FileNotFoundError:
        raise WorkingFolderGone(text("messages.working_folder_gone")) from None


def sample(name: str) -> Path:
    """A file of the sample shipped with recon (`roster.csv`, `filings.csv`)."""
    return shipped("sample_data") / name


# My Numbers were first assigned on 2015-10-05: no run can be about an earlier day.
AS_OF_EARLIEST = dt.date(2015, 10, 5)
# A run date further ahead than this is a typo (2205 for 2025), not a plan.
AS_OF_YEARS_AHEAD = 2


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def parse_as_of(value: str | None, today: dt.date | None = None) -> dt.date:
    """The run date of `--as-of`, read like the inputs' dates (SPEC §7); today when not given."""
    today = today or dt.date.today()
    if value is None:
        return today
    day = parse_date(value)
    if day is None:
        # The forms it is explained with: it reads every form the inputs' dates take.
        raise InputError(
            text("messages.as_of.not_a_date", value=repr(value), forms=text("messages.as_of.forms"))
        )
    if day < AS_OF_EARLIEST:
        raise InputError(
            text(
                "messages.as_of.too_early",
                day=day.isoformat(),
                earliest=AS_OF_EARLIEST.isoformat(),
            )
        )
    latest = _years_after(today, AS_OF_YEARS_AHEAD)
    if day > latest:
        raise InputError(
            text(
                "messages.as_of.too_late",
                day=day.isoformat(),
                years=AS_OF_YEARS_AHEAD,
                today=today.isoformat(),
                latest=latest.isoformat(),
            )
        )
    return day


@contextmanager
def terminal_progress():
    """A spinner with the current step on a terminal; silent in pipes and CI."""
    if not sys.stderr.isatty():
        yield None
        return

    def named(step: str) -> str:
        try:
            return text(f"messages.progress.steps.{step}")
        except texts.UnknownText:  # a step added to the pipeline before the catalog
            return step

    with _err.status(text("messages.progress.start")) as status:
        yield lambda step: status.update(text("messages.progress.step", step=named(step)))
