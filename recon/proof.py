"""Proven on what was written: the report's files read back and checked against the run.

`recon.output.write` makes each claim inside the staging folder as soon as
the files it reads are written, and waits for all before the pipeline renames
the folder into place: a writer that dropped, doubled or altered a row fails
the run with exit 3 (`InvariantError`) and the previous report stays. Each
claim reads only the columns it needs, as text, exactly as a spreadsheet or a
script of the society would read them.

The messages name the first id that differs, as it is: an id is never a My
Number (`InvariantError.identifiers` keeps it from the scrubber).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from recon.errors import InvariantError

if TYPE_CHECKING:
    from recon.output.model import Run


def findings_and_counts(run: Run, folder: Path) -> None:
    """The claims that need the whole run: on findings.csv and summary.json."""
    findings_name_roster_members(run.members["member_id"], folder / "findings.csv")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary_counts_the_files(summary, folder)


def _read(path: Path, *columns: str) -> pl.DataFrame:
    """The columns as text; a file recon cannot read back is itself a failed proof."""
    try:
        # No glob: `[`, `*` and `?` are plain characters in an --out name.
        return pl.scan_csv(path, infer_schema=False, glob=False).select(columns).collect()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InvariantError(f"{path.name} cannot be read back: {type(exc).__name__}") from None


def _text(ids: pl.Series) -> pl.Series:
    """An id as a CSV cell reads back: an empty cell and a missing id are the same."""
    return ids.cast(pl.String).fill_null("")


def _strangers(written: pl.Series, known: pl.Series) -> pl.Series:
    """The written ids that are not among `known`, in file order (an anti join:
    at a million ids it took half the time of `is_in`)."""
    return (
        pl.DataFrame({"id": written})
        .join(pl.DataFrame({"id": known}), on="id", how="anti", maintain_order="left")
        .get_column("id")
    )


def members_written_once(roster_ids: pl.Series, path: Path) -> None:
    """members.csv holds one row per roster row, in input order, with the roster's member_id."""
    written = _text(_read(path, "member_id")["member_id"])
    expected = _text(roster_ids)
    common = min(written.len(), expected.len())
    differs = (written.head(common) != expected.head(common)).arg_true()
    if not differs.is_empty():
        at = differs[0]
        raise InvariantError(
            f"members.csv row {at + 1} has member_id {written[at]}; the roster's row {at + 1} "
            f"is {expected[at]}",
            identifiers=(written[at], expected[at]),
        )
    if written.len() < expected.len():
        missing = expected[common]
        raise InvariantError(
            f"members.csv has {written.len()} rows for {expected.len()} roster rows; "
            f"the first missing is member_id {missing} (roster row {common + 1})",
            identifiers=(missing,),
        )
    if written.len() > expected.len():
        extra = written[common]
        raise InvariantError(
            f"members.csv has {written.len()} rows for {expected.len()} roster rows; "
            f"the first extra is member_id {extra} (row {common + 1})",
            identifiers=(extra,),
        )


def findings_name_roster_members(roster_ids: pl.Series, path: Path) -> None:
    """Every finding's member_id in findings.csv is a roster member's, or empty."""
    written = _read(path, "member_id")["member_id"]
    strangers = _strangers(written.drop_nulls(), roster_ids.drop_nulls())
    if not strangers.is_empty():
        raise InvariantError(
            f"findings.csv names member_id {strangers[0]}, which is on no roster row "
            f"({strangers.len()} finding(s) name no roster member)",
            identifiers=(strangers[0],),
        )


def envelopes_name_households(household_ids: pl.Series, path: Path, lang: str) -> None:
    """Every envelope in mailing.csv goes to a household of the roster.

    mailing.csv is read by people: its header row is in the run's language. The
    column is found by its name in that language (the catalog's, as the writer
    named it), not by its place: a reordered file is still read right, and a
    header in another language fails the proof instead of passing unread.
    """
    from recon.output.tables import header, neutralized  # as the Excel CSV writes a cell

    column = header("household_id", lang)
    written = _read(path, column)[column]
    strangers = _strangers(written.fill_null(""), neutralized(household_ids.drop_nulls()))
    if not strangers.is_empty():
        name = strangers[0] or "(empty)"
        raise InvariantError(
            f"mailing.csv has an envelope for household {name}, which is on no roster row",
            identifiers=(name,),
        )


def summary_counts_the_files(summary: dict, folder: Path) -> None:
    """summary.json's counts of members, findings, checks and severities are the files' rows."""
    rows = pl.scan_csv(folder / "members.csv", infer_schema=False, glob=False).select(pl.len())
    members = rows.collect().item()
    findings = _read(folder / "findings.csv", "check", "severity")
    claims = [
        ("members.total", summary["members"]["total"], members),
        ("findings.total", summary["findings"]["total"], findings.height),
    ]
    for column, counted in (
        ("severity", summary["findings"]["by_severity"]),
        ("check", {k: v["count"] for k, v in summary["findings"]["by_check"].items()}),
    ):
        in_file = dict(findings.group_by(column).len().iter_rows())
        for value in sorted(set(counted) | {v for v in in_file if v is not None}, key=str):
            claims.append(
                (f"findings {column} {value}", counted.get(value, 0), in_file.get(value, 0))
            )
    for what, said, found in claims:
        if said != found:
            raise InvariantError(
                f"summary.json counts {said} for {what}, but the files hold {found} row(s)"
            )
