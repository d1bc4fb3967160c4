"""Step 3, validate: Pandera models of both inputs -> `input.invalid_value` findings.

The models check structure and value domains on the normalized text. Each
failure becomes a finding anchored on the file row (never a bare position),
and the invalid cell is set to null in the frame handed on, so that later
steps never compare a value nobody could read. Dates leave here typed.

Pandera validates a LazyFrame's schema only; the data checks run because an
eager DataFrame is validated (tests/test_validate.py proves they do).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from recon import texts
from recon.columns import JA_HEADER, SCHEMAS, Column, Kind, Source, as_date
from recon.details import sentence
from recon.findings import conform, empty_findings, with_severity
from recon.normalize.codes import CODES
from recon.read import ROW

if TYPE_CHECKING:
    import pandera.polars as pa

# Pandera's import sets these two (for pyspark) when they are missing, and it is
# imported on a background thread while polars works (`preload`): setenv while
# polars reads the environment from another thread is a known cause of crashes.
# Set here, at recon's import in the main thread, to what Pandera would set.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


def _is_iso_date(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col(data.key).is_null() | _as_date(data.lazyframe, data.key).is_not_null()
    )


def _as_date(frame: pl.DataFrame | pl.LazyFrame, name: str) -> pl.Expr:
    """Date column `name` as a Date: the one normalize put beside it, else parsed here
    (a frame that did not come through normalize)."""
    if as_date(name) in frame.collect_schema().names():
        return pl.col(as_date(name))
    return pl.col(name).str.to_date("%Y-%m-%d", strict=False)


# Each check is named by what it finds wrong (the catalog's `details.invalid.<name>`);
# the finding's sentence is written from the name in the chosen language.
_DIGITS = {
    "insurer_number": r"^[0-9]{8}$",
    "branch": r"^[0-9]{2}$",
    "postal_code": r"^[0-9]{7}$",
}


def preload() -> None:
    """Import Pandera (~0.6 s with pandas) ahead of the first validation.

    Only `validate` and `recon.findings` need it, and they import it when
    first called; the pipeline calls this in a background thread at the start
    of a run, so the files are read meanwhile instead of after it.
    """
    import pandera.polars  # noqa: F401


def _checks(column: Column) -> list[pa.Check]:
    import pandera.polars as pa

    if column.kind == "date":
        return [pa.Check(_is_iso_date, name="date")]
    if column.kind in _DIGITS:
        return [pa.Check.str_matches(_DIGITS[column.kind], error=column.kind)]
    if column.kind in CODES:
        return [pa.Check.isin(sorted(CODES[column.kind]), error="codes")]
    if column.max_length:
        return [pa.Check.str_length(max_value=column.max_length, error="max_length")]
    return []


def _accepted(kind: Kind, lang: str) -> str:
    """The codes a column accepts, a sex code with its word: 1（男）、2（女）、3（未設定）."""
    codes = sorted(CODES.get(kind, {}))
    if kind == "sex":
        codes = [
            texts.text(
                "details.invalid.code_word",
                lang,
                code=c,
                word=texts.text(f"details.sex_word.{c}", lang),
            )
            for c in codes
        ]
    return texts.text("details.invalid.code_separator", lang).join(codes)


def _problems(source: Source, lang: str) -> pl.DataFrame:
    """(column, check) -> what is wrong, in `lang`: a handful of rows per file kind."""
    rows = [("", "not_nullable", texts.text("details.invalid.required", lang))]
    for c in SCHEMAS[source]:
        for check in _checks(c):
            name = str(check.error or check.name)  # pandera names every check it builds
            values = {
                "codes": _accepted(c.kind, lang),
                "max_length": c.max_length,
            }
            rows.append((c.name, name, texts.text(f"details.invalid.{name}", lang, **values)))
    return pl.DataFrame(rows, schema=["column", "check", "problem"], orient="row")


@cache
def schema(source: Source) -> pa.DataFrameSchema:
    import pandera.polars as pa

    columns = {
        c.name: pa.Column(
            pl.Categorical if c.kind in CODES else pl.String,
            checks=_checks(c),
            nullable=not c.required,
        )
        for c in SCHEMAS[source]
        if c.kind != "my_number"  # reported as my_number.* findings, never as a raw value
    }
    return pa.DataFrameSchema(columns)


def validate(frame: pl.DataFrame, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(typed frame with unreadable cells nulled, `input.invalid_value` findings)."""
    import pandera.polars as pa

    try:
        schema(source).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        findings = conform(_findings(cases, frame, source), f"validation of the {source}")
        return _typed(frame, cases, source), findings
    return _typed(frame, None, source), empty_findings()


