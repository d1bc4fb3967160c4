"""Great Expectations on the reconciled data: the suites of `checks/gx/`, as findings.

The suites are GX Core 1.x JSON files, read in file-name order (the order of
their rows in the report). Each names, in its `meta.recon`, the
table it reads (`members`, `households`, `pairs` or `findings`) and the input
file its findings are anchored to (`roster` or `filings`); each expectation
carries GX's own `severity` and, in its `meta`, a stable `name` and what it
means and what to do, in Japanese and English, for the report.

A failed expectation is one finding: `check = gx.<name>`, severity from the
suite (GX `critical` is our `error`), no member and no row (it is about a
table), `field` = the column it tests, and `detail` = how many rows fail.

An expectation about some rows only (a notice only when linked, reasons only
with a certificate) reads a column computed here, `SELECTED`: the value on the
rows the rule is about and nothing elsewhere, which GX's column expectations
skip. GX's own row conditions would do the same, but its pandas engine filters
the whole table again for every metric an expectation needs; the suites reach
GX as plain column expectations instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from recon import gx_adapter
from recon.errors import InvariantError
from recon.findings import FINDING_SCHEMA, Check, Severity, catalog
from recon.masking import free_text_detail, shows_my_number, written_findings
from recon.policy import Policy
from recon.resources import shipped
from recon.texts import text

if TYPE_CHECKING:
    import pyarrow as pa

_SEVERITY: dict[str, Severity] = {"critical": "error", "warning": "warning", "info": "info"}
_SOURCES = ("roster", "filings")
# What `written_detail` reads of a finding.
FINDING_COLUMNS_READ = ("check", "source", "field", "detail")


@dataclass(frozen=True)
class Selected:
    """A column of `tables`: `value` on the rows the rule is about (`rows`), empty elsewhere.

    `rows` reads a missing value as GX's row conditions did (a pandas query):
    never equal to anything, always different from anything.
    """

    table: str
    field: str  # the column of the reconciled data it tests, as findings name it
    rows: pl.Expr
    value: pl.Expr


def _is(column: str, value: str | bool) -> pl.Expr:
    return (pl.col(column) == value).fill_null(False)


def _is_not(column: str, value: str | bool) -> pl.Expr:
    return (pl.col(column) != value).fill_null(True)


_ACTIVE, _LOST = _is("active", True), _is("active", False)
_CERTIFICATE, _NO_CERTIFICATE = _is("certificate", "yes"), _is("certificate", "no")

SELECTED: dict[str, Selected] = {
    # Whether the notice is missing, for the active members: GX skips empty rows,
    # so "not null" on some rows is "never missing" on a flag that is empty elsewhere.
    "notice_missing_when_active": Selected(
        "members", "notice", _ACTIVE, pl.col("notice").is_null()
    ),
    "status_when_notice": Selected(
        "members",
        "my_number_status",
        pl.col("notice").is_in(["wave1", "wave2", "on_enrolment"]).fill_null(False),
        pl.col("my_number_status"),
    ),
    "reasons_when_no_certificate": Selected(
        "members", "certificate_reasons", _NO_CERTIFICATE, pl.col("certificate_reasons")
    ),
    "reasons_when_certificate": Selected(
        "members", "certificate_reasons", _CERTIFICATE, pl.col("certificate_reasons")
    ),
    "validity_missing_when_certificate": Selected(
        "members",
        "certificate_valid_until",
        _CERTIFICATE,
        pl.col("certificate_valid_until").is_null(),
    ),
    "delivery_when_document": Selected(
        "members", "delivery", _is_not("notice", "none") | _CERTIFICATE, pl.col("delivery")
    ),
    "delivery_when_lost": Selected("members", "delivery", _LOST, pl.col("delivery")),
    "confirm_by_when_must_confirm": Selected(
        "members", "confirm_by", _is("must_confirm", True), pl.col("confirm_by")
    ),
    "status_when_active": Selected(
        "members", "my_number_status", _ACTIVE, pl.col("my_number_status")
    ),
    # Households that get mail and that no roster.* finding already asks to fix.
    "self_count_when_mailed": Selected(
        "households",
        "self_count",
        _is("gets_mail", True) & _is("roster_flagged", False),
        pl.col("self_count"),
    ),
}


@dataclass(frozen=True)
class GxCheck:
    check: Check  # code `gx.<name>`: the same shape as a catalog entry
    name: str
    suite: str
    field: str
    column: str | None  # the column of the table it reads, when one


@dataclass(frozen=True)
class Suite:
    name: str
    table: str
    source: str
    spec: dict[str, Any]  # the GX suite JSON, as the engine reads it
    checks: tuple[GxCheck, ...]


def _field(kwargs: dict[str, Any]) -> str:
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    columns = [SELECTED[c].field if c in SELECTED else c for c in columns]
    return ";".join([*columns, *kwargs.get("column_list", [])])


def _suite(path: Path) -> Suite:
    spec = json.loads(path.read_text(encoding="utf-8"))
    recon_meta = spec["meta"]["recon"]
    if recon_meta["source"] not in _SOURCES:
        raise InvariantError(f"{path.name}: meta.recon.source must be one of {_SOURCES}")
    checks = []
    for expectation in spec["expectations"]:
        meta = expectation["meta"]
        severity = _SEVERITY[expectation.get("severity", "critical")]
        checks.append(
            GxCheck(
                check=Check(
                    code=f"gx.{meta['name']}",
                    severity=severity,
                    title_ja=meta["title_ja"],
                    title_en=meta["title_en"],
                    action_ja=meta["action_ja"],
                    action_en=meta["action_en"],
                ),
                name=meta["name"],
                suite=spec["name"],
                field=_field(expectation["kwargs"]),
                column=expectation["kwargs"].get("column"),
            )
        )
    return Suite(spec["name"], recon_meta["table"], recon_meta["source"], spec, tuple(checks))


@cache
def suites() -> tuple[Suite, ...]:
    found = tuple(_suite(p) for p in sorted((shipped("checks") / "gx").glob("*.json")))
    names = [c.name for s in found for c in s.checks]
    if len(names) != len(set(names)):
        raise InvariantError(f"checks/gx/: expectation names must be unique: {sorted(names)}")
    return found


def gx_catalog() -> tuple[Check, ...]:
    """The gx.* checks, in suite file order, after the catalog's own."""
    return tuple(c.check for s in suites() for c in s.checks)


