"""Findings: the one shape of every check's result, and the catalog that defines them.

A finding is one row of `findings.csv` (SPEC §8). Three producers make them:
Pandera's input validation (`recon.validate`), the SQL stages
(`sql/08_input_finding.sql`, `sql/09_finding.sql`) and Great Expectations
(`recon.gx_checks`). Each hands its frame to `conform` where it is made, and
the pipeline conforms the frame they make together: a producer that gives a
finding of another shape is a bug of recon (exit 3), caught where it is made
rather than in a report that silently miscounts it.

The severity of a check is the catalog's (`checks/catalog.toml`, and each
GX suite for its `gx.*` checks): one file decides what blocks issuance.
Severity order and check titles are read from here by everything that sorts
or names findings.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

import polars as pl

from recon.errors import InvariantError
from recon.resources import shipped

if TYPE_CHECKING:
    import pandera.polars as pa

Severity = Literal["error", "warning", "info"]
# Worst first: the order of every count, list and comparison of severities.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
SOURCES = ("roster", "filings")

# findings.csv's columns, in its order (SPEC §8).
FINDING_SCHEMA = {
    "check": pl.String,
    "severity": pl.String,
    "member_id": pl.String,
    "source": pl.String,
    "row": pl.Int64,
    "field": pl.String,
    "detail": pl.String,
}
# The roster row of the member a finding concerns: read by the decisions and the
# report's lists, never written. A producer that cannot know it yet (validation,
# before matching; GX, about whole tables) leaves the column out.
ROSTER_ROW = "roster_row"


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    title_ja: str
    title_en: str
    action_ja: str
    action_en: str

    def title(self, lang: str) -> str:
        return self.title_ja if lang == "ja" else self.title_en

    def action(self, lang: str) -> str:
        return self.action_ja if lang == "ja" else self.action_en


@cache
def catalog() -> tuple[Check, ...]:
    data = tomllib.loads((shipped("checks") / "catalog.toml").read_text(encoding="utf-8"))
    return tuple(Check(**entry) for entry in data["check"])


def all_checks() -> tuple[Check, ...]:
    """Every check a finding may carry: the catalog's, then the gx.* checks of the suites."""
    from recon.gx_checks import gx_catalog  # reads the suites' JSON; gx_checks imports this

    return catalog() + gx_catalog()


def titles(lang: str) -> dict[str, str]:
    """check code -> its title in `lang` (ja, or en), for every check."""
    return {c.code: c.title(lang) for c in all_checks()}


def catalog_frame() -> pl.DataFrame:
    """The catalog as a frame, with its order, for joins in polars and DuckDB."""
    checks = catalog()
    return pl.DataFrame(
        {
            "check": [c.code for c in checks],
            "severity": [c.severity for c in checks],
            "check_order": list(range(len(checks))),
        }
    )