# A value quoted in a finding is cut here: a 1 MB cell must not make a 1 MB finding.
_QUOTE_LIMIT = 80


def _quoted_value(value: pl.Expr) -> pl.Expr:
    return (
        pl.when(value.str.len_chars() > _QUOTE_LIMIT)
        .then(value.str.slice(0, _QUOTE_LIMIT) + pl.lit("…"))
        .otherwise(value)
    )


def _findings(cases: pl.DataFrame, frame: pl.DataFrame, source: Source) -> pl.DataFrame:
    rows = (
        frame.select(pl.col(ROW))
        .with_row_index("index")
        .with_columns(pl.col("index").cast(pl.Int32))
    )
    lang = texts.current()
    problems = _problems(source, lang)
    cases = cases.with_columns(pl.col("check").cast(pl.String), pl.col("column").cast(pl.String))
    # A required cell is required whichever column it is in.
    by_column = cases.join(problems, on=["column", "check"], how="left").join(
        problems.filter(pl.col("column") == "").drop("column"),
        on="check",
        how="left",
        suffix="_any",
    )
    problem = pl.coalesce("problem", "problem_any", pl.col("check"))
    quoted = sentence(
        texts.text("details.invalid.value", lang),
        {"problem": problem, "value": _quoted_value(pl.col("failure_case").cast(pl.String))},
    )
    said = pl.when(pl.col("check") == "not_nullable").then(problem).otherwise(quoted)
    field = pl.col("column")
    # The Japanese header names the column to a Japanese reader only.
    header = field.replace_strict(JA_HEADER, default="") if lang == "ja" else pl.lit("")
    values = {"field": field, "header": header, "problem": said}
    detail = (
        pl.when(header == "")
        .then(sentence(texts.text("details.invalid.cell_no_header", lang), values))
        .otherwise(sentence(texts.text("details.invalid.cell", lang), values))
    )
    return with_severity(
        by_column.join(rows, on="index", how="left")
        .select(
            pl.lit("input.invalid_value").alias("check"),
            pl.lit(None, pl.String).alias("member_id"),
            pl.lit(source).alias("source"),
            pl.col(ROW),
            field.alias("field"),
            detail.alias("detail"),
        )
        .sort(ROW, "field")
    )


def _typed(frame: pl.DataFrame, cases: pl.DataFrame | None, source: Source) -> pl.DataFrame:
    """Unreadable cells nulled, dates as Date."""
    dates = [c.name for c in SCHEMAS[source] if c.kind == "date"]
    frame = frame.with_columns(_as_date(frame, d).alias(d) for d in dates).drop(
        [as_date(d) for d in dates], strict=False
    )
    if cases is not None:
        unreadable = cases.filter(pl.col("column").is_not_null()).join(
            frame.select(ROW).with_row_index("index").with_columns(pl.col("index").cast(pl.Int32)),
            on="index",
        )
        frame = frame.with_columns(
            pl.when(pl.col(ROW).is_in(rows)).then(None).otherwise(pl.col(column)).alias(column)
            for column, rows in unreadable.group_by("column").agg(pl.col(ROW)).iter_rows()
        )
    return frame