@dataclass(frozen=True)
class Outcome:
    check: GxCheck
    success: bool
    count: int | None  # rows that fail it; None for a table-level expectation
    detail: str  # counts only, in the chosen language: "3 of 48 rows", "observed 47"
    # The same counts as values, for the report to say in words.
    rows: int | None = None  # the rows it was about; None for a table-level expectation
    observed: int | float | None = None  # a table-level expectation's value


class Quality:
    """What GX said about this run: one outcome per expectation, and its Data Docs."""

    def __init__(
        self,
        outcomes: tuple[Outcome, ...],
        sources: dict[str, str],
        validation: gx_adapter.Validation,
    ):
        self.outcomes = outcomes
        self._sources = sources
        self._validation = validation

    @property
    def findings(self) -> pl.DataFrame:
        failed = [o for o in self.outcomes if not o.success]
        return pl.DataFrame(
            {
                "check": [o.check.check.code for o in failed],
                "severity": [o.check.check.severity for o in failed],
                "member_id": [None] * len(failed),
                "source": [self._sources[o.check.suite] for o in failed],
                "row": [None] * len(failed),
                "field": [o.check.field for o in failed],
                "detail": [o.detail for o in failed],
            },
            schema=FINDING_SCHEMA,
        )

    def write_docs(self, folder: Path) -> Path:
        return self._validation.write_docs(folder)