def with_severity(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (the finding columns but severity) with each check's severity from the catalog."""
    severity = {c.code: c.severity for c in catalog()}
    return frame.with_columns(
        severity=pl.col("check").replace_strict(severity, default=None, return_dtype=pl.String)
    ).select(*FINDING_SCHEMA, *(c for c in frame.columns if c not in FINDING_SCHEMA))


def empty_findings() -> pl.DataFrame:
    """No findings, in the shape of a producer that has no roster row to give."""
    return pl.DataFrame(schema=FINDING_SCHEMA)


# --- the finding, as a Pandera model --------------------------------------------------------

_SEVERITY_CHECK = "severity is the catalog's"


def _severity_is_the_catalogs(data: pa.PolarsData) -> pl.LazyFrame:
    expected = {c.code: c.severity for c in all_checks()}
    catalog_says = pl.col("check").replace_strict(expected, default=None, return_dtype=pl.String)
    # An unknown check is the `check` column's failure, not this one's.
    return data.lazyframe.select(catalog_says.is_null() | (catalog_says == pl.col("severity")))


@cache
def schema() -> pa.DataFrameSchema:
    """The finding: exactly these columns and types, known checks, the catalog's severities."""
    # Imported when first needed: a run imports it in the background (`validate.preload`).
    import pandera.polars as pa

    codes = [c.code for c in all_checks()]
    row = pa.Check.ge(1, error="a 1-based data row")

    def column(name: str, *checks: pa.Check, nullable: bool = False, required: bool = True):
        dtype = FINDING_SCHEMA.get(name, pl.Int64)
        return pa.Column(dtype, list(checks), nullable=nullable, required=required)

    return pa.DataFrameSchema(
        {
            "check": column("check", pa.Check.isin(codes, error="a check code of the catalog")),
            "severity": column("severity", pa.Check.isin(SEVERITIES, error="/".join(SEVERITIES))),
            "member_id": column("member_id", nullable=True),
            "source": column("source", pa.Check.isin(SOURCES, error="roster or filings")),
            "row": column("row", row, nullable=True),  # None for GX: about whole tables
            "field": column("field", nullable=True),
            "detail": column("detail"),
            ROSTER_ROW: column(ROSTER_ROW, row, nullable=True, required=False),
        },
        checks=[pa.Check(_severity_is_the_catalogs, error=_SEVERITY_CHECK)],
        strict=True,
        name="finding",
    )


def conform(frame: pl.DataFrame, producer: str) -> pl.DataFrame:
    """`frame` unchanged if every row is a finding; else InvariantError (exit 3) saying why.

    The message names columns, checks and the offending codes and severities,
    never a detail: a detail may quote what the operator's files hold.
    """
    import pandera.polars as pa

    try:
        schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        raise InvariantError(
            f"{producer} made findings that are not of the finding's shape "
            f"(recon/findings.py): {_reasons(errors.failure_cases, frame)}"
        ) from None
    return frame


def _reasons(cases: pl.DataFrame, frame: pl.DataFrame) -> str:
    reasons = []
    for check, column, group, rows in _grouped(cases):
        if check == "column_in_dataframe":
            reasons.append(f"column {', '.join(map(repr, group))} missing")
        elif check == "column_in_schema":
            reasons.append(f"column {', '.join(map(repr, group))} is no column of a finding")
        elif check.startswith("dtype("):
            reasons.append(f"column {column!r} is {group[0]}, not {check[6:-1]}")
        elif check == _SEVERITY_CHECK:
            pairs = _severity_pairs(cases, frame)
            if pairs:  # else a missing or mistyped column, reported as such
                reasons.append(f"{_SEVERITY_CHECK}, not for {pairs}")
        elif check == "not_nullable":
            reasons.append(f"column {column!r} is empty in {rows} rows")
        elif column in ("check", "severity", "source"):  # codes: safe to quote
            shown = ", ".join(repr(v) for v in group[:5])
            reasons.append(f"column {column!r} must be {check}, not {shown}")
        else:
            reasons.append(f"column {column!r} must be {check} ({rows} rows are not)")
    return "; ".join(reasons)


def _grouped(cases: pl.DataFrame) -> list[tuple[str, str | None, list, int]]:
    """(check, column, its distinct failure cases, how many) per failed check."""
    return (
        cases.group_by("check", "column", maintain_order=True)
        .agg(pl.col("failure_case").unique(maintain_order=True), pl.len())
        .rows()
    )


def _severity_pairs(cases: pl.DataFrame, frame: pl.DataFrame) -> str:
    rows = cases.filter(pl.col("check") == _SEVERITY_CHECK)["index"].drop_nulls()
    if rows.is_empty():
        return ""
    expected = {c.code: c.severity for c in all_checks()}
    pairs = frame[rows.to_list()].select("check", "severity").unique(maintain_order=True).rows()
    return ", ".join(f"{c} as {s} (the catalog says {expected[c]})" for c, s in pairs[:5])