def tables(
    members: pl.DataFrame, pairs: pl.DataFrame, findings: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """The reconciled tables the suites read, `SELECTED` columns included; none of
    them has a My Number column."""
    return {table: make() for table, make in _makers(members, pairs, findings).items()}


def _makers(
    members: pl.DataFrame, pairs: pl.DataFrame, findings: pl.DataFrame
) -> dict[str, Callable[[], pl.DataFrame]]:
    """How to make each of `tables`. GX makes each on a thread of its own while it
    validates the suite before (see `gx_adapter.validate`), and lets it go once
    converted; none is kept for the whole validation."""
    return {
        "members": lambda: _with_selected("members", members),
        "households": lambda: _with_selected("households", _households(members, findings)),
        "pairs": lambda: _with_selected("pairs", pairs),
        "findings": lambda: _with_selected("findings", written_detail(findings)),
    }


def _households(members: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    flagged_rows = findings.filter(
        (pl.col("source") == "roster") & pl.col("check").str.starts_with("roster.")
    )["row"]
    return (
        members.lazy()
        .select(
            "household_id",
            is_self=pl.col("relation") == "self",
            gets_mail=pl.col("delivery") != "none",
            # Flagged before grouping: inside the aggregation the lookup ran once per household.
            roster_flagged=pl.col("row").is_in(flagged_rows.implode()),
        )
        .group_by("household_id")  # in no order: GX counts, it never lists a household
        .agg(
            self_count=pl.col("is_self").sum().cast(pl.Int64),
            gets_mail=pl.col("gets_mail").any(),
            roster_flagged=pl.col("roster_flagged").any(),
        )
        .collect()
    )


def _with_selected(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    selected = {n: s for n, s in SELECTED.items() if s.table == table}
    if not selected:
        return frame
    # Text the selected columns take is made categorical once, before it is
    # copied into them: each then reaches GX as small codes, not strings
    # hashed one column at a time.
    read = {c for s in selected.values() for c in s.value.meta.root_names()}
    text = [c for c in frame.columns if c in read and frame.schema[c] == pl.String]
    return frame.with_columns(pl.col(text).cast(pl.Categorical)).with_columns(
        pl.when(s.rows).then(s.value).alias(n) for n, s in selected.items()
    )


def selected_rows(frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """How many rows each `SELECTED` column is about: what GX counted as the
    rows of a row condition, the "of" of a finding's detail."""
    counts: dict[str, int] = {}
    for table, frame in frames.items():
        selected = {n: s for n, s in SELECTED.items() if s.table == table}
        if selected:
            row = frame.select(s.rows.sum().alias(n) for n, s in selected.items()).row(0)
            counts.update(zip(selected, row, strict=True))
    return counts


def written_detail(findings: pl.DataFrame) -> pl.DataFrame:
    """The findings with `detail` as it will be written, and `shows_my_number`.

    `gx.finding_detail_shows_no_my_number` asks whether a written detail shows
    a My Number; it follows SPEC §9 and `recon.masking`, so that an identifier
    can never block a run:

    - Only the free-text details count (`masking.free_text_detail`). A detail
      that quotes identifiers (`no roster member has employee id 123456789018`)
      quotes them from their own column: such a value is an employee id even
      when its digits pass the check digit, and the employer needs it quoted
      to find the filing. Leaving employee ids out of the details instead
      would make an orphan unfindable and still not settle the member and
      household ids of the other checks.
    - Only a run of exactly twelve digits passing the check digit counts: a
      regex cannot compute a check digit, so the suite tests a column computed
      here (`masking.shows_my_number`) rather than the text itself.
    - It reads the details as scrubbed for writing: a name that holds a valid
      number after a column shift is masked in every file and is no bug of
      recon; a number the scrubber left in free text is, and fails the run.
    """
    written = written_findings(findings.select(FINDING_COLUMNS_READ))
    free = free_text_detail(written)
    shows = shows_my_number(written["detail"].fill_null("")) & free
    return findings.with_columns(detail=written["detail"], shows_my_number=shows.fill_null(False))


def parameters(policy: Policy, roster_rows: int, filing_rows: int) -> dict[str, Any]:
    """The values behind the suites' `{"$PARAMETER": ...}` placeholders."""
    percent = policy.filing_missing_max_percent
    if not 0 <= percent <= 100:
        # The policy's range rule (0-100) refused such a file already: a bug if reached.
        raise InvariantError(f"policy key filing_missing_max_percent = {percent} is not 0-100.")
    return {
        "roster_rows": roster_rows,
        "filing_rows": filing_rows,
        "filed_share_min": 1 - percent / 100,
        "check_codes": [c.code for c in catalog()],
    }


def _rows(outcome: gx_adapter.Outcome, rows: int | None) -> int | None:
    """The rows a row-level expectation was about (as `_detail` counts them)."""
    if outcome.unexpected_count is None:
        return None
    return outcome.element_count if rows is None else rows


def _detail(outcome: gx_adapter.Outcome, rows: int | None) -> str:
    """How many rows fail, of the rows the expectation is about: `rows` for a
    `SELECTED` column, the whole table otherwise."""
    rows = outcome.element_count if rows is None else rows
    if outcome.unexpected_count is not None and rows:
        share = f"{outcome.unexpected_count / rows:.1%}"
        return text("details.gx.share", count=outcome.unexpected_count, rows=rows, share=share)
    if outcome.unexpected_count is not None:
        return text("details.gx.count", count=outcome.unexpected_count, rows=rows)
    return text("details.gx.observed", observed=outcome.observed)


def preload() -> None:
    """Import Great Expectations and build its context and suites ahead of `validate`.

    GX's import alone takes seconds. The pipeline may run this in a background
    thread at the start of a run, while polars and DuckDB work (they release
    the GIL); `validate` then waits for it if it has not finished, and uses what
    it built. Calling `validate` without it is the same, only slower.
    """
    gx_adapter.preload([s.spec for s in suites()])


def _arrow(make: Callable[[], pl.DataFrame], suite: Suite, of_rows: dict[str, int]) -> pa.Table:
    """The columns the suite reads (one at least: a table-level expectation still
    counts the rows), handed to Arrow without copying text (string views).
    Categorical columns cost a conversion: only those read are converted.
    The rows its `SELECTED` columns are about go into `of_rows`."""
    frame = make()
    of_rows.update(selected_rows({suite.table: frame}))
    read = gx_adapter.needed_columns(suite.spec) or frame.columns[:1]
    return frame.select(read).to_arrow(compat_level=pl.CompatLevel.newest())


def validate(
    members: pl.DataFrame,
    pairs: pl.DataFrame,
    findings: pl.DataFrame,
    roster_rows: int,
    filing_rows: int,
    policy: Policy,
) -> Quality:
    makers = _makers(members, pairs, findings)
    of_rows: dict[str, int] = {}  # filled as each table is made (`_arrow`)
    params = parameters(policy, roster_rows, filing_rows)
    known = {s.name: s for s in suites()}
    unknown = sorted(s.table for s in known.values() if s.table not in makers)
    if unknown:
        raise InvariantError(f"checks/gx/: no table named {unknown}; there are {sorted(makers)}")
    batches = [(s.spec, partial(_arrow, makers[s.table], s, of_rows)) for s in known.values()]
    validation = gx_adapter.validate(batches, params)
    by_name = {c.name: c for s in known.values() for c in s.checks}
    order = {c.name: i for i, c in enumerate(by_name.values())}
    outcomes = tuple(
        Outcome(
            by_name[o.name],
            o.success,
            o.unexpected_count,
            _detail(
                o,
                rows := None if (column := by_name[o.name].column) is None else of_rows.get(column),
            ),
            _rows(o, rows),
            o.observed,
        )
        for o in sorted(validation.outcomes, key=lambda o: order[o.name])
    )
    return Quality(outcomes, {name: s.source for name, s in known.items()}, validation)
